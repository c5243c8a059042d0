"""FHIR data → PatientFacts: every fact the rules read, each with the resources and dates behind it."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from ..fhir import PatientData
from ..knowledge import Knowledge
from ..terminology import CHEMOTHERAPY_CLASSES, Terminology, codings, text
from .belonging import belongs_to, patient_target
from .her2 import Her2Status, Thresholds, classify_her2
from .readings import Evidence, Reading, looks_like_her2, read_observations
from .record import (
    as_list,
    as_map,
    condition_date,
    day_of,
    first_display,
    is_current_condition,
    is_usable,
    reference_of,
)
from .staging import Categorised, StagingFacts, after_systemic_therapy, parse_staging_text, staging_facts
from .therapy import GIVEN_TYPES, TherapyFacts, read_given, therapy_facts

__all__ = ["Grouped", "Lvef", "PatientFacts", "build_facts", "group_own"]


class Lvef(NamedTuple):  # a NamedTuple: one per echo on file, cheaper to build than a frozen dataclass
    percent: float
    evidence: Evidence


@dataclass(frozen=True)
class PatientFacts:
    patient_id: str
    today: date
    age: int | None
    female: bool | None
    breast_cancer: tuple[Evidence, ...]  # invasive breast cancer (C50 and its SNOMED codes); DCIS is not
    her2_diagnosis: tuple[tuple[str, Evidence], ...]  # (positive | negative, Condition) from diagnosis codes
    her2: Her2Status
    hr: str | None  # positive | negative
    hr_basis: tuple[Evidence, ...]
    receptors: tuple[tuple[str, str], ...]  # (estrogen-receptor | progesterone-receptor, positive | negative)
    ki67: Evidence | None
    staging: StagingFacts
    therapy: TherapyFacts
    lvef: tuple[Lvef, ...]  # newest first
    pregnancy: str | None  # pregnant | not-pregnant
    pregnancy_basis: tuple[Evidence, ...]
    brain_metastases: tuple[Evidence, ...]
    ild: tuple[Evidence, ...]
    lv_dysfunction: tuple[Evidence, ...]
    unreadable: tuple[Evidence, ...]
    truncated: tuple[str, ...]
    other_primary: tuple[Evidence, ...] = ()  # a primary cancer other than breast (gastric, colorectal ...)
    dcis: tuple[Evidence, ...] = ()  # breast carcinoma in situ (D05): no anti-HER2 treatment indication
    # Medication records whose drug could not be read at all (a reference to a Medication not obtained, no name)
    medications_unread: tuple[Evidence, ...] = ()

    @property
    def setting(self) -> str | None:
        return self.staging.setting

    @property
    def relevant(self) -> bool:
        """A breast-cancer chart, or one with HER2 results: anything else gets no HER2 cards."""
        her2 = self.her2
        return bool(self.breast_cancer or her2.current.evidence or her2.not_understood or her2.unreadable)

    def lvef_baseline(self) -> Lvef | None:
        """The last LVEF before anti-HER2 therapy began, else the earliest on file."""
        starts = sorted(e.start for e in self.therapy.exposures if e.start and e.drug_class.startswith("anti-her2"))
        before = [v for v in self.lvef if starts and v.evidence.date and v.evidence.date <= starts[0]]
        if before:
            return before[0]
        return self.lvef[-1] if self.lvef else None


Grouped = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]


def _by_type(data: PatientData, observation_codes: Mapping[tuple[str, str], Any] | None = None) -> Grouped:
    grouped = _group(data, observation_codes, None)
    assert grouped is not None  # nothing is judged without a patient
    return grouped


def group_own(data: PatientData, patient_id: str, observation_codes: Mapping[tuple[str, str], Any]) -> Grouped | None:
    """_by_type of the screened record in the same pass as the identity check (identity.screen), for the usual
    record all of whose resources are the patient's (or nobody's): then screening leaves the data as it is.
    None as soon as one resource is another patient's or unconfirmed: the caller screens and groups as before."""
    return _group(data, observation_codes, patient_id)


