"""The engine's fast paths read what the general readers read, on varied and odd FHIR: each shortcut is held to
the full reading (the same function without the shortcut, or a frozen copy of the former one), so a regression
fails here before it changes a card."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical.facts import _by_type, group_own
from cds_service.clinical.identity import screen
from cds_service.clinical.readings import _number, read_observations
from cds_service.clinical.therapy import _period, read_given
from cds_service.config import REPO_ROOT
from cds_service.fhir import PatientData
from cds_service.terminology import load_terminology
from tests.unit.former import identity as former_identity
from tests.unit.former import readings as former_readings
from tests.unit.former import therapy as former_therapy

TERMINOLOGY = load_terminology(REPO_ROOT / "mappings")
LOINC = "http://loinc.org"

# Mapped codes (HER2 IHC, LVEF), unmapped ones, and odd values where strings belong.
CODE = st.sampled_from(["85319-2", "10230-1", "8867-4", "718-7", "", None, 7])
SYSTEM = st.sampled_from([LOINC, "urn:local", "", None, 3])
NAME = st.sampled_from([None, "", "Heart rate", "HER2 IHC", "c-erbB-2 FISH", "Hemoglobin", "ERBB2", 4, ["HER2"]])


@st.composite
def codeable(draw: st.DrawFn) -> Any:
    shape = draw(st.sampled_from(["one", "one", "one", "two", "none", "odd"]))
    if shape == "odd":
        return draw(st.sampled_from([None, "85319-2", 5, [], {"coding": "x"}, {"coding": [None]}, {"text": "HER2"}]))
    codings: list[Any] = []
    for _ in range({"one": 1, "two": 2, "none": 0}[shape]):
        coding = {"system": draw(SYSTEM), "code": draw(CODE), "display": draw(NAME)}
        codings.append({k: v for k, v in coding.items() if v is not None or draw(st.booleans())})
    found: dict[str, Any] = {"coding": codings}
    text = draw(NAME)
    if text is not None or draw(st.booleans()):
        found["text"] = text
    return found


@st.composite
def observation(draw: st.DrawFn) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "code": draw(codeable())}
    ident = draw(st.sampled_from(["o1", "o2", "o3", "o4", None, "?", "", 5]))
    if ident is not None:
        resource["id"] = ident
    status = draw(st.sampled_from(["final", "final", "entered-in-error", None]))
    if status is not None:
        resource["status"] = status
    resource["subject"] = {"reference": draw(st.sampled_from(["Patient/p1", "Patient/p2"]))}
    resource["effectiveDateTime"] = draw(st.sampled_from(["2024-01-05", "2023-06-01", "2024-02-30", 2024]))
    value = draw(st.sampled_from(["quantity", "string", "coded", "none"]))
    if value == "quantity":
        unit = draw(st.sampled_from([{"unit": "%"}, {}, {"code": "%"}, {"unit": "{ratio}", "code": "1"}, {"unit": ""}]))
        resource["valueQuantity"] = {"value": draw(st.sampled_from([55, 0.6, "x", True])), **unit}
    elif value == "string":
        resource["valueString"] = draw(st.sampled_from(["3+", "positive", "", 9]))
    elif value == "coded":
        resource["valueCodeableConcept"] = draw(codeable())
    specimen = draw(st.sampled_from([None, None, {"reference": "Specimen/s1"}, {"display": "core biopsy"}]))
    if specimen is not None:
        resource["specimen"] = specimen
    component = draw(st.sampled_from(["absent", "absent", "none", "lvef", "junk"]))
    if component == "none":
        resource["component"] = None
    elif component == "lvef":
        resource["component"] = [{"code": {"coding": [{"system": LOINC, "code": "10230-1"}]}, "valueInteger": 50}]
    elif component == "junk":
        resource["component"] = "junk"
    return resource


OTHER = [
    {"resourceType": "MedicationRequest", "id": "r1", "status": "active"},
    {"resourceType": "Condition", "id": "o1"},
    {"resourceType": "Patient", "id": "p1"},
    {"id": "untyped"},
]


@settings(max_examples=400, deadline=None)
@given(st.lists(observation(), max_size=8), st.lists(observation(), max_size=4), st.booleans())
def test_observations_dropped_while_grouping_are_those_read_observations_drops(
    first: list[dict[str, Any]], second: list[dict[str, Any]], others: bool
) -> None:
    """Grouping with the code table drops an Observation only where reading it would have given nothing, and
    keeps the first copy of each id as the full grouping does: the readings, the unreadable (HER2 named but
    unmapped, not valid FHIR) and every other kind come out the same."""
    data = PatientData(resources={"a": tuple(first + (OTHER if others else [])), "b": tuple(second)}, origin={})
    full, full_given = _by_type(data)
    quick, quick_given = _by_type(data, TERMINOLOGY.observation_codes)
    assert read_observations(quick.get("Observation", []), TERMINOLOGY) == read_observations(
        full.get("Observation", []), TERMINOLOGY
    )
    assert {k: v for k, v in quick.items() if k != "Observation"} == {
        k: v for k, v in full.items() if k != "Observation"
    }
    assert quick_given == full_given


def test_a_dropped_observation_still_hides_a_later_copy_of_its_id() -> None:
    """The first copy of an id is the one read, also when it is dropped at its code: the second (here a mapped
    result) is not read in its place."""
    filler = {"resourceType": "Observation", "id": "o1", "status": "final",
              "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]}}  # fmt: skip
    lvef = {**filler, "code": {"coding": [{"system": LOINC, "code": "10230-1"}]}, "valueQuantity": {"value": 55}}
    data = PatientData(resources={"a": (filler,), "b": (lvef,)}, origin={})
    quick, _ = _by_type(data, TERMINOLOGY.observation_codes)
    full, _ = _by_type(data)
    assert quick.get("Observation") == [] and full["Observation"] == [filler]
    assert read_observations(full["Observation"], TERMINOLOGY) == ([], [])


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": LOINC, "code": "X-1", "display": "HER2 by IHC"}]},  # named in the display
        {"coding": [{"system": LOINC, "code": "X-1", "display": "Heart rate"}], "text": "ERBB2 amplification"},
        {"coding": [{"system": LOINC, "code": "HER2"}]},  # no display: the code is the name
    ],
)
def test_an_unmapped_code_naming_her2_is_kept_for_its_report(code: dict[str, Any]) -> None:
    resource = {"resourceType": "Observation", "id": "o1", "status": "final", "code": code, "valueString": "3+"}
    quick, _ = _by_type(PatientData(resources={"a": (resource,)}, origin={}), TERMINOLOGY.observation_codes)
    assert quick["Observation"] == [resource]
    _, unreadable = read_observations(quick["Observation"], TERMINOLOGY)
    assert [concept for concept, _ in unreadable] == ["her2-unknown-code"]


@st.composite
def odd_observation(draw: st.DrawFn) -> dict[str, Any]:
    """An observation() with the fields the readers' shortcuts pass over: an odd status, a verification status, a
    specimen, a category, a stage code, and a HER2 test under a code no mapping knows."""
    resource = draw(observation())
    extra: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["cancelled", ["final"], 3, "amended"]),
                "verificationStatus": st.sampled_from([None, {"coding": [{"code": "refuted"}]}, "x"]),
                "specimen": st.sampled_from([None, {"reference": "Specimen/s1"}, {"reference": 5}, "Specimen/s1"]),
                "category": st.sampled_from([[{"coding": [{"system": LOINC, "code": "laboratory"}]}], [], "x"]),
                "code": st.sampled_from(
                    [
                        {"coding": [{"system": LOINC, "code": "21908-9"}], "text": "Stage"},
                        {"coding": [{"system": LOINC, "code": "X-9", "display": "HER2 IHC"}], "text": "HER2 IHC"},
                        {"coding": [{"system": LOINC, "code": "85319-2", "display": ""}], "text": "IHC"},
                        {"coding": [{"system": LOINC, "code": "85319-2"}]},
                    ]
                ),
            },
        )
    )
    return {**resource, **extra}


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(observation(), odd_observation()), max_size=6))
def test_observations_read_as_the_former_reader_read_them(resources: list[dict[str, Any]]) -> None:
    """Readings (concept, evidence, value, number, staging, specimen) and unreadable results, in order, as the
    former read_observations found them, on varied and odd Observations."""
    assert read_observations(resources, TERMINOLOGY) == former_readings.read_observations(resources, TERMINOLOGY)


@st.composite
def measured_result(draw: st.DrawFn) -> dict[str, Any]:
    """A plain measured result of a mapped code (most results a chart keeps), its name, number, unit and specimen
    varied: the shape read without the general reader."""
    coding = {"system": LOINC, "code": draw(st.sampled_from(["10230-1", "85319-2", "21908-9", "8867-4"]))}
    coding |= draw(st.sampled_from([{}, {"display": "LVEF"}, {"display": ""}]))
    code: dict[str, Any] = {"coding": [coding]} | draw(st.sampled_from([{}, {"text": "Ejection fraction"}]))
    quantity = {"value": draw(st.sampled_from([55, 0.6, 62.5, 0, -3, True, "x", 2**60]))}
    quantity |= draw(
        st.sampled_from([{"unit": "%"}, {}, {"code": "%"}, {"unit": "{ratio}", "code": "1"}, {"unit": ""}])
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": draw(st.sampled_from(["m1", "m2"])),
        "status": draw(st.sampled_from(["final", "amended", "cancelled"])),
        "code": code,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": draw(st.sampled_from(["2024-01-05", "2023-06-01T10:00:00Z", "2024-02-30"])),
        "valueQuantity": quantity,
    }
    specimen = draw(st.sampled_from([None, {"reference": "Specimen/s1"}, {"display": "core biopsy"}, {}]))
    if specimen is not None:
        resource["specimen"] = specimen
    return resource


@settings(max_examples=400, deadline=None)
@given(st.lists(measured_result(), min_size=1, max_size=4))
def test_measured_results_read_as_the_former_reader_read_them(resources: list[dict[str, Any]]) -> None:
    assert read_observations(resources, TERMINOLOGY) == former_readings.read_observations(resources, TERMINOLOGY)


# Each readable value a different day, so that reading the fields in another order shows.
DAY = st.sampled_from(
    [None, "2024-03-01", "2023-07-15T10:00:00Z", "2022", "2021-05", "2020-01-09", "2024-02-30", "", 20240301, ["2019"]]
)
PERIOD = st.one_of(
    st.none(),
    st.sampled_from(["2024-03-01", [], 5]),
    st.fixed_dictionaries({}, optional={"start": DAY, "end": DAY}),
)


@st.composite
def medication_record(draw: st.DrawFn) -> dict[str, Any]:
    """A MedicationRequest/Statement/Administration with any of the date fields, present, odd or absent."""
    resource: dict[str, Any] = {
        "resourceType": draw(st.sampled_from(["MedicationRequest", "MedicationStatement", "MedicationAdministration"])),
        "id": draw(st.sampled_from(["m1", "m2", "m3"])),
        "status": draw(st.sampled_from(["active", "completed", "stopped", "in-progress", "draft", None, ["active"]])),
        "medicationCodeableConcept": draw(
            st.sampled_from(
                [
                    {"coding": [{"system": RXNORM, "code": "224905", "display": "trastuzumab"}]},
                    {"coding": [{"system": RXNORM, "code": "56946"}], "text": "paclitaxel"},
                    {"coding": [{"system": RXNORM, "code": "26225"}], "text": "ondansetron"},
                    {"text": "Phesgo"},
                    {"coding": "x"},
                    {"coding": [{"system": RXNORM, "code": ["224905"]}], "text": "trastuzumab"},  # unhashable
                    {"coding": [{"system": RXNORM, "code": "26225"}, {"system": RXNORM, "code": "224905"}]},
                    {"coding": [{"system": RXNORM, "code": "224905", "display": ""}], "text": "Herceptin"},
                    {"coding": [{"system": RXNORM, "code": "224905", "display": 5}]},
                    None,  # the drug by reference (below)
                ]
            )
        ),
    }
    if resource["medicationCodeableConcept"] is None:
        del resource["medicationCodeableConcept"]
        resource["medicationReference"] = draw(
            st.sampled_from([{"reference": "Medication/m9", "display": "Kadcyla"}, {"display": "trastuzumab"}])
        )
    for field in draw(st.lists(st.sampled_from(["effectiveDateTime", "authoredOn", "dateAsserted"]), max_size=3)):
        resource[field] = draw(DAY)
    if draw(st.booleans()):
        resource["effectivePeriod"] = draw(PERIOD)
    if draw(st.booleans()):
        resource["dispenseRequest"] = draw(
            st.one_of(st.none(), st.sampled_from([[], "x"]), st.fixed_dictionaries({"validityPeriod": PERIOD}))
        )
    if draw(st.booleans()):
        bounds = draw(PERIOD)
        resource["dosageInstruction"] = draw(
            st.sampled_from(
                [
                    [{"timing": {"repeat": {"boundsPeriod": bounds}}}],
                    [{"text": "every 21 days"}, {"timing": {"repeat": {"boundsPeriod": bounds}}}],
                    [],
                    [None],
                    {"timing": {}},
                ]
            )
        )
    return {k: v for k, v in resource.items() if v is not None or k == "medicationCodeableConcept"}


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@settings(max_examples=500, deadline=None)
@given(medication_record())
def test_start_and_end_read_once_are_the_former_start_and_end(resource: dict[str, Any]) -> None:
    assert _period(resource) == (former_therapy.start(resource), former_therapy.end(resource)), resource


def test_every_mix_of_date_fields_gives_the_former_start_and_end() -> None:
    """Each start source (effective period, effective date, dosage bounds, dispense validity, authoredOn,
    dateAsserted) and end source, present or not, each a different day: the order of preference shows."""
    starts = ["2024-01-01", "2023-01-01", "2022-01-01", "2021-01-01", "2020-01-01", "2019-01-01"]
    ends = ["2024-12-01", "2022-12-01", "2021-12-01"]
    for mask in range(2 ** (len(starts) + len(ends))):
        has = [bool(mask >> i & 1) for i in range(len(starts) + len(ends))]
        period = {k: v for k, v, on in (("start", starts[0], has[0]), ("end", ends[0], has[6])) if on}
        bounds = {k: v for k, v, on in (("start", starts[2], has[2]), ("end", ends[1], has[7])) if on}
        validity = {k: v for k, v, on in (("start", starts[3], has[3]), ("end", ends[2], has[8])) if on}
        resource: dict[str, Any] = {"resourceType": "MedicationRequest", "effectivePeriod": period}
        resource |= {"effectiveDateTime": starts[1]} if has[1] else {}
        resource |= {"dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": bounds}}}]} if bounds else {}
        resource |= {"dispenseRequest": {"validityPeriod": validity}} if validity else {}
        resource |= {"authoredOn": starts[4]} if has[4] else {}
        resource |= {"dateAsserted": starts[5]} if has[5] else {}
        assert _period(resource) == (former_therapy.start(resource), former_therapy.end(resource)), resource


@settings(max_examples=200, deadline=None)
@given(st.lists(medication_record(), max_size=6))
def test_exposures_take_their_dates_and_drug_sets_as_the_former_reading(records: list[dict[str, Any]]) -> None:
    exposures, _ = read_given(records, TERMINOLOGY, {})
    for exposure in exposures:
        # Ids repeat among these records: the exposure's dates are those of one of the records of its reference.
        same = [r for r in records if f"{r['resourceType']}/{r['id']}" == exposure.evidence.reference]
        assert (exposure.start, exposure.end) in {(former_therapy.start(r), former_therapy.end(r)) for r in same}
        assert exposure.contains == frozenset({exposure.drug, *TERMINOLOGY.drugs[exposure.drug].components})


# Whose resource: the usual `subject`, another patient's, absolute and versioned references, DSTU2's `patient`,
# a Group, a contained or logical reference, no reference at all, and resources outside any compartment.
HOLDER: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"subject": {"reference": "Patient/p1"}},
        {"subject": {"reference": "Patient/p1"}},
        {"subject": {"reference": "Patient/p2"}},
        {"subject": {"reference": "https://ehr.example/fhir/Patient/p1/_history/3"}},
        {"patient": {"reference": "Patient/p1"}},
        {"patient": {"reference": "Patient/p2"}},
        {"subject": {"reference": "Group/g1"}},
        {"subject": {"reference": "#p1"}},
        {"subject": {"identifier": {"value": "p1"}}},
        {"subject": "Patient/p1"},
        {},
    ]
)


@st.composite
def any_resource(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Observation", "Condition", "MedicationRequest", "Medication", "Patient", "X"]))
    if kind == "Observation":
        resource = draw(observation())
        resource.pop("subject", None)
    else:
        resource = {"resourceType": kind, "id": draw(st.sampled_from(["p1", "p2", "r1", "r2"]))}
    return {**resource, **draw(HOLDER)}


@settings(max_examples=400, deadline=None)
@given(st.lists(any_resource(), max_size=6), st.lists(any_resource(), max_size=4), st.sampled_from(["p1", "p_1"]))
def test_grouping_while_checking_identity_is_screening_then_grouping(
    first: list[dict[str, Any]], second: list[dict[str, Any]], patient: str
) -> None:
    """The one pass answers only for a record screening leaves as it is (then it groups as screening and
    grouping would); a record with any resource left out (another patient's, unconfirmed) is for screen."""
    data = PatientData(resources={"a": tuple(first), "b": tuple(second)}, origin={})
    screened, findings = screen(data, patient)
    left_out = any(f.summary.startswith("identity.") for f in findings)
    grouped = group_own(data, patient, TERMINOLOGY.observation_codes)
    assert (grouped is None) == left_out
    if grouped is not None:
        assert screened is data
        assert grouped == _by_type(data, TERMINOLOGY.observation_codes)


@settings(max_examples=400, deadline=None)
@given(st.lists(any_resource(), max_size=6), st.lists(any_resource(), max_size=4), st.sampled_from(["p1", "p_1"]))
def test_screening_leaves_out_and_reports_what_the_former_screen_did(
    first: list[dict[str, Any]], second: list[dict[str, Any]], patient: str
) -> None:
    data = PatientData(resources={"a": tuple(first), "b": tuple(second)}, origin={})
    screened, findings = screen(data, patient)
    former_screened, former_findings = former_identity.screen(data, patient)
    assert screened == former_screened and findings == former_findings


@settings(max_examples=300, deadline=None)
@given(st.lists(medication_record(), max_size=8), st.sampled_from(["MedicationDispense", ["MedicationRequest"], None]))
def test_medication_records_read_as_the_former_reader_read_them(records: list[dict[str, Any]], odd: Any) -> None:
    """Exposures (drug, product, dates, evidence) and unread drugs, in order, as the former read_given found them;
    with a record of a type not read and one whose type is not a string among them."""
    records = [*records, {**records[0], "resourceType": odd}] if records else records
    records += [{"resourceType": "MedicationRequest", "id": "u1", "status": "active",
                 "medicationReference": {"reference": "Medication/gone"}, "authoredOn": "2024-05-02"}]  # fmt: skip
    assert read_given(records, TERMINOLOGY, {}) == former_therapy.read_given(records, TERMINOLOGY, {})


NUMBERISH: st.SearchStrategy[Any] = st.sampled_from([None, 55, 0.6, 0, True, "7", [], {}, {"value": 3}])


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "valueQuantity": st.one_of(NUMBERISH, st.fixed_dictionaries({}, optional={"value": NUMBERISH})),
            "valueRatio": st.one_of(
                NUMBERISH,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "numerator": st.fixed_dictionaries({}, optional={"value": NUMBERISH}),
                        "denominator": st.fixed_dictionaries({}, optional={"value": NUMBERISH}),
                    },
                ),
            ),
            "valueInteger": NUMBERISH,
            "valueString": st.sampled_from(["3+", "55"]),
            "valueCodeableConcept": st.just({"text": "Positive"}),
        },
    )
)
def test_a_result_without_a_numeric_value_field_is_no_number_and_others_read_as_before(
    element: dict[str, Any],
) -> None:
    assert _number(element) == former_readings.number(element)
