"""/preview/evaluate: the cards an EHR would get for the same request, never recorded; off/auto/on; one-line errors."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from tests.utils import clinical as c

POSITIVE = "her2-positive-ihc2-ish-amplified"  # IHC 2+ ISH amplified, cT stage IIB, LVEF 62 %
LOW = "her2-low-metastatic-after-chemotherapy"


def _evaluate(client: TestClient, **ask: Any) -> Any:
    return client.post("/preview/evaluate", json={"language": "en", **ask})


def _without_uuids(node: Any) -> Any:
    """Card and suggestion uuids are new on every call; everything else must be identical."""
    if isinstance(node, dict):
        return {k: _without_uuids(v) for k, v in node.items() if k != "uuid"}
    if isinstance(node, list):
        return [_without_uuids(v) for v in node]
    return node


def _cards_metric(client: TestClient) -> float:
    lines = client.get("/metrics").text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("her2_cds_cards_total{"))


def _bundle(*resources: dict[str, Any]) -> str:
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})


@pytest.mark.parametrize(
    ("hook", "example", "orders", "language"),
    [
        ("patient-view", POSITIVE, [], "en"),
        ("patient-view", POSITIVE, [], "zh-CN"),
        ("order-select", LOW, ["trastuzumab-deruxtecan"], "en"),
        ("order-sign", POSITIVE, ["ogivri"], "zh-CN"),
        ("order-sign", "her2-ihc2-awaiting-ish", ["trastuzumab"], "en"),
    ],
)
def test_preview_cards_are_the_cards_an_ehr_gets_for_the_same_request(
    client: TestClient, hook: str, example: str, orders: list[str], language: str
) -> None:
    preview = _evaluate(client, hook=hook, example=example, orders=orders, language=language)
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert answer["cards"], "every case here has cards"
    direct = client.post(f"/cds-services/{answer['service']}?lang={language}", json=answer["request"])
    assert direct.status_code == 200
    assert answer["service"] == f"her2-{hook}"
    assert _without_uuids(answer["cards"]) == _without_uuids(direct.json()["cards"])
    assert len(answer["detailHtml"]) == len(answer["cards"])


def test_a_preview_is_never_recorded_as_issued_cards_nor_counted_in_card_metrics(client: TestClient) -> None:
    issued = client.app.state.issued_cards  # type: ignore[attr-defined]
    before_metric = _cards_metric(client)
    answer = _evaluate(client, hook="order-sign", example=LOW, orders=["trastuzumab-deruxtecan"]).json()
    assert answer["cards"]
    assert issued.count() == 0
    assert _cards_metric(client) == before_metric
    # The same request sent as an EHR sends it is recorded: the check above can fail.
    client.post(f"/cds-services/{answer['service']}", json=answer["request"])
    assert issued.count() == len(answer["cards"])
    assert _cards_metric(client) == before_metric + len(answer["cards"])


def test_the_facts_panel_shows_her2_status_with_its_basis_setting_and_lvef(client: TestClient) -> None:
    answer = _evaluate(client, hook="patient-view", example=POSITIVE).json()
    facts = {f["label"]: f for f in answer["facts"]}
    her2 = facts["HER2 status"]
    assert her2["value"] == "HER2-positive"
    basis = {s["reference"]: s for s in her2["sources"]}
    assert any(ref.startswith("Observation/") and s["date"] == "2025-01-10" for ref, s in basis.items())
    assert any(s["date"] == "2025-01-17" for s in basis.values()), "the ISH result is part of the basis"
    assert facts["Disease setting"]["value"] == "early"
    assert facts["Stage group"]["value"] == "IIB"
    assert facts["LVEF"]["value"] == "62 %"
    assert facts["Pregnancy status"]["value"] == "not recorded"
    chinese = _evaluate(client, hook="patient-view", example=POSITIVE, language="zh-CN").json()
    assert {"HER2状态", "疾病阶段", "LVEF"} <= {f["label"] for f in chinese["facts"]}


def test_the_facts_name_the_line_of_therapy_and_exposures_of_a_metastatic_patient(client: TestClient) -> None:
    answer = _evaluate(client, hook="patient-view", example="her2-positive-metastatic-second-line").json()
    facts = {f["label"]: f for f in answer["facts"]}
    assert facts["Next anti-HER2 line (metastatic)"]["value"] == "2"
    received = facts["Drugs received"]
    assert "trastuzumab" in received["value"] and "pertuzumab" in received["value"]
    assert all(s["reference"].startswith("Medication") for s in received["sources"])
    assert facts["Trastuzumab sensitivity"]["value"] == "trastuzumab-resistant"


def test_every_order_offered_is_recognised_as_an_anti_her2_order(client: TestClient) -> None:
    choices = client.get("/preview/options").json()["orders"]
    assert {"trastuzumab-deruxtecan", "pyrotinib", "ogivri", "zercepac", "phesgo"} <= {o["value"] for o in choices}
    assert all(o["en"] and o["zh-CN"] for o in choices)
    for choice in choices:
        answer = _evaluate(client, hook="order-sign", example=POSITIVE, orders=[choice["value"]]).json()
        rules = [card["source"]["topic"]["code"] for card in answer["cards"]]
        ordered = [card for card in answer["cards"] if "MedicationRequest/draft-1" in card.get("detail", "")]
        assert ordered and "order-readable" not in rules, (choice["value"], rules)


def test_card_text_is_escaped_never_markup(client: TestClient) -> None:
    hostile = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    cancer = c.condition("254837009", f"Malignant neoplasm of breast {hostile}")
    bundle = _bundle(c.patient(), cancer, c.her2_ihc("3+"))
    answer = _evaluate(client, hook="patient-view", bundle=bundle).json()
    html = "".join(answer["detailHtml"])
    assert "&lt;img src=x onerror=alert(1)&gt;" in html, "the chart's text reaches the card, escaped"
    assert "<img" not in html and 'href="javascript:' not in html


@pytest.mark.parametrize(
    ("ask", "status", "says"),
    [
        ({"hook": "patient-view", "bundle": "{not json"}, 400, "not acceptable JSON"),
        ({"hook": "patient-view", "bundle": "   "}, 400, "empty"),
        ({"hook": "patient-view", "bundle": "[1, 2]"}, 400, "must be a JSON object"),
        ({"hook": "patient-view", "bundle": _bundle(c.her2_ihc("3+"))}, 400, "no Patient"),
        ({"hook": "order-sign", "example": POSITIVE, "orders": ["aspirinumab"]}, 400, "unknown drug 'aspirinumab'"),
        ({"hook": "order-sign", "example": POSITIVE}, 400, "needs at least one order"),
        ({"hook": "patient-view", "example": "../../etc/passwd"}, 400, "no example patient named"),
        ({"hook": "patient-view"}, 400, "choose an example patient or paste a FHIR Bundle"),
        ({"hook": "patient-view", "example": POSITIVE, "bundle": "{}"}, 400, "one of them"),
        ({"hook": "encounter-start", "example": POSITIVE}, 400, "hook:"),
        ({"hook": "patient-view", "example": POSITIVE, "language": "fr"}, 400, "language:"),
    ],
)
def test_errors_are_one_clear_line_never_a_500(client: TestClient, ask: dict[str, Any], status: int, says: str) -> None:
    response = client.post("/preview/evaluate", json=ask)
    assert response.status_code == status
    error = response.json()["error"]
    assert says in error and "\n" not in error


def test_a_body_that_is_not_json_is_one_line_too(client: TestClient) -> None:
    response = client.post("/preview/evaluate", content=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "request body is not acceptable JSON: not valid JSON"


def test_a_pasted_bundle_over_the_request_cap_is_refused_in_one_line(settings: Settings) -> None:
    small = settings.model_copy(update={"max_request_bytes": 4096})
    with TestClient(create_app(small)) as client:
        big = _bundle(c.patient(), *[c.her2_ihc("3+") for _ in range(40)])
        response = _evaluate(client, hook="patient-view", bundle=big)
        assert response.status_code == 413
        assert response.json()["error"] == "the bundle is larger than the 4096 bytes a request may be"


def _app(settings: Settings, **update: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update=update))) as client:
        yield client


@pytest.mark.parametrize(
    ("preview", "host", "served"),
    [
        ("auto", "127.0.0.1", True),
        ("auto", "::1", True),
        ("auto", "0.0.0.0", False),
        ("on", "0.0.0.0", True),
        ("off", "127.0.0.1", False),
    ],
)
def test_preview_is_served_per_setting_and_bind_host(settings: Settings, preview: str, host: str, served: bool) -> None:
    for client in _app(settings, preview=preview, host=host, allow_insecure=True):
        expected = 200 if served else 404
        assert client.get("/preview").status_code == expected
        assert client.get("/preview/options").status_code == expected
        assert _evaluate(client, hook="patient-view", example=POSITIVE).status_code == expected
        assert client.get("/healthz").status_code == 200


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2_CDS_PREVIEW", "off")
    assert Settings().preview == "off"
    monkeypatch.setenv("HER2_CDS_PREVIEW", "sometimes")
    with pytest.raises(ValueError, match="preview"):
        Settings()


def test_preview_stays_out_of_the_openapi_schema(settings: Settings) -> None:
    for client in _app(settings, api_docs="public"):
        paths = client.get("/openapi.json").json()["paths"]
        assert "/cds-services/her2-patient-view" in paths
        assert not [p for p in paths if p.startswith("/preview")]


def test_the_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/preview")
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["preview/assets/preview.css", "preview/assets/preview.js"]
    for text in [page.text, *(client.get(f"/{a}").text for a in assets)]:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), "no CDN, no network"
    assert client.get("/preview/assets/index.html").status_code == 404
    assert client.get("/preview/assets/..%2F..%2Fconfig.py").status_code == 404


def test_the_examples_offered_are_the_bundles_of_the_examples_dir(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "only-one.json").write_text(_bundle(c.patient(), c.breast_cancer(), c.her2_ihc("3+")))
    (folder / "notes.txt").write_text("not a bundle")
    for client in _app(settings, examples_dir=folder):
        assert client.get("/preview/options").json()["examples"] == ["only-one"]
        answer = _evaluate(client, hook="patient-view", example="only-one").json()
        assert {f["label"]: f["value"] for f in answer["facts"]}["HER2 status"] == "HER2-positive"
