"""order-sign / order-select read the patient's record only when an order needs its facts, and then in one pass
(identity checked while grouping) unless the record holds another patient's resources: the cards are those the
former reading gave (screen the record first, group it on the first anti-HER2 order), held to a frozen copy of it
(tests/unit/former/orders.py) on ordinary, foreign and odd records."""

import copy
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical import engine as engine_module
from cds_service.clinical import facts as facts_module
from cds_service.clinical import identity
from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT
from cds_service.fhir import PatientData
from cds_service.hooks.request import OrderSelectContext, OrderSignContext
from cds_service.hooks.response import Card
from tests.scenarios import records as r
from tests.unit.former import orders as former
from tests.utils import clinical as c

ENGINE = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards")
TODAY = date.today()  # the records' dates are relative to today
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PARACETAMOL = {"coding": [{"system": c.RXNORM, "code": "161", "display": "acetaminophen"}], "text": "paracetamol"}
TRASTUZUMAB_MEDICATION = {"resourceType": "Medication", "id": "m1", "code": c.medication_concept("trastuzumab")}


def _data(resources: list[dict[str, Any]], **extra: Any) -> PatientData:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        key = "patient" if resource.get("resourceType") == "Patient" else f"key-{resource.get('resourceType')}"
        by_key.setdefault(key, []).append(resource)
    return PatientData(resources={k: tuple(v) for k, v in by_key.items()}, origin={}, **extra)


def _sign(*orders: dict[str, Any]) -> OrderSignContext:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in orders]}
    return OrderSignContext.model_validate({"userId": "Practitioner/pr-1", "patientId": "p1", "draftOrders": bundle})


def _select(*orders: dict[str, Any]) -> OrderSelectContext:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in orders]}
    return OrderSelectContext.model_validate(
        {
            "userId": "Practitioner/pr-1",
            "patientId": "p1",
            "draftOrders": bundle,
            "selections": [f"MedicationRequest/{orders[0]['id']}"],
        }
    )


def _shown(cards: list[Card]) -> list[str]:
    return [_UUID.sub("<uuid>", card.model_dump_json(exclude_none=True)) for card in cards]


def _both(context: OrderSignContext, data: PatientData) -> tuple[list[str], list[str]]:
    now = _shown(ENGINE.order_check(context, data, "en", TODAY))
    before = _shown(former.order_check(ENGINE, context, data, "en", TODAY))
    return now, before


def _foreign(resource: dict[str, Any], reference: str = "Patient/p2") -> dict[str, Any]:
    found = copy.deepcopy(resource)
    found["id"] = f"foreign-{found['id']}"
    found["subject"] = {"reference": reference}
    return found


@pytest.fixture
def grouped(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The patient each grouping pass of the record was asked for (None: grouping a screened record)."""
    calls: list[str | None] = []
    real = facts_module._group

    def spy(data: PatientData, codes: Any, patient_id: str | None) -> Any:
        calls.append(patient_id)
        return real(data, codes, patient_id)

    monkeypatch.setattr(facts_module, "_group", spy)
    return calls


@pytest.fixture
def screened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = identity.screen

    def spy(data: PatientData, patient_id: str) -> Any:
        calls.append(patient_id)
        return real(data, patient_id)

    monkeypatch.setattr(engine_module, "screen", spy)
    return calls


def _record() -> list[dict[str, Any]]:
    return [c.patient(), *r.on_trastuzumab((61, 40))]


@pytest.mark.parametrize(
    "concept", [PARACETAMOL, c.medication_concept("paclitaxel"), c.medication_concept("letrozole")]
)
def test_an_order_of_a_drug_that_is_not_anti_her2_does_not_read_the_record(
    grouped: list[str | None], screened: list[str], concept: dict[str, Any]
) -> None:
    """The bench's other draft orders, a paracetamol order: no cards, and the record is not grouped into facts
    (only screened, which says whether any resource is another patient's)."""
    order = c.order("trastuzumab", concept=concept)

    cards = ENGINE.order_check(_sign(order), _data(_record()), "en", TODAY)

    assert cards == []
    assert grouped == []
    assert screened == ["p1"]


def test_an_anti_her2_order_reads_the_patients_record_in_one_pass(
    grouped: list[str | None], screened: list[str]
) -> None:
    """Identity is checked while the record is grouped: one pass, no separate screen; the cards are the former."""
    context, data = _sign(c.order("trastuzumab"), c.order("paclitaxel")), _data(_record())

    cards = ENGINE.order_check(context, data, "en", TODAY)

    assert grouped == ["p1"] and screened == []
    assert cards and _shown(cards) == _shown(former.order_check(ENGINE, context, data, "en", TODAY))


def test_a_record_with_another_patients_resource_is_screened_first_as_before(
    grouped: list[str | None], screened: list[str]
) -> None:
    """The one pass stops at the foreign resource; the record is then screened and grouped without it, and the
    card that says what was left out is the former one."""
    record = [*_record(), _foreign(c.pregnant())]
    context, data = _sign(c.order("trastuzumab")), _data(record)

    now = _shown(ENGINE.order_check(context, data, "en", TODAY))

    assert grouped == ["p1", None]  # the one pass, stopped; then the screened record grouped
    assert screened == ["p1"]
    assert now == _shown(former.order_check(ENGINE, context, data, "en", TODAY))
    assert any('"code":"data-identity"' in card for card in now)
    assert not any('"indicator":"critical"' in card for card in now)  # the other patient's pregnancy is not read


def test_a_paracetamol_order_on_a_record_with_another_patients_resource_still_says_so() -> None:
    record = [*_record(), _foreign(c.lvef(30, when=c.ago(days=5)))]
    context = _sign(c.order("trastuzumab", concept=PARACETAMOL))

    now, before = _both(context, _data(record))

    assert now == before and len(now) == 1 and '"code":"data-identity"' in now[0]


# -- varied records and orders ------------------------------------------------------------------------
RECORDS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "on trastuzumab": _record,
    "de novo metastatic": lambda: [c.patient(), *r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10))],
    "HER2-low metastatic": lambda: [c.patient(), *r.her2_low_metastatic(hr=True, chemo=True)],
    "early before surgery": lambda: [c.patient(), *r.early_before_surgery(), c.pregnant()],
    "nothing but the patient": lambda: [c.patient()],
}


