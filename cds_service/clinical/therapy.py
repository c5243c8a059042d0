"""Medication history → exposures, lines of therapy in the metastatic setting, trastuzumab sensitivity.

Counting stays conservative: a line or a sensitivity that depends on a date the record lacks is
unknown (None), and cards say so, rather than a number that looks certain."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple

from ..terminology import ANTI_HER2_CLASSES, CHEMOTHERAPY_CLASSES, DrugMatch, Terminology, text
from .readings import Evidence
from .record import (
    as_list,
    as_map,
    describe_medication,
    fhir_day,
    first_display,
    is_usable,
    medication_concept,
    reference_of,
)

__all__ = ["Exposure", "TherapyFacts", "read_given", "therapy_facts"]

_GIVEN = {
    "MedicationRequest": {"active", "completed", "stopped", "on-hold"},
    "MedicationStatement": {"active", "completed", "stopped", "on-hold"},
    "MedicationAdministration": {"completed", "in-progress", "stopped", "on-hold"},
}
GIVEN_TYPES = frozenset(_GIVEN)
_CURRENT = {"active", "on-hold", "in-progress"}
# Trastuzumab itself and the ADCs built on it: relapse on or soon after any of them is trastuzumab
# resistance (KATHERINE patients relapse after adjuvant T-DM1). Only for sensitivity, not regimen matching.
TRASTUZUMAB_BASED = frozenset(
    {"trastuzumab", "trastuzumab-emtansine", "trastuzumab-deruxtecan", "trastuzumab-rezetecan"}
)


class Exposure(NamedTuple):
    """A drug given. A NamedTuple, not a frozen dataclass: one is built per such record, and cheaply."""

    drug: str
    product: str | None
    contains: frozenset[str]  # the drug and its components (Phesgo contains trastuzumab and pertuzumab)
    drug_class: str
    start: str | None
    end: str | None
    current: bool
    evidence: Evidence


@dataclass(frozen=True)
class TherapyFacts:
    exposures: tuple[Exposure, ...] = ()
    received: frozenset[str] = frozenset()
    current_anti_her2: tuple[Exposure, ...] = ()
    metastatic_regimens: tuple[tuple[Exposure, ...], ...] | None = None  # None: cannot tell
    metastatic_chemo_lines: int | None = None
    metastatic_endocrine_lines: int | None = None
    trastuzumab: str | None = None  # sensitive | resistant
    trastuzumab_basis: tuple[Evidence, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)  # phrase keys: why a line or sensitivity is unknown

    @property
    def next_metastatic_line(self) -> int | None:
        return None if self.metastatic_regimens is None else len(self.metastatic_regimens) + 1


def _bounds(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    dosage = as_map((as_list(resource.get("dosageInstruction")) or [None])[0])
    return as_map(as_map(as_map(dosage.get("timing")).get("repeat")).get("boundsPeriod"))


def _period(resource: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """When a drug was given: the first readable start and end, in order of preference (start: the effective
    period, the effective date, the dosage's bounds, the dispense validity, authoredOn, dateAsserted; end: the
    effective period, the bounds, the validity). Each field is read once for both, and only a value the record
    has is read as a date (a MedicationRequest of a chart has authoredOn and little else of these)."""
    dosage = resource.get("dosageInstruction")
    if dosage is None or (type(dosage) is list and dosage and type(dosage[0]) is dict and "timing" not in dosage[0]):
        bounds = _NO_PERIOD  # no dosage, or a first one without timing (a text): no bounds, as _bounds would say
        if "effectivePeriod" not in resource and "dispenseRequest" not in resource:
            # The usual order or statement: no period at all, so the start is one of its dates and there is no end.
            for value in (resource.get("effectiveDateTime"), resource.get("authoredOn"), resource.get("dateAsserted")):
                if value is not None and (start := fhir_day(value)):
                    return start, None
            return None, None
    else:
        bounds = _bounds(resource)
    period = as_map(resource.get("effectivePeriod")) if "effectivePeriod" in resource else _NO_PERIOD
    validity = (
        as_map(as_map(resource.get("dispenseRequest")).get("validityPeriod"))
        if "dispenseRequest" in resource
        else _NO_PERIOD
    )
    start = end = None
    for value in (
        period.get("start"),
        resource.get("effectiveDateTime"),
        bounds.get("start"),
        validity.get("start"),
        resource.get("authoredOn"),
        resource.get("dateAsserted"),
    ):
        if value is not None and (start := fhir_day(value)):
            break
    for value in (period.get("end"), bounds.get("end"), validity.get("end")):
        if value is not None and (end := fhir_day(value)):
            break
    return start, end


_NO_PERIOD: Mapping[str, Any] = MappingProxyType({})


def read_given(
    resources: Iterable[Mapping[str, Any]], terminology: Terminology, fetched: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Exposure], tuple[Evidence, ...]]:
    """The exposures to known drugs, in order of start; and the records of drugs given whose drug cannot be read
    at all: their Medication is neither contained, sent nor fetched, and the reference carries no name (silence
    would undercount lines of therapy; the cards say so). One pass: each record's medication is read once."""
    found = []
    unread = []
    # A chart repeats one medication concept every cycle: within this call, a plain concept's (one coding, text)
    # drug, and the name the record gives it, are read once (both depend on the coding and the text alone).
    matches: dict[tuple[Any, ...], tuple[DrugMatch | None, str | None]] = {}
    drugs_in: dict[str, frozenset[str]] = {}  # drug -> it and its components: one set per drug, shared
    for resource in resources:
        kind, status = resource.get("resourceType"), resource.get("status")  # `text` in line: read for every record
        statuses = _GIVEN.get(kind) if type(kind) is str else None
        if statuses is None or not isinstance(status, str) or status not in statuses:
            continue
        if "verificationStatus" in resource and not is_usable(resource):  # the status was read just above
            continue
        concept = resource.get("medicationCodeableConcept")
        shown: str | None = None
        if type(concept) is dict:  # the usual shape: its answer remembered (_match in line)
            coding = concept.get("coding")
            if type(coding) is list and len(coding) == 1 and type(first := coding[0]) is dict:
                key = (first.get("system"), first.get("code"), first.get("display"), concept.get("text"))
                try:
                    match, shown = matches[key]
                except KeyError:
                    match, shown = matches[key] = (terminology.match_drug(concept), first_display(concept))
                except TypeError:  # an unhashable value (a list where a code belongs): no shortcut
                    match, shown = terminology.match_drug(concept), first_display(concept)
            else:
                match, shown = terminology.match_drug(concept), first_display(concept)
        else:  # a reference or an odd shape: the general way
            concept = medication_concept(resource, None, fetched)
            if concept is None:
                target = text(as_map(resource.get("medicationReference")).get("reference")) or "no medication"
                unread.append(Evidence(reference_of(resource), _period(resource)[0], target, status))
                continue
            match = terminology.match_drug(concept)  # (the record's own name is not this concept's: read below)
        if match is None:
            continue
        drug = terminology.drugs[match.drug]
        start, end = _period(resource)
        label = shown or describe_medication(resource, drug.label.en)
        contains = drugs_in.get(match.drug)
        if contains is None:
            contains = drugs_in[match.drug] = frozenset({match.drug, *drug.components})
        found.append(
            Exposure(
                match.drug,
                match.product,
                contains,
                drug.drug_class,
                start,
                end,
                status in _CURRENT,
                Evidence(reference_of(resource), start, label, status),
            )
        )
    found.sort(key=lambda e: e.start or "")
    return found, tuple(unread)