def _group(
    data: PatientData, observation_codes: Mapping[tuple[str, str], Any] | None, patient_id: str | None
) -> Grouped | None:
    """Every resource once, whichever prefetch key or search returned it, by type; and the medication records of
    drugs given; each in record order. One pass over the record, so each reader below reads only its own kind. A
    resource without a type is left out (no reader takes it); one without an id is never taken for another.

    With `observation_codes`, an Observation that read_observations would drop at its code (one coding no mapping
    knows, no components, no name of HER2: most of a large record) is dropped here already, in the same pass; its
    id still counts as read, so a later copy of it is not read either. What is left reads as the whole would."""
    by_id: dict[str, dict[Any, dict[str, Any] | None]] = {}  # kind -> id -> the first resource with it
    given = []
    unnamed = 0  # keys for resources without an id: ints, never equal to an id (a string)
    own = f"Patient/{patient_id}"  # identity.screen's quick check: how nearly every resource names its patient
    quick = patient_id is not None and patient_target(own) == ("Patient", patient_id)
    last: str | None = None  # the type of the resource before, and what it was looked up to be
    same: dict[Any, dict[str, Any] | None] = {}
    observation = medication = False
    codes = observation_codes if observation_codes is not None else {}
    for found in data.resources.values():
        for resource in found:
            kind = resource.get("resourceType")
            if patient_id is not None:
                holder = resource.get("subject")
                if not (quick and type(holder) is dict and holder.get("reference") == own and kind != "Patient"):
                    if belongs_to(resource, patient_id) not in ("own", "none"):
                        return None
            if type(kind) is not str:
                continue
            if kind != last:  # a prefetch key holds one type, mostly: its table and checks are looked up once
                if not kind:
                    continue
                same = by_id.setdefault(kind, {})
                observation = kind == "Observation" and observation_codes is not None
                medication = kind in GIVEN_TYPES
                last = kind
            ident = resource.get("id")
            if type(ident) is not str or not ident or ident == "?":
                unnamed += 1
                ident = unnamed
            elif ident in same:
                continue
            if observation and ("component" not in resource or resource["component"] is None):
                # readings.read_observations' first test, in line (it runs for every Observation of the record).
                code = resource.get("code")
                if type(code) is dict:
                    coding = code.get("coding")
                    if type(coding) is list and len(coding) == 1 and type(first := coding[0]) is dict:
                        system, value = first.get("system"), first.get("code")
                        if type(system) is str and type(value) is str and (system, value) not in codes:
                            display, named = first.get("display"), code.get("text")
                            shown = display if isinstance(display, str) and display else value
                            # Every name of HER2 has a "2": a name without one is not asked (most names).
                            if not ("2" in shown and looks_like_her2(shown)) and not (
                                type(named) is str and named != shown and "2" in named and looks_like_her2(named)
                            ):
                                same[ident] = None  # read, and dropped
                                continue
            same[ident] = resource
            if medication:
                given.append(resource)
    return {kind: [r for r in same.values() if r is not None] for kind, same in by_id.items()}, given


def _condition_concept(code: Any, terminology: Terminology, known: dict[tuple[str, str], str | None]) -> str | None:
    """terminology.condition_concept, answered from `known` for a code of one coding: a chart repeats its
    diagnoses, and the concept depends on the codings' systems and codes alone (prefixes are scanned per miss)."""
    coding = code.get("coding") if type(code) is dict else None
    if type(coding) is list and len(coding) == 1 and type(first := coding[0]) is dict:
        system, value = first.get("system"), first.get("code")
        if type(system) is str and type(value) is str:
            key = (system, value)
            if key not in known:
                known[key] = terminology.condition_concept(code)
            return known[key]
    return terminology.condition_concept(code)


