"""The single passes over a record keep what the separate ones guaranteed: another patient's resources left out
and counted per key, each resource read once across keys, medication records read once for exposures and
unread drugs alike."""

from typing import Any

import pytest

from cds_service.clinical.facts import _by_type, _condition_concept
from cds_service.clinical.identity import screen
from cds_service.clinical.therapy import read_given
from cds_service.config import REPO_ROOT
from cds_service.fhir import PatientData
from cds_service.terminology import Terminology, load_terminology

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return load_terminology(REPO_ROOT / "mappings")


def record(**keys: list[dict[str, Any]]) -> PatientData:
    return PatientData(resources={k: tuple(v) for k, v in keys.items()}, origin={})


def obs(ident: str | None, subject: str | None = "Patient/p1", **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceType": "Observation", "status": "final", **more}
    if ident is not None:
        found["id"] = ident
    if subject is not None:
        found["subject"] = {"reference": subject}
    return found


def test_screen_leaves_out_other_and_unconfirmed_resources_per_key_in_order() -> None:
    own_absolute = obs("o3", "https://ehr.example/fhir/Patient/p1/_history/2")
    # A Patient resource is judged by its id, whatever a `subject` inside it says.
    impostor = {"resourceType": "Patient", "id": "p2", "subject": {"reference": "Patient/p1"}}
    data = record(
        a=[obs("o1"), obs("x1", "Patient/p2"), own_absolute, impostor],
        b=[obs("o2"), obs("x2", None)],
        c=[{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Medication", "id": "m1"}],
    )
    screened, findings = screen(data, "p1")
    assert screened.resources["a"] == (obs("o1"), own_absolute)
    assert screened.resources["b"] == (obs("o2"),)
    assert screened.resources["c"] == data.resources["c"]
    said = {f.summary: (f.args["count"], [line.value for line in f.basis]) for f in findings}
    assert said == {"identity.other_patient": ("2", ["a: 2"]), "identity.unconfirmed": ("1", ["b: 1"])}


def test_screen_hands_back_the_same_data_when_nothing_is_left_out() -> None:
    data = record(a=[obs("o1"), {"resourceType": "Medication", "id": "m1"}], b=[obs("o2")])
    screened, findings = screen(data, "p1")
    assert screened is data and findings == []


def test_the_quick_identity_check_decides_as_the_full_one() -> None:
    # An id no FHIR reference can carry: every resource naming it stays unconfirmed, the usual shape or not.
    data = record(a=[obs("o1", "Patient/p_1"), obs("o2", "Patient/p1")])
    screened, findings = screen(data, "p_1")
    assert screened.resources["a"] == ()
    assert sorted(f.summary for f in findings) == ["identity.other_patient", "identity.unconfirmed"]


def test_each_resource_is_read_once_across_keys_and_given_records_keep_record_order() -> None:
    first, copy = obs("o1", effectiveDateTime="2024-01-01"), obs("o1", effectiveDateTime="1999-01-01")
    no_id, no_id_again, question = obs(None), obs(None), obs("?")
    statement = {"resourceType": "MedicationStatement", "id": "s1"}
    request = {"resourceType": "MedicationRequest", "id": "r1"}
    data = record(
        a=[first, no_id, request, {"id": "t1"}, {"resourceType": "", "id": "t2"}],
        b=[copy, no_id_again, statement, obs("?"), request],
        c=[question, {"resourceType": "Condition", "id": "o1"}],  # the same id in another type is another resource
    )
    of_type, given = _by_type(data)
    assert of_type["Observation"] == [first, no_id, no_id_again, obs("?"), question]
    assert of_type["Observation"][0] is first  # the first key's copy is the one read
    assert of_type["Condition"] == [{"resourceType": "Condition", "id": "o1"}]
    assert given == [request, statement]
    assert set(of_type) == {"Observation", "Condition", "MedicationRequest", "MedicationStatement"}


def order(ident: str, concept: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    found = {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
    }
    if concept is not None:
        found["medicationCodeableConcept"] = concept
    return {**found, **more}


def test_one_pass_over_medication_records_reads_exposures_and_unread_drugs(terminology: Terminology) -> None:
    coding = [{"system": RXNORM, "code": "224905"}]
    brands = [{"coding": coding, "text": name} for name in ("Herceptin", "Ogivri", "Herceptin")]
    records = [
        order("r1", brands[0], authoredOn="2024-01-01"),
        order("r2", medicationReference={"reference": "Medication/unknown"}, authoredOn="2024-02-01"),
        order("r3", brands[1], authoredOn="2024-03-01"),
        order("r4", brands[2], authoredOn="2024-04-01", status="entered-in-error"),  # retracted: neither
        order("r5", {"coding": [{"system": RXNORM, "code": "26225"}], "text": "ondansetron"}),  # no known drug
        order("r6", brands[2], authoredOn="2024-05-01", verificationStatus="x"),
    ]
    exposures, unread = read_given(records, terminology, {})
    # The same coding with another name is another product: answers are remembered per coding and name.
    products = [match.product for match in map(terminology.match_drug, brands) if match]
    assert [(e.evidence.reference, e.product) for e in exposures] == list(
        zip(["MedicationRequest/r1", "MedicationRequest/r3", "MedicationRequest/r6"], products, strict=True)
    )
    assert exposures[0].product != exposures[1].product
    assert [(e.reference, e.label, e.date) for e in unread] == [
        ("MedicationRequest/r2", "Medication/unknown", "2024-02-01")
    ]


def test_diagnosis_codes_read_once_per_call_get_the_terminology_answer(terminology: Terminology) -> None:
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    codes = [
        {"coding": [{"system": icd, "code": code, "display": display}]}
        for code, display in [("C50.9", "breast"), ("I10", "hypertension"), ("C79.31", "brain"), ("C79.9", "other")]
    ]
    codes += [codes[2], {"coding": [{"system": icd, "code": "C50.9", "display": "another name"}]}, {"text": "C50"}]
    known: dict[tuple[str, str], str | None] = {}
    read = [_condition_concept(code, terminology, known) for code in codes]
    assert read == [terminology.condition_concept(code) for code in codes]
    assert read[:4] == ["breast-cancer", None, "metastasis-brain", "metastasis-distant"]
