"""Frozen copies of the former readers of cds_service/clinical/readings.py: the oracles for _number and
read_observations (tests/unit/test_engine_fast_paths.py)."""

from collections.abc import Iterable, Mapping
from typing import Any

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from cds_service.clinical.evidence import Evidence
from cds_service.clinical.readings import Reading, looks_like_her2
from cds_service.clinical.record import as_map, describe_value, effective_date, first_display, is_usable, reference_of
from cds_service.clinical.staging import parse_staging_text
from cds_service.terminology import Staging, Terminology, codings, text
from tests.unit.former.plainfhir import plainly_valid_observation


def number(element: Mapping[str, Any]) -> float | None:
    quantity = as_map(element.get("valueQuantity"))
    value = quantity.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    ratio = as_map(element.get("valueRatio"))
    numerator = as_map(ratio.get("numerator")).get("value")
    denominator = as_map(ratio.get("denominator")).get("value")
    if isinstance(numerator, int | float) and isinstance(denominator, int | float) and denominator:
        return float(numerator) / float(denominator)
    integer = element.get("valueInteger")
    if isinstance(integer, int) and not isinstance(integer, bool):
        return float(integer)
    return None


def _reading(
    concept: str,
    prefix: str | None,
    element: Mapping[str, Any],
    reference: str,
    date: str | None,
    specimen: str | None,
    terminology: Terminology,
) -> Reading:
    coded = element.get("valueCodeableConcept")
    is_coded = coded is not None and (type(coded) is dict or isinstance(coded, Mapping))  # no ABC check for None
    string = text(element.get("valueString"))
    value = terminology.result_value(coded) if is_coded else terminology.value_of_text(string)
    staging = None
    if concept in ("stage-group", "t-category", "n-category", "m-category"):
        staging = terminology.staging_value(coded) if is_coded else None
        shown = first_display(coded) if is_coded else string
        staging = staging or parse_staging_text(shown or "", concept)
        if staging and staging.prefix is None and prefix:
            staging = Staging(staging.kind, staging.value, prefix)
        value = None
    label = first_display(element.get("code")) or concept
    evidence = Evidence(reference, date, label, describe_value(element))
    return Reading(concept, evidence, value, number(element), staging, specimen)


def _newest(reading: Reading) -> str:
    return reading.evidence.date or ""


_Code = tuple[str, str | None]  # (concept id, staging prefix c|p)


def _scan(codeable: Any, table: Mapping[Any, _Code]) -> tuple[_Code | None, bool, str]:
    """terminology.observation_code and first_display's coding part in one pass without building coding tuples,
    for plain JSON; and whether the shape was plain (else the caller asks the general readers). Most Observations
    of a large record are vitals and labs no mapping knows: this is what each of them costs."""
    if type(codeable) is not dict:
        return None, codeable is None, ""
    coding = codeable.get("coding")
    if coding is None:
        return None, True, ""
    if type(coding) is not list:
        return None, False, ""
    shown = ""
    for c in coding:
        if type(c) is not dict:
            return None, False, ""
        system, code = c.get("system"), c.get("code")
        system, code = system if isinstance(system, str) else "", code if isinstance(code, str) else ""
        found = table.get((system, code))
        if found:
            return found, True, ""
        if not shown:
            display = c.get("display")
            shown = (display if isinstance(display, str) else "") or code
    return None, True, shown


def _observation_code(codeable: Any, terminology: Terminology) -> _Code | None:
    found, plain, _ = _scan(codeable, terminology.observation_codes)
    return found if plain else terminology.observation_code(codeable)


def _named_her2(codeable: Any, shown: str | None) -> bool:
    """Whether the first display (or code) or the text of a code names HER2: the verdict of the regex over both
    joined by a space (no match can span the space), each name's verdict remembered."""
    return bool(shown and looks_like_her2(shown)) or looks_like_her2(text(as_map(codeable).get("text")))


def read_observations(
    resources: Iterable[Mapping[str, Any]], terminology: Terminology
) -> tuple[list[Reading], list[tuple[str, Evidence]]]:
    """Readings of every relevant, usable Observation (and its components), and the unreadable ones
    with their concept."""
    readings: list[Reading] = []
    unreadable: list[tuple[str, Evidence]] = []
    table = terminology.observation_codes
    for raw in resources:
        # The code first (a dict look-up), then whether the record is retracted: both must pass, and the code
        # rejects most of a large record at once. The usual shape (one coding, no components) is looked up here
        # with the fewest operations; anything else goes the general way below.
        code, component_list = raw.get("code"), raw.get("component")
        found: _Code | None = None
        if component_list is None and type(code) is dict:
            coding = code.get("coding")
            if type(coding) is list and len(coding) == 1 and type(first := coding[0]) is dict:
                system, value = first.get("system"), first.get("code")
                if type(system) is str and type(value) is str:
                    found = table.get((system, value))
                    if found is None:
                        # No mapping knows it (most of a chart: vitals, labs): dropped unless it names HER2 (the
                        # text is most often the display again: one verdict then).
                        display, named = first.get("display"), code.get("text")
                        shown = display if isinstance(display, str) and display else value
                        if not (shown and looks_like_her2(shown)) and not (
                            type(named) is str and named != shown and looks_like_her2(named)
                        ):
                            continue
        if raw.get("resourceType") != "Observation":
            continue
        components: list[tuple[Any, _Code | None]] = []
        if not found:
            found, plain, shown = _scan(code, table)
            if not plain:
                found, shown = terminology.observation_code(code), first_display(code) or ""
            if isinstance(component_list, list):
                components = [(c, _observation_code(as_map(c).get("code"), terminology)) for c in component_list]
        if not found and not any(code for _, code in components):
            if not is_usable(raw):
                continue
            if _named_her2(code, shown or first_display(code)):
                # Looks like HER2 but its code is not mapped: report it instead of silently ignoring it.
                shown = ", ".join(f"{s}|{c}" for s, c, _ in codings(raw.get("code"))) or "no code"
                evidence = Evidence(reference_of(raw), effective_date(raw), first_display(raw.get("code")) or "HER2",
                                    f"code not in mappings ({shown})")  # fmt: skip
                unreadable.append(("her2-unknown-code", evidence))
            continue
        if not is_usable(raw):
            continue
        reference, date = reference_of(raw), effective_date(raw)
        try:
            if not plainly_valid_observation(raw):  # most are: the full validation only where it can say no
                Observation.model_validate(raw)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            concept = found[0] if found else next(code[0] for _, code in components if code)
            label = first_display(raw.get("code")) or concept
            unreadable.append((concept, Evidence(reference, date, label, f"not valid FHIR (at {where})")))
            continue
        specimen = text(as_map(raw.get("specimen")).get("reference")) or None
        if found:
            readings.append(_reading(found[0], found[1], raw, reference, date, specimen, terminology))
        for component, code in components:
            if code:
                readings.append(_reading(code[0], code[1], component, reference, date, specimen, terminology))
    readings.sort(key=_newest, reverse=True)  # newest first; undated last
    return readings, unreadable