def _age(patient: Mapping[str, Any] | None, today: date) -> int | None:
    birth = day_of(as_map(patient).get("birthDate"))
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _hr(
    readings: list[Reading], positive_percent: float
) -> tuple[str | None, tuple[Evidence, ...], tuple[tuple[str, str], ...]]:
    status: dict[str, tuple[bool, Evidence]] = {}
    for r in readings:  # newest first: the first usable reading of each receptor counts
        if r.concept not in ("estrogen-receptor", "progesterone-receptor") or r.concept in status:
            continue
        if r.value in ("positive", "negative"):
            status[r.concept] = (r.value == "positive", r.evidence)
        elif r.number is not None:
            status[r.concept] = (r.number >= positive_percent, r.evidence)
    basis = tuple(e for _, e in status.values())
    each = tuple((receptor, "positive" if positive else "negative") for receptor, (positive, _) in status.items())
    if any(positive for positive, _ in status.values()):
        return "positive", basis, each
    if len(status) == 2:
        return "negative", basis, each
    return None, basis, each  # one receptor negative and the other unknown is not HR-negative


def _pregnancy(
    readings: list[Reading],
    conditions: Sequence[tuple[str, Mapping[str, Any], Evidence]],
    today: date,
    pregnant_days: float,
    not_pregnant_days: float,
) -> tuple[str | None, tuple[Evidence, ...]]:
    """An active pregnancy Condition wins; otherwise the newest pregnancy status or hCG test still valid.

    "Not pregnant" goes stale much sooner than "pregnant": it cannot hide a pregnancy for months."""
    current = [e for concept, c, e in conditions if concept == "pregnancy" and is_current_condition(c)]
    if current:
        return "pregnant", tuple(current)
    for r in readings:  # newest first
        if r.concept == "pregnancy-status" and r.value in ("pregnant", "not-pregnant"):
            value = r.value
        elif r.concept == "pregnancy-test" and r.value in ("positive", "negative"):
            value = "pregnant" if r.value == "positive" else "not-pregnant"
        else:
            continue
        day = day_of(r.evidence.date)
        age = (today - day).days if day else None
        limit = pregnant_days if value == "pregnant" else not_pregnant_days
        if age is not None and age <= limit:
            return value, (r.evidence,)
        return None, ()  # the newest result is stale or undated: the status is not known today
    return None, ()