def _odd(kind: str, record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One resource added to the record: another patient's, unconfirmed, or odd but the patient's own."""
    first = next((x for x in record if x.get("resourceType") not in ("Patient", None)), None) or c.breast_cancer()
    return {
        "foreign": [_foreign(first)],
        "foreign absolute": [_foreign(first, "https://ehr.example.org/fhir/Patient/p2/_history/3")],
        "foreign patient": [c.patient("p2")],
        "unconfirmed": [{**copy.deepcopy(first), "id": "u1", "subject": {"identifier": {"value": "123"}}}],
        "no subject": [{k: v for k, v in copy.deepcopy(first).items() if k != "subject"} | {"id": "u2"}],
        "a group": [_foreign(first, "Group/g1")],
        "own absolute": [_foreign(first, "https://ehr.example.org/fhir/Patient/p1")],
        "untyped": [{"id": "x1", "subject": {"reference": "Patient/p1"}}],
        "pregnant": [c.pregnant()],
        "active trastuzumab order": [{**c.order("trastuzumab"), "status": "active"}],
    }[kind]


ODD = st.sampled_from(
    [
        "foreign",
        "foreign absolute",
        "foreign patient",
        "unconfirmed",
        "no subject",
        "a group",
        "own absolute",
        "untyped",
        "pregnant",
        "active trastuzumab order",
    ]
)
MEDICATION_KEY = st.sampled_from(["none", "nobody's", "another patient's", "another's first, then nobody's"])


def _orders(kind: str) -> dict[str, Any]:
    if kind in ("reference", "reference gone"):
        found = c.order("trastuzumab")
        del found["medicationCodeableConcept"]
        return found | {
            "medicationReference": {"reference": "Medication/m1" if kind == "reference" else "Medication/gone"}
        }
    if kind == "unreadable":
        found = c.order("trastuzumab")
        del found["medicationCodeableConcept"]
        return found
    if kind == "another patient's":
        return c.order("trastuzumab", patient_id="p2")
    if kind == "invalid status":
        return {**c.order("pertuzumab"), "status": 5}
    if kind == "paracetamol":
        return c.order("trastuzumab", concept=PARACETAMOL)
    return c.order(kind)


ORDER = st.sampled_from(
    [
        "trastuzumab",
        "pertuzumab",
        "trastuzumab-deruxtecan",
        "pyrotinib",
        "paclitaxel",
        "paracetamol",
        "another patient's",
        "reference",
        "reference gone",
        "unreadable",
        "invalid status",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    record=st.sampled_from(sorted(RECORDS)),
    odd=st.lists(ODD, max_size=3),
    medication=MEDICATION_KEY,
    orders=st.lists(ORDER, min_size=1, max_size=3),
    select=st.booleans(),
    misplaced=st.booleans(),
    unavailable=st.booleans(),
)
def test_order_cards_are_the_former_ones_on_varied_records_and_orders(
    record: str, odd: list[str], medication: str, orders: list[str], select: bool, misplaced: bool, unavailable: bool
) -> None:
    resources = RECORDS[record]()
    for kind in odd:
        resources += _odd(kind, resources)
    data = _data(
        resources,
        misplaced={"key-Observation": ("type:Condition",)} if misplaced else {},
        unavailable={"Medication/gone": "timed out", "safety": "timed out"} if unavailable else {},
    )
    fetched = {
        "none": (),
        "nobody's": (TRASTUZUMAB_MEDICATION,),
        "another patient's": ({**TRASTUZUMAB_MEDICATION, "subject": {"reference": "Patient/p2"}},),
        "another's first, then nobody's": (
            {**TRASTUZUMAB_MEDICATION, "subject": {"reference": "Patient/p2"}, "code": PARACETAMOL},
            TRASTUZUMAB_MEDICATION,
        ),
    }[medication]
    if fetched:
        data = PatientData({**data.resources, "Medication/m1": fetched}, {}, data.truncated, data.unavailable,
                           data.misplaced)  # fmt: skip
    drafts = [_orders(kind) for kind in orders]
    context = _select(*drafts) if select else _sign(*drafts)

    now, before = _both(context, data)

    assert now == before
