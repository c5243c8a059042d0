"""`her2-cds feedback --summary`: feedback posted through the API on real cards, counted per rule, on SQLite and
PostgreSQL, read back from the command's text and JSON output."""

import json
import re
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.cli import main
from cds_service.config import Settings
from tests.scenarios import records
from tests.utils import factories as f

Card = dict[str, Any]


def _rules(card: Card) -> list[str]:
    """What the service records for a card: its topic, then every row the card shows."""
    shown = card.get("extension", {}).get("org.her2-cds.card", {}).get("rules", [])
    return list(dict.fromkeys([card["source"]["topic"]["code"], *shown]))


def _answer(index: int, card: Card) -> dict[str, Any]:
    """Every third card accepted; the others overridden, by a reason code of the card or by a comment only."""
    item: dict[str, Any] = {"card": card["uuid"], "outcomeTimestamp": "2026-12-01T10:00:00Z"}
    if index % 3 == 0:
        suggestion = (card.get("suggestions") or [{"uuid": "chosen"}])[0].get("uuid", "chosen")
        return {**item, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}]}
    codes = [reason["code"] for reason in card.get("overrideReasons") or []] or ["mdt-decision"]
    if index % 3 == 1:
        return {**item, "outcome": "overridden", "overrideReason": {"reason": {"code": codes[0]}}}
    return {**item, "outcome": "overridden", "overrideReason": {"userComment": "discussed at the tumour board"}}


def _expected(answered: list[tuple[Card, dict[str, Any]]], unanswered: list[Card], version: str) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for card, item in [*answered, *((card, None) for card in unanswered)]:
        for rule in _rules(card):
            entry = expected.setdefault(
                rule, {"issued": 0, "accepted": 0, "overridden": 0, "reasons": Counter(), "versions": {version: 0}}
            )
            entry["issued"] += 1
            entry["versions"][version] += 1
            if item is None:
                continue
            entry[item["outcome"]] += 1
            if item["outcome"] == "overridden":
                entry["reasons"][item["overrideReason"].get("reason", {}).get("code", "(no reason code)")] += 1
    return expected


def _parse_text(output: str) -> dict[str, Any]:
    header, *lines = output.strip().splitlines()
    assert re.split(r"\s{2,}", header) == [
        "rule",
        "issued",
        "accepted",
        "overridden",
        "override reasons",
        "knowledge versions",
    ]

    def counts(cell: str) -> dict[str, int]:
        return {} if cell == "-" else {k: int(v) for k, v in (part.split("=") for part in cell.split("; "))}

    parsed = {}
    for line in lines:
        rule, issued, accepted, overridden, reasons, versions = re.split(r"\s{2,}", line)
        parsed[rule] = {
            "issued": int(issued),
            "accepted": int(accepted),
            "overridden": int(overridden),
            "reasons": counts(reasons),
            "versions": counts(versions),
        }
    return parsed


def test_summary_counts_equal_the_feedback_posted_on_issued_cards(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configured = settings.model_copy(update={"database_url": database_url})
    answered: list[tuple[Card, dict[str, Any]]] = []
    unanswered: list[Card] = []
    with TestClient(create_app(configured)) as client:
        version = client.app.state.engine.version.label  # type: ignore[attr-defined]
        templates = dict(client.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]
        for record in (
            records.metastatic_after_first_line(hr=True),
            records.early_before_surgery(),
            records.metastatic_after_two_lines(),
        ):
            body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient(), *record], "p1"))
            cards = client.post("/cds-services/her2-patient-view", json=body).json()["cards"]
            *to_answer, left = cards  # one card per call gets no feedback: issued, neither accepted nor overridden
            items = [_answer(len(answered) + i, card) for i, card in enumerate(to_answer)]
            response = client.post("/cds-services/her2-patient-view/feedback", json={"feedback": items})
            assert response.status_code == 200 and response.json() == {"stored": len(items)}, response.text
            answered += zip(to_answer, items, strict=True)
            unanswered.append(left)
    expected = _expected(answered, unanswered, version)
    assert len(answered) >= 6 and any(e["reasons"] for e in expected.values())

    monkeypatch.setenv("HER2_CDS_DATABASE_URL", database_url)
    assert main(["feedback", "--summary"]) == 0
    text = _parse_text(capsys.readouterr().out)
    assert main(["feedback", "--summary", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)

    assert text == {rule: {**e, "reasons": dict(e["reasons"])} for rule, e in expected.items()}
    from_json = {
        r["rule"]: {
            "issued": r["issued"],
            "accepted": r["accepted"],
            "overridden": r["overridden"],
            "reasons": r["overrideReasons"],
            "versions": r["knowledgeVersions"],
        }
        for r in document["rules"]
    }
    assert from_json == text


def test_summary_of_an_empty_database_says_so(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", database_url)

    assert main(["feedback", "--summary"]) == 0
    assert capsys.readouterr().out.strip() == "no cards recorded yet"
    assert main(["feedback", "--summary", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rules": []}
