"""History records that name their drug only by a Medication reference: the Medication a prefetch carries
along (`_include`) is read, and one that cannot be read is said on a card, never silently left out of the
line-of-therapy count."""

from typing import Any

from fastapi.testclient import TestClient

from cds_service.hookrequest import prefetch_for
from tests.utils import clinical as c
from tests.utils import factories as f

from . import records as r
from .helpers import PATIENT_VIEW, Card, Resource, post, recommendation_rows, topics

TRASTUZUMAB = {"system": f.RXNORM, "code": "224905", "display": "trastuzumab"}


def _by_reference(statement: Resource, medication_id: str, *, display: str | None = None) -> Resource:
    statement = dict(statement)
    del statement["medicationCodeableConcept"]
    statement["medicationReference"] = {"reference": f"Medication/{medication_id}"}
    if display:
        statement["medicationReference"]["display"] = display
    return statement


def _coded() -> list[Resource]:
    """Metastatic HER2+ after first-line trastuzumab + docetaxel: the trastuzumab record decides the line."""
    return [
        *r.de_novo_metastatic(),
        c.given("docetaxel", start=c.ago(months=13), end=c.ago(months=9)),
        c.given("trastuzumab", start=c.ago(months=13), end=c.ago(months=1)),
    ]


def _record() -> list[Resource]:
    """The same, with the trastuzumab record by reference only."""
    record = _coded()
    return [
        _by_reference(x, "med-h") if x.get("resourceType") == "MedicationStatement" and "trastuzumab" in str(x) else x
        for x in record
    ]


def _view(client: TestClient, templates: dict[str, str], resources: list[Resource], **extra: Any) -> list[Card]:
    prefetch = prefetch_for(templates, [c.patient(), *resources], "p1")
    for key, medication in extra.items():
        prefetch[key]["entry"].append({"resource": medication, "search": {"mode": "include"}})
    return post(client, PATIENT_VIEW, f.hook_request("patient-view", prefetch=prefetch))


def test_an_unreadable_medication_reference_is_said(client: TestClient, templates: dict[str, str]) -> None:
    cards = _view(client, templates, _record())

    warning = next(card for card in cards if card["summary"].startswith("Drug not readable in 1 medication record"))
    assert warning["indicator"] == "warning"
    assert "Medication/med-h" in warning["detail"] and "Lines of therapy" in warning["detail"]


def test_a_medication_the_prefetch_includes_is_read(client: TestClient, templates: dict[str, str]) -> None:
    medication = {"resourceType": "Medication", "id": "med-h", "code": {"coding": [TRASTUZUMAB]}}
    with_include = _view(client, templates, _record(), medicationStatements=medication)
    coded = _view(client, templates, _coded())

    assert not any("not readable" in card["summary"] for card in with_include), topics(with_include)
    assert recommendation_rows(with_include) == recommendation_rows(coded)


def test_a_reference_with_a_drug_name_is_read_by_its_name(client: TestClient, templates: dict[str, str]) -> None:
    named = [
        _by_reference(x, "med-h", display="Trastuzumab 440 mg")
        if x.get("resourceType") == "MedicationStatement" and "trastuzumab" in str(x)
        else x
        for x in _coded()
    ]
    cards = _view(client, templates, named)

    assert not any("not readable" in card["summary"] for card in cards)
    assert recommendation_rows(cards) == recommendation_rows(_view(client, templates, _coded()))


def test_the_warning_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    prefetch = prefetch_for(templates, [c.patient(), *_record()], "p1")
    cards = post(client, PATIENT_VIEW, f.hook_request("patient-view", prefetch=prefetch), lang="zh-CN")

    assert any(card["summary"].startswith("1条用药记录无法读取药物") for card in cards)


def test_without_the_medication_the_record_reads_differently(client: TestClient, templates: dict[str, str]) -> None:
    """Control for the include test: the reference really carries the trastuzumab that decides the options."""
    assert recommendation_rows(_view(client, templates, _record())) != recommendation_rows(
        _view(client, templates, _coded())
    )
