"""Observations → readings: the coded meaning of each relevant result, with its date and resource.

Selection happens on raw JSON by code (a dict look-up); only selected Observations are validated with
fhir.resources, and only those whose shape is not plainly valid (plainfhir.py), so a large record costs
little. An Observation that fails validation, or whose value the mappings do not understand, is kept as
such: cards say so instead of guessing."""

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from ..terminology import Staging, Terminology, codings, text
from .evidence import Evidence
from .plainfhir import plainly_valid_observation
from .record import (
    as_map,
    describe_value,
    effective_date,
    first_display,
    is_usable,
    readable_unit,
    reference_of,
)
from .staging import parse_staging_text

__all__ = ["Evidence", "Reading", "looks_like_her2", "read_observations"]

_HER2_WORDS = re.compile(r"\b(HER-?2|ERBB2|c-?erbB-?2)\b", re.IGNORECASE)


@lru_cache(maxsize=4096)  # a chart names the same few hundred tests over and over
def looks_like_her2(name: str) -> bool:
    return _HER2_WORDS.search(name) is not None


class Reading(NamedTuple):
    """One coded result. A NamedTuple, not a frozen dataclass: one is built per relevant result, and a frozen
    dataclass costs several times as much to build."""

    concept: str  # observation concept id (mappings/observation-codes.yaml)
    evidence: Evidence
    value: str | None = None  # result value id (mappings/result-values.yaml)
    number: float | None = None
    staging: Staging | None = None
    specimen: str | None = None

    @property
    def date(self) -> str | None:
        return self.evidence.date

    @property
    def understood(self) -> bool:
        return self.value is not None or self.number is not None or self.staging is not None


def _number(element: Mapping[str, Any]) -> float | None:
    if "valueQuantity" not in element and "valueRatio" not in element and "valueInteger" not in element:
        return None  # a coded or text result (a missing field reads as an empty one below): no look-ups
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


_STAGED = frozenset({"stage-group", "t-category", "n-category", "m-category"})  # read as a stage, not a value


def _reading(
    concept: str,
    prefix: str | None,
    element: Mapping[str, Any],
    reference: str,
    date: str | None,
    specimen: str | None,
    terminology: Terminology,
    label: str | None = None,
) -> Reading:
    """`label`: first_display of the element's code, if the caller has it already."""
    coded = element.get("valueCodeableConcept")
    is_coded = coded is not None and (type(coded) is dict or isinstance(coded, Mapping))  # no ABC check for None
    string = text(element.get("valueString"))
    if is_coded:
        value = terminology.result_value(coded)
    else:
        value = terminology.value_of_text(string) if string else None  # (no text reads as no value)
    staging = None
    if concept in _STAGED:
        staging = terminology.staging_value(coded) if is_coded else None
        shown = first_display(coded) if is_coded else string
        staging = staging or parse_staging_text(shown or "", concept)
        if staging and staging.prefix is None and prefix:
            staging = Staging(staging.kind, staging.value, prefix)
        value = None
    if label is None:
        label = first_display(element.get("code")) or concept
    evidence = Evidence(reference, date, label, describe_value(element))
    return Reading(concept, evidence, value, _number(element), staging, specimen)


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
        label: str | None = None  # first_display of the code, when the usual shape gives it at once
        if component_list is None and type(code) is dict:
            coding = code.get("coding")
            if type(coding) is list and len(coding) == 1 and type(first := coding[0]) is dict:
                system, value = first.get("system"), first.get("code")
                if type(system) is str and type(value) is str:
                    found = table.get((system, value))
                    display = first.get("display")
                    if found is None:
                        # No mapping knows it (most of a chart: vitals, labs): dropped unless it names HER2 (the
                        # text is most often the display again: one verdict then; every name of HER2 has a "2").
                        named = code.get("text")
                        shown = display if isinstance(display, str) and display else value
                        if not ("2" in shown and looks_like_her2(shown)) and not (
                            type(named) is str and named != shown and "2" in named and looks_like_her2(named)
                        ):
                            continue
                    else:  # first_display of one coding (its display, else its code, else the text), else the concept
                        shown = display if isinstance(display, str) and display else value
                        label = shown or text(code.get("text")) or found[0]
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
        plain = plainly_valid_observation(raw)
        try:
            if not plain:  # most are: the full validation only where it can say no
                Observation.model_validate(raw)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            concept = found[0] if found else next(code[0] for _, code in components if code)
            label = first_display(raw.get("code")) or concept
            unreadable.append((concept, Evidence(reference, date, label, f"not valid FHIR (at {where})")))
            continue
        held = raw.get("specimen")
        specimen = (text(as_map(held).get("reference")) or None) if held is not None else None
        if found:
            quantity = raw.get("valueQuantity") if plain and label is not None else None
            if quantity is not None and found[0] not in _STAGED:
                # The usual measured result (LVEF, Ki-67 ...), its plain shape checked just above: a number (no
                # coded or text value besides), and a unit or code that is a non-empty string if there is one.
                amount = quantity["value"]
                unit = readable_unit(quantity.get("unit") or quantity.get("code") or "")
                evidence = Evidence(reference, date, label or found[0], f"{amount} {unit}".strip())
                readings.append(Reading(found[0], evidence, None, float(amount), None, specimen))
            else:
                readings.append(_reading(found[0], found[1], raw, reference, date, specimen, terminology, label))
        for component, code in components:
            if code:
                readings.append(_reading(code[0], code[1], component, reference, date, specimen, terminology))
    readings.sort(key=_newest, reverse=True)  # newest first; undated last
    return readings, unreadable
