"""Issue 7 item 1: only the patient in context's resources become facts; what is left out is said.

Each scenario puts another patient's resource into one prefetch key (or the FHIR server's answer). That
resource, if used, would change a card; the test checks that it did not, and that a `data-identity`
card says how many resources were excluded."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient

from tests.utils import clinical as c
from tests.utils import factories as f

from . import records as r
from .helpers import (
    ORDER_SELECT,
    PATIENT_VIEW,
    Card,
    Resource,
    card_for,
    checked_before_start,
    not_pregnant,
    post,
    recommendation_rows,
    topics,
)

FHIR = "https://fhir.example.org/r4"
OTHER_FORMS = {
    "relative": "Patient/p2",
    "absolute": "https://ehr.example.org/fhir/Patient/p2",
    "versioned": "Patient/p2/_history/2",
    "absolute-versioned": "https://ehr.example.org/fhir/Patient/p2/_history/7",
}


def _foreign(resource: Resource, reference: str = "Patient/p2") -> Resource:
    foreign = copy.deepcopy(resource)
    foreign["id"] = f"foreign-{foreign['id']}"
    foreign["subject"] = {"reference": reference}
    return foreign


def _prefetch(templates: dict[str, str], record: list[Resource]) -> dict[str, Any]:
    return f.prefetch_for(templates, [c.patient(), *record], "p1")


def _inject(prefetch: dict[str, Any], key: str, resource: Resource) -> dict[str, Any]:
    if key == "patient":
        prefetch[key] = resource
    else:
        prefetch[key].setdefault("entry", []).append({"resource": resource, "search": {"mode": "match"}})
    return prefetch


def _view(client: TestClient, prefetch: dict[str, Any], **how: Any) -> list[Card]:
    return post(client, PATIENT_VIEW, f.hook_request("patient-view", prefetch=prefetch), **how)


def _select(client: TestClient, prefetch: dict[str, Any], order: Resource) -> list[Card]:
    body = f.hook_request(
        "order-select",
        prefetch=prefetch,
        selections=[f"MedicationRequest/{order['id']}"],
        draftOrders=f.draft_orders(order),
    )
    return post(client, ORDER_SELECT, body)


def _excluded(cards: list[Card], count: int = 1) -> Card:
    card = card_for(cards, "data-identity")
    assert card["indicator"] == "warning"
    assert f"{count} " in card["summary"]
    return card


# -- one foreign resource in each prefetch key ------------------------------------------------------
Check = Callable[[list[Card]], bool]


def _no_her2_result(cards: list[Card]) -> bool:
    return "her2-missing" in topics(cards)  # the other patient's IHC 3+ was not read


def _hr_negative(cards: list[Card]) -> bool:
    return "HR-negative" in card_for(cards, "T1")["summary"]  # p1's ER-/PR-, not p2's ER+


def _still_early(cards: list[Card]) -> bool:
    rows = recommendation_rows(cards)
    return "stage-conflict" not in topics(cards) and not {"M1", "M3", "M4"} & rows and bool(rows)


def _no_pregnancy(cards: list[Card]) -> bool:
    return all(card["indicator"] != "critical" for card in cards)


def _no_low_lvef(cards: list[Card]) -> bool:
    return "S1" not in topics(cards) and "S2" not in topics(cards)


def _no_ild(cards: list[Card]) -> bool:
    return "S9" not in topics(cards) and card_for(cards, "S6")["indicator"] == "info"


def _no_duplicate(cards: list[Card]) -> bool:
    return "order-duplicate" not in topics(cards)


def _not_on_therapy(cards: list[Card]) -> bool:
    return not any("Current anti-HER2 therapy" in card.get("detail", "") for card in cards)


KEYS: list[tuple[str, str, str, Callable[[], list[Resource]], Callable[[], Resource], str | None, Check]] = [
    # (key, hook, why, p1 record, the other patient's resource, order drug, check)
    (
        "biomarkers",
        "view",
        "another patient's HER2 IHC 3+",
        lambda: [c.breast_cancer(), *c.hormone_receptors(False)],
        lambda: c.her2_ihc("3+"),
        None,
        _no_her2_result,
    ),
    (
        "biomarkers",
        "view",
        "another patient's ER-positive result",
        lambda: [c.breast_cancer(), c.her2_ihc("3+"), *c.hormone_receptors(False)],
        lambda: c.er(True, when=c.ago(days=5)),
        None,
        _hr_negative,
    ),
    (
        "staging",
        "view",
        "another patient's stage IV",
        r.early_before_surgery,
        lambda: c.stage("IV"),
        None,
        _still_early,
    ),
    (
        "safety",
        "select",
        "another patient's positive pregnancy status",
        lambda: [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10)), not_pregnant()],
        lambda: c.pregnant(when=c.ago(days=1)),
        "trastuzumab",
        _no_pregnancy,
    ),
    (
        "safety",
        "select",
        "another patient's LVEF 35 %",
        lambda: [*r.de_novo_metastatic(), *checked_before_start()],
        lambda: c.lvef(35, when=c.ago(days=1)),
        "trastuzumab",
        _no_low_lvef,
    ),
    (
        "conditions",
        "select",
        "another patient's interstitial lung disease",
        lambda: [*r.metastatic_after_first_line(), *checked_before_start()],
        c.ild,
        "trastuzumab-deruxtecan",
        _no_ild,
    ),
    (
        "conditions",
        "select",
        "another patient's pregnancy Condition",
        lambda: [*r.de_novo_metastatic(), *checked_before_start()],
        lambda: c.condition("77386006", "Pregnancy", onset=c.ago(days=30)),
        "trastuzumab",
        _no_pregnancy,
    ),
    (
        "medicationRequests",
        "select",
        "another patient's active trastuzumab order",
        lambda: [*r.de_novo_metastatic(), *checked_before_start()],
        lambda: {**c.order("trastuzumab"), "status": "active", "authoredOn": c.ago(days=20)},
        "trastuzumab",
        _no_duplicate,
    ),
    (
        "medicationStatements",
        "view",
        "another patient's trastuzumab, still running",
        r.de_novo_metastatic,
        lambda: c.given("trastuzumab", start=c.ago(months=2), status="active"),
        None,
        _not_on_therapy,
    ),
]


@pytest.mark.parametrize(
    ("key", "hook", "why", "record", "other", "drug", "check"), KEYS, ids=[f"{k[0]}: {k[2]}" for k in KEYS]
)
@pytest.mark.parametrize("form", list(OTHER_FORMS), ids=list(OTHER_FORMS))
def test_another_patients_resource_never_becomes_a_fact(
    client: TestClient,
    templates: dict[str, str],
    key: str,
    hook: str,
    why: str,
    record: Callable[[], list[Resource]],
    other: Callable[[], Resource],
    drug: str | None,
    check: Check,
    form: str,
) -> None:
    """Whatever the reference form, the other patient's resource is excluded, counted and said."""
    prefetch = _inject(_prefetch(templates, record()), key, _foreign(other(), OTHER_FORMS[form]))

    cards = _view(client, prefetch) if hook == "view" else _select(client, prefetch, c.order(drug or ""))

    assert check(cards), f"{why} was used: {topics(cards)}"
    assert key in _excluded(cards)["detail"]