def _days(later: str, earlier: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def _regimens(exposures: Sequence[Exposure], gap_days: int) -> list[list[Exposure]]:
    """Consecutive regimens: a drug new to the current regimen, started after the gap, opens the next."""
    regimens: list[list[Exposure]] = []
    drugs: set[str] = set()  # of the last regimen, kept as it grows (not rebuilt for every exposure)
    for exposure in exposures:
        last = regimens[-1] if regimens else None
        if last and (exposure.drug in drugs or _days(exposure.start or "", last[0].start or "") <= gap_days):
            last.append(exposure)
            drugs.add(exposure.drug)
        else:
            regimens.append([exposure])
            drugs = {exposure.drug}
    return regimens


def _valid(day: str | None) -> bool:
    return day is not None and fhir_day(day) == day


def therapy_facts(
    exposures: Sequence[Exposure],
    setting: str | None,
    metastatic_since: str | None,
    *,
    gap_days: int,
    sensitive_months: float,
) -> TherapyFacts:
    anti_her2 = [e for e in exposures if e.drug_class in ANTI_HER2_CLASSES]
    received = frozenset(d for e in exposures for d in e.contains)
    notes: list[str] = []
    regimens: list[list[Exposure]] | None = None
    chemo_lines = endocrine_lines = None
    sensitivity: str | None = None
    basis: tuple[Evidence, ...] = ()

    if setting == "metastatic":
        undated = [e for e in exposures if not _valid(e.start)]
        if not anti_her2:
            regimens, sensitivity = [], "sensitive"
        if metastatic_since and not undated:
            metastatic = [e for e in exposures if e.start and e.start >= metastatic_since]
            regimens = _regimens([e for e in metastatic if e.drug_class in ANTI_HER2_CLASSES], gap_days)
            chemo_lines = len(_regimens([e for e in metastatic if e.drug_class in CHEMOTHERAPY_CLASSES], gap_days))
            endocrine_lines = len(_regimens([e for e in metastatic if e.drug_class == "endocrine"], gap_days))
            sensitivity, basis = _sensitivity(anti_her2, metastatic_since, sensitive_months)
        elif anti_her2 or exposures:
            notes.append("metastasis-date-missing" if not metastatic_since else "therapy-dates-missing")
            if anti_her2:
                regimens = None
    return TherapyFacts(
        exposures=tuple(exposures),
        received=received,
        current_anti_her2=tuple(e for e in anti_her2 if e.current),
        metastatic_regimens=None if regimens is None else tuple(tuple(r) for r in regimens),
        metastatic_chemo_lines=chemo_lines,
        metastatic_endocrine_lines=endocrine_lines,
        trastuzumab=sensitivity,
        trastuzumab_basis=basis,
        notes=tuple(notes),
    )


def _sensitivity(
    anti_her2: Sequence[Exposure], metastatic_since: str, sensitive_months: float
) -> tuple[str | None, tuple[Evidence, ...]]:
    given = [e for e in anti_her2 if e.contains & TRASTUZUMAB_BASED]
    if not given:
        return "sensitive", ()
    metastatic = [e for e in given if (e.start or "") >= metastatic_since]
    if metastatic:
        return "resistant", tuple(e.evidence for e in metastatic)  # the next line follows progression on H
    # Adjuvant trastuzumab: relapse within the cut-off of its end is resistance. An unknown end is bounded
    # below by the last start, which can prove resistance but never sensitivity.
    limit_days = sensitive_months * 365.25 / 12
    ends = [e.end for e in given]
    last = max((e.end or e.start or "") for e in given)
    interval = _days(metastatic_since, last)
    if interval < limit_days:
        return "resistant", tuple(e.evidence for e in given)
    if all(_valid(end) for end in ends):
        return "sensitive", tuple(e.evidence for e in given)
    return None, tuple(e.evidence for e in given)
