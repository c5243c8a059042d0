"""Frozen copy of the former medication-record readers of cds_service/clinical/therapy.py: the oracle for
read_given and _period (tests/unit/test_engine_fast_paths.py)."""

from collections.abc import Iterable, Mapping
from typing import Any

from cds_service.clinical.evidence import Evidence
from cds_service.clinical.record import (
    as_list,
    as_map,
    describe_medication,
    fhir_day,
    is_usable,
    medication_concept,
    reference_of,
)
from cds_service.clinical.therapy import _CURRENT, _GIVEN, Exposure
from cds_service.terminology import DrugMatch, Terminology, text


def _bounds(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    dosage = as_map((as_list(resource.get("dosageInstruction")) or [None])[0])
    return as_map(as_map(as_map(dosage.get("timing")).get("repeat")).get("boundsPeriod"))


def start(resource: Mapping[str, Any], bounds: Mapping[str, Any] | None = None) -> str | None:
    return (
        fhir_day(as_map(resource.get("effectivePeriod")).get("start"))
        or fhir_day(resource.get("effectiveDateTime"))
        or fhir_day((_bounds(resource) if bounds is None else bounds).get("start"))
        or fhir_day(as_map(as_map(resource.get("dispenseRequest")).get("validityPeriod")).get("start"))
        or fhir_day(resource.get("authoredOn"))
        or fhir_day(resource.get("dateAsserted"))
    )


def end(resource: Mapping[str, Any], bounds: Mapping[str, Any] | None = None) -> str | None:
    return (
        fhir_day(as_map(resource.get("effectivePeriod")).get("end"))
        or fhir_day((_bounds(resource) if bounds is None else bounds).get("end"))
        or fhir_day(as_map(as_map(resource.get("dispenseRequest")).get("validityPeriod")).get("end"))
    )


def read_given(
    resources: Iterable[Mapping[str, Any]], terminology: Terminology, fetched: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Exposure], tuple[Evidence, ...]]:
    """The exposures to known drugs, in order of start; and the records of drugs given whose drug cannot be read
    at all: their Medication is neither contained, sent nor fetched, and the reference carries no name (silence
    would undercount lines of therapy; the cards say so). One pass: each record's medication is read once."""
    found = []
    unread = []
    # A chart repeats one medication concept every cycle: within this call, a plain concept's (one coding, text)
    # answer is looked up once.
    matches: dict[tuple[Any, ...], DrugMatch | None] = {}
    for resource in resources:
        kind, status = text(resource.get("resourceType")), text(resource.get("status"))
        statuses = _GIVEN.get(kind)
        if statuses is None or status not in statuses:
            continue
        if "verificationStatus" in resource and not is_usable(resource):  # the status was read just above
            continue
        concept = resource.get("medicationCodeableConcept")
        if type(concept) is not dict:  # the usual shape read directly; a reference or an odd one the general way
            concept = medication_concept(resource, None, fetched)
        if concept is None:
            target = text(as_map(resource.get("medicationReference")).get("reference")) or "no medication"
            unread.append(Evidence(reference_of(resource), start(resource), target, status))
            continue
        match = _match(concept, terminology, matches)
        if match is None:
            continue
        drug = terminology.drugs[match.drug]
        bounds = _bounds(resource)
        start_, end_ = start(resource, bounds), end(resource, bounds)
        label = describe_medication(resource, drug.label.en)
        found.append(
            Exposure(
                match.drug,
                match.product,
                frozenset({match.drug, *drug.components}),
                drug.drug_class,
                start_,
                end_,
                status in _CURRENT,
                Evidence(reference_of(resource), start_, label, status),
            )
        )
    found.sort(key=lambda e: e.start or "")
    return found, tuple(unread)


def _match(
    concept: Mapping[str, Any], terminology: Terminology, matches: dict[tuple[Any, ...], DrugMatch | None]
) -> DrugMatch | None:
    """terminology.match_drug, answered from `matches` for a concept of one coding: match_drug reads only the
    codings' system, code and display and the text, so equal keys get equal answers."""
    coding = concept.get("coding")
    if type(coding) is not list or len(coding) != 1 or type(coding[0]) is not dict:
        return terminology.match_drug(concept)
    first = coding[0]
    key = (first.get("system"), first.get("code"), first.get("display"), concept.get("text"))
    try:
        return matches[key]
    except KeyError:
        matches[key] = found = terminology.match_drug(concept)
        return found
    except TypeError:  # an unhashable value (a list where a code belongs): no shortcut
        return terminology.match_drug(concept)