def test_the_same_resource_of_this_patient_is_used(client: TestClient, templates: dict[str, str]) -> None:
    """Control: the pregnancy status that was excluded for p2 is critical for p1, in any reference form."""
    record = [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10))]
    own = c.pregnant(when=c.ago(days=1))
    own["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/p1/_history/3"}

    cards = _select(client, _inject(_prefetch(templates, record), "safety", own), c.order("trastuzumab"))

    assert card_for(cards, "S7")["indicator"] == "critical"
    assert "data-identity" not in topics(cards)


def test_a_patient_resource_of_another_patient_is_excluded(client: TestClient, templates: dict[str, str]) -> None:
    """The `patient` key holds p2 (aged 30): p1's age stays unknown, and the card says one was excluded."""
    prefetch = _inject(_prefetch(templates, r.early_before_surgery()), "patient", c.patient("p2", age=30))

    cards = _view(client, prefetch)

    assert "data-identity" in topics(cards)
    assert "patient" in _excluded(cards)["detail"]


def test_a_logical_identifier_cannot_be_confirmed(client: TestClient, templates: dict[str, str]) -> None:
    """A pregnancy status naming its patient by MRN only is not this patient's fact: excluded and said."""
    record = [*r.de_novo_metastatic(), *checked_before_start()]
    pregnant = c.pregnant(when=c.ago(days=1))
    pregnant["subject"] = {"identifier": {"system": "urn:oid:1.2.3", "value": "MRN-1"}}

    cards = _select(client, _inject(_prefetch(templates, record), "safety", pregnant), c.order("trastuzumab"))

    card = card_for(cards, "data-identity")
    assert "confirmed" in card["summary"] and "S7" not in topics(cards)


def test_a_result_without_subject_is_not_attributed(client: TestClient, templates: dict[str, str]) -> None:
    her2 = c.her2_ihc("3+")
    del her2["subject"]

    cards = _view(client, _inject(_prefetch(templates, [c.breast_cancer()]), "biomarkers", her2))

    assert "her2-missing" in topics(cards) and "data-identity" in topics(cards)


def test_every_foreign_resource_is_counted_once(client: TestClient, templates: dict[str, str]) -> None:
    """Three of p2's resources over two keys: one card, count 3, in Chinese too."""
    prefetch = _prefetch(templates, r.early_before_surgery())
    _inject(prefetch, "biomarkers", _foreign(c.her2_ihc("0")))
    _inject(prefetch, "biomarkers", _foreign(c.er(True)))
    _inject(prefetch, "conditions", _foreign(c.ild()))

    cards = _view(client, prefetch, lang="zh-CN")

    assert topics(cards).count("data-identity") == 1
    assert (
        "3" in card_for(cards, "data-identity")["summary"] and "其他患者" in card_for(cards, "data-identity")["summary"]
    )