def build_facts(
    data: PatientData,
    terminology: Terminology,
    knowledge: Knowledge,
    patient_id: str,
    today: date,
    grouped: Grouped | None = None,
) -> PatientFacts:
    """The facts of a screened record; `grouped`: its resources by type as group_own found them, if it did."""
    of_type, given = _by_type(data, terminology.observation_codes) if grouped is None else grouped
    readings, unreadable = read_observations(of_type.get("Observation", ()), terminology)

    conditions = []
    known: dict[tuple[str, str], str | None] = {}
    for c in of_type.get("Condition", ()):
        concept = _condition_concept(c.get("code"), terminology, known)  # the code first: it drops most at once
        if concept and is_usable(c):
            status = ", ".join(code for _, code, _ in codings(c.get("clinicalStatus"))) or "status not recorded"
            label = first_display(c.get("code")) or concept
            evidence = Evidence(reference_of(c), condition_date(c), label, status)
            conditions.append((concept, c, evidence))

    def of(concept: str, current_only: bool = False) -> tuple[Evidence, ...]:
        return tuple(e for k, c, e in conditions if k == concept and (is_current_condition(c) or not current_only))

    stage_records = []
    for concept, condition, evidence in conditions:
        if not concept.startswith("breast-cancer"):
            continue
        for stage in as_list(condition.get("stage")):
            summary = as_map(as_map(stage).get("summary"))
            found = terminology.staging_value(summary) or parse_staging_text(
                first_display(summary) or "", "stage-group"
            )
            if found and found.kind == "stage":
                stage_records.append(
                    Categorised(found, Evidence(evidence.reference, evidence.date, "Condition.stage", found.value))
                )
    staging = staging_facts(readings, stage_records, [*of("metastasis-distant"), *of("metastasis-brain")])

    # Medications read for the call, and any a prefetch carried along (e.g. `_include=…:medication`).
    fetched: dict[str, Mapping[str, Any]] = {
        k: v[0] for k, v in data.resources.items() if k.startswith("Medication/") and v
    }
    fetched |= {reference_of(r): r for r in of_type.get("Medication", ()) if r.get("id")}
    exposures, medications_unread = read_given(given, terminology, fetched)
    therapy = therapy_facts(
        exposures,
        staging.setting,
        staging.metastatic_since,
        gap_days=int(knowledge.definition("new_line_gap_days")),
        sensitive_months=knowledge.definition("trastuzumab_sensitive_months"),
    )
    systemic = [
        e.start
        for e in exposures
        if e.start and (e.drug_class.startswith("anti-her2") or e.drug_class in CHEMOTHERAPY_CLASSES)
    ]
    staging = after_systemic_therapy(staging, systemic)
    her2 = classify_her2(
        readings,
        Thresholds(
            ratio=knowledge.parameter("T3", "ratio_min"),
            copy_number=knowledge.parameter("T3", "copy_number_min"),
            copy_number_high=knowledge.parameter("T5", "copy_number_min"),
            window_days=int(knowledge.definition("her2_specimen_window_days")),
        ),
    )
    her2_unreadable = tuple(e for c, e in unreadable if c.startswith("her2") and c != "her2-unknown-code")
    unknown_codes = tuple(e for c, e in unreadable if c == "her2-unknown-code")
    if her2_unreadable or unknown_codes:
        not_understood = (*her2.not_understood, *unknown_codes)
        her2 = Her2Status(her2.current, her2.earlier, not_understood, her2_unreadable, her2.serum)
    hr, hr_basis, receptors = _hr(readings, knowledge.definition("hr_positive_percent_min"))
    lvef = tuple(
        Lvef(r.number * 100 if r.number <= 1.5 else r.number, r.evidence)  # a fraction (0.55) means 55 %
        for r in readings
        if r.concept == "lvef" and r.number is not None and r.number > 0
    )
    pregnancy, pregnancy_basis = _pregnancy(
        readings,
        conditions,
        today,
        knowledge.definition("pregnancy_status_valid_days"),
        knowledge.definition("not_pregnant_status_valid_days"),
    )
    patient = next(iter(of_type.get("Patient", ())), None)
    gender = text(as_map(patient).get("gender"))
    return PatientFacts(
        patient_id=patient_id,
        today=today,
        age=_age(patient, today),
        female=None if not gender or gender == "unknown" else gender == "female",
        breast_cancer=(*of("breast-cancer"), *of("breast-cancer-her2-positive"), *of("breast-cancer-her2-negative")),
        her2_diagnosis=tuple(
            (concept.removeprefix("breast-cancer-her2-"), e) for concept, _, e in conditions if "-her2-" in concept
        ),
        her2=her2,
        hr=hr,
        hr_basis=hr_basis,
        receptors=receptors,
        ki67=next((r.evidence for r in readings if r.concept == "ki67" and r.number is not None), None),
        staging=staging,
        therapy=therapy,
        lvef=lvef,
        pregnancy=pregnancy,
        pregnancy_basis=pregnancy_basis,
        brain_metastases=of("metastasis-brain"),
        ild=of("ild"),
        lv_dysfunction=of("lv-dysfunction", current_only=True),
        unreadable=tuple(e for c, e in unreadable if c != "her2-unknown-code"),
        truncated=tuple(sorted(data.truncated)),
        other_primary=of("cancer-other-primary"),
        dcis=of("breast-carcinoma-in-situ"),
        medications_unread=medications_unread,
    )
