"""The renderer shares parts validated once (links, override reasons, a row's source) among its cards
(render.py): every card it makes must still pass the response models' full validation, unchanged, and the
shortcuts must give what validation gives."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from benchmarks.bodies import HOOKS, body
from cds_service.clinical.render import ORDERABLES, Renderer
from cds_service.hookrequest import build_request
from cds_service.hooks.response import HookResponse, _new_uuid, dump


def _fully_validated(answer: dict[str, Any]) -> list[dict[str, Any]]:
    validated = HookResponse.model_validate(answer)
    assert dump(validated) == answer  # nothing the validation would refuse, add or normalise (URLs ...)
    cards: list[dict[str, Any]] = answer["cards"]
    return cards


@pytest.mark.parametrize("service", sorted(HOOKS))
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_card_of_the_benchmark_records_passes_full_validation(
    client: TestClient, service: str, lang: str
) -> None:
    templates = {s["id"]: s["prefetch"] for s in client.get("/cds-services").json()["services"]}
    for size in (10, 300):
        response = client.post(
            f"/cds-services/{service}?lang={lang}",
            content=body(service, size, templates[service]),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["cards"]
        _fully_validated(answer)


def test_every_card_of_the_example_records_passes_full_validation(client: TestClient) -> None:
    """The example charts, in both languages, through patient-view and through order-sign (with a suggestion
    card or two: an echo or a HER2 test to order)."""
    state = client.app.state  # type: ignore[attr-defined]
    bundles = sorted(Path(state.settings.examples_dir).glob("*.json"))
    assert bundles
    seen: list[dict[str, Any]] = []
    for path in bundles:
        resources = [e["resource"] for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]
        for service, hook, orders in (
            ("her2-patient-view", "patient-view", ()),
            ("her2-order-sign", "order-sign", ("trastuzumab", "pertuzumab")),
        ):
            templates = dict(state.catalog[service].prefetch)
            request = build_request(hook, resources, templates, state.engine.terminology, orders=orders)
            for lang in ("en", "zh-CN"):
                response = client.post(f"/cds-services/{service}?lang={lang}", json=request)
                assert response.status_code == 200, (path.name, response.text)
                seen += _fully_validated(response.json())
    assert any("suggestions" in card for card in seen)
    assert any("links" in card and len(card["links"]) > 1 for card in seen)  # a regulator's database too


@pytest.mark.parametrize("kind", sorted(ORDERABLES))
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_suggested_order_is_the_fhir_validated_one_for_this_patient(client: TestClient, kind: str, lang: str) -> None:
    """The ServiceRequest is validated once per kind and language, then copied per patient: the copy must be
    what validating it for this patient gives, and never shared between cards."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    for patient in ("p1", "bench-1", "A.b-9", "not a FHIR id"):
        renderer = Renderer(engine.knowledge, engine.terminology, lang, patient)
        resource = renderer.suggestion(kind)["actions"][0]["resource"]
        assert resource == renderer.draft_order(kind, patient)
        assert resource["subject"] == {"reference": f"Patient/{patient}"}
    renderer = Renderer(engine.knowledge, engine.terminology, lang, "p1")
    first, second = (renderer.suggestion(kind)["actions"][0]["resource"] for _ in range(2))
    assert first is not second and first["code"] is not second["code"]


def test_card_uuids_are_random_version_4_uuids() -> None:
    made = [_new_uuid() for _ in range(500)]
    assert len(set(made)) == len(made)
    for value in made:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


# What render.py words once per knowledge base and language: each keyed by a row id (or a constant).
WORDED = {"titles", "level", "grading", "regimens", "sources", "row", "named", "attribution", "recommends", "action"}
WORDED |= {"order", "url", "override", "links", "source", "version"}
# Keyed by an orderable, a URL, an override code, the version, a jurisdiction (links).
CONSTANT = ("order", "url", "override", "version", "links")


def test_what_is_worded_once_is_keyed_by_knowledge_alone(client: TestClient) -> None:
    """The table of wording kept across calls holds a row's or a constant's wording, never a key made of
    one patient's matches (which would grow with every new combination)."""
    templates = {s["id"]: s["prefetch"] for s in client.get("/cds-services").json()["services"]}
    for service in sorted(HOOKS):
        for lang in ("en", "zh-CN"):
            client.post(
                f"/cds-services/{service}?lang={lang}",
                content=body(service, 300, templates[service]),
                headers={"Content-Type": "application/json"},
            )
    engine = client.app.state.engine  # type: ignore[attr-defined]
    words = Renderer(engine.knowledge, engine.terminology, "en", "p1")._words
    assert words
    rows = set(engine.knowledge.entries)
    for key in words:
        kind, *rest = key
        assert kind in WORDED, kind
        assert len(rest) <= 3 and all(not isinstance(k, str) or k in rows or kind in CONSTANT for k in rest)