def test_only_foreign_data_is_never_silence(client: TestClient, templates: dict[str, str]) -> None:
    """A record holding nothing of p1's but p2's breast cancer and HER2: not an empty answer."""
    prefetch = _prefetch(templates, [])
    _inject(prefetch, "conditions", _foreign(c.breast_cancer()))
    _inject(prefetch, "biomarkers", _foreign(c.her2_ihc("3+")))

    cards = _view(client, prefetch)

    assert topics(cards) == ["data-identity"]


def test_fhir_server_answers_are_screened_too(
    client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    """No prefetch for the safety key: the server's answer mixes p1's LVEF with p2's pregnancy status."""
    record = [*r.de_novo_metastatic()]
    prefetch = _prefetch(templates, record)
    del prefetch["safety"]
    answer = [c.lvef(62, when=c.ago(days=10)), not_pregnant(), _foreign(c.pregnant(when=c.ago(days=1)))]
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset(answer))
    order = c.order("trastuzumab")
    body = f.hook_request(
        "order-select",
        prefetch=prefetch,
        fhir_server=FHIR,
        token="t",
        selections=[f"MedicationRequest/{order['id']}"],
        draftOrders=f.draft_orders(order),
    )

    cards = post(client, ORDER_SELECT, body)

    assert respx_mock.calls.call_count == 1
    assert "S7" not in topics(cards)
    assert "safety" in _excluded(cards)["detail"]


def test_an_order_for_another_patient_in_absolute_form_is_not_checked(
    client: TestClient, templates: dict[str, str]
) -> None:
    order = c.order("trastuzumab")
    order["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/p2/_history/1"}
    record = [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10)), c.pregnant()]

    cards = _select(client, _prefetch(templates, record), order)

    assert topics(cards) == ["order-readable"]


def test_an_order_for_this_patient_in_absolute_form_is_checked(client: TestClient, templates: dict[str, str]) -> None:
    order = c.order("trastuzumab")
    order["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/p1"}
    record = [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10)), c.pregnant()]

    cards = _select(client, _prefetch(templates, record), order)

    assert card_for(cards, "S7")["indicator"] == "critical" and "order-readable" not in topics(cards)


# -- a key holding something other than it asks for -------------------------------------------------
def test_conditions_under_the_biomarker_key_are_used_and_reported(
    client: TestClient, templates: dict[str, str]
) -> None:
    """p1's pregnancy Condition sent under `biomarkers`: still p1's, so it counts (S7), and the card says so."""
    prefetch = _prefetch(templates, [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10))])
    _inject(prefetch, "biomarkers", c.condition("77386006", "Pregnancy", onset=c.ago(days=30)))

    cards = _select(client, prefetch, c.order("trastuzumab"))

    assert card_for(cards, "S7")["indicator"] == "critical"
    shape = card_for(cards, "data-shape")
    assert "biomarkers" in shape["summary"] and "Condition" in shape["detail"]


def test_a_single_resource_where_a_search_bundle_belongs(client: TestClient, templates: dict[str, str]) -> None:
    prefetch = _prefetch(templates, [c.breast_cancer()])
    prefetch["biomarkers"] = c.her2_ihc("3+")

    cards = _view(client, prefetch)

    assert "her2-missing" not in topics(cards)  # used: it is p1's HER2 result
    assert "biomarkers" in card_for(cards, "data-shape")["summary"]


def test_a_bundle_where_the_patient_belongs(client: TestClient, templates: dict[str, str]) -> None:
    prefetch = _prefetch(templates, r.early_before_surgery())
    prefetch["patient"] = f.searchset([c.patient(), c.patient("p2")])

    cards = _view(client, prefetch)

    assert "patient" in card_for(cards, "data-shape")["summary"]
    assert "patient" in _excluded(cards)["detail"]  # p2 inside the Bundle is excluded


@pytest.mark.parametrize("bundle_type", ["transaction", "history", "document"])
def test_a_bundle_of_another_type_is_reported(client: TestClient, templates: dict[str, str], bundle_type: str) -> None:
    prefetch = _prefetch(templates, r.early_before_surgery())
    prefetch["conditions"]["type"] = bundle_type

    cards = _view(client, prefetch)

    assert bundle_type in card_for(cards, "data-shape")["detail"]
    assert recommendation_rows(cards)  # p1's breast cancer was still read


def test_the_server_returning_another_type_is_reported(
    client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    prefetch = _prefetch(templates, r.early_before_surgery())
    del prefetch["medicationStatements"]
    respx_mock.get(f"{FHIR}/MedicationStatement").respond(json=f.searchset([c.breast_cancer()]))

    body = f.hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR, token="t")
    cards = post(client, PATIENT_VIEW, body)

    assert "medicationStatements" in card_for(cards, "data-shape")["summary"]
