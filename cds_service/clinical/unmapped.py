"""Which codes of a patient's record the service does not recognise: what an integrator must map.

"Recognised" is exactly what the engine recognises: every look-up below is the one the engine makes on
the same element (observation codes, result and staging values, drug codes, condition and stage codes,
local ConceptMaps included), on the same resources (the patient's own, not retracted). A code the engine
reads only through its text (a drug named by its display, a "2+" with a local code) is reported apart:
it works, but only as long as the text stays the same.

Values of an Observation the engine does not recognise are never looked up by it; they are reported only
when that Observation looks relevant (mapping it will make the engine read them). Observation.interpretation
and Condition.stage.type are not read by the engine, so they are not reported."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..terminology import Terminology, codings, text
from .identity import belongs_to
from .record import as_list, as_map, first_display, is_usable, medication_concept, reference_of
from .staging import parse_staging_text

__all__ = ["KINDS", "CodeReport", "FoundCode", "find_unmapped", "looks_relevant"]

Kind = Literal["observation", "value", "staging", "condition", "drug"]
KINDS: dict[Kind, str] = {
    "observation": "Observation code",
    "value": "Observation value",
    "staging": "Stage value",
    "condition": "Condition code",
    "drug": "Drug code",
}
MEDICATION_TYPES = frozenset(
    {"MedicationRequest", "MedicationOrder", "MedicationStatement", "MedicationAdministration"}
)
STAGING_CONCEPTS = frozenset({"stage-group", "t-category", "n-category", "m-category"})
MAX_DISPLAY = 120  # a display is a code's name; anything longer is cut, never printed whole

# Words that make a code likely relevant to HER2 decisions (English and Chinese): for ordering only.
_RELEVANT = re.compile(
    r"HER-?2|ERBB-?2|c-?erb-?B-?2|\bneu\b|\bER\b|\bPR\b|\bHR\b|\bER[+-]|\bPR[+-]|estrogen|oestrogen|progesteron"
    r"|hormone receptor|LVEF|\bEF\b|ejection|\bstage|staging|\bTNM\b|\b[cpy]{0,2}[TNM][0-4x]|breast|mamm"
    r"|trastuzumab|pertuzumab|lapatinib|neratinib|tucatinib|pyrotinib|deruxtecan|emtansine|herceptin|Ki-?67"
    r"|\bIHC\b|\bFISH\b|\bISH\b|immunohisto|in situ hybridi|choriogonadotropin|\bhCG\b|pregnan|metasta"
    r"|interstitial|pneumonitis|heart failure|cardiomyopathy"
    r"|曲妥珠|帕妥珠|吡咯替尼|拉帕替尼|奈拉替尼|图卡替尼|雌激素|孕激素|激素受体|射血分数|左室|乳腺|乳癌|分期|免疫组化"
    r"|原位杂交|妊娠|怀孕|转移|间质性肺|心衰|心力衰竭",
    re.IGNORECASE,
)


def looks_relevant(*texts: str) -> bool:
    return any(_RELEVANT.search(t) for t in texts if t)


@dataclass
class FoundCode:
    kind: Kind
    system: str
    code: str
    displays: list[str] = field(default_factory=list)
    count: int = 0  # elements carrying it (a code repeated in one resource counts each time)
    resources: list[str] = field(default_factory=list)  # references only: no values, no names
    relevant: bool = False
    read_as: str | None = None  # what the engine read from the text instead (recognised only by text)
    notes: list[str] = field(default_factory=list)  # e.g. "value of an unrecognised Observation"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.system, self.code)


@dataclass(frozen=True)
class CodeReport:
    unrecognised: tuple[FoundCode, ...]
    by_text: tuple[FoundCode, ...]
    resources_read: int
    left_out: int  # another patient's, or whose patient cannot be confirmed
    not_usable: int  # retracted (entered-in-error, cancelled, refuted): the engine ignores them
    patient_id: str | None


class _Collector:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str, str, bool], FoundCode] = {}

    def add(
        self,
        kind: Kind,
        codeable: Any,
        reference: str,
        *,
        relevant: bool,
        read_as: str | None = None,
        note: str | None = None,
    ) -> None:
        """Every coded coding of a concept the engine did not recognise by code (one of them is to be mapped)."""
        concept_text = text(as_map(codeable).get("text"))
        for system, code, display in codings(codeable):
            if not code:
                continue
            item = self.found.setdefault((kind, system, code, read_as is not None), FoundCode(kind, system, code))
            for shown in (display, concept_text):
                shown = shown.strip()[:MAX_DISPLAY]
                if shown and shown not in item.displays:
                    item.displays.append(shown)
            item.count += 1
            if reference not in item.resources:
                item.resources.append(reference)
            item.relevant = item.relevant or relevant or looks_relevant(display, concept_text)
            item.read_as = item.read_as or read_as
            for said in (note, None if system else "no system: a ConceptMap cannot map it; the sender must add one"):
                if said and said not in item.notes:
                    item.notes.append(said)


def _texts(codeable: Any) -> list[str]:
    return [text(as_map(codeable).get("text")), *(d for _, _, d in codings(codeable))]


def _value(
    found: _Collector, terminology: Terminology, coded: Any, concept: str | None, observed: Any, reference: str
) -> None:
    """An Observation's (or component's) valueCodeableConcept, looked up as the engine reads it."""
    if not isinstance(coded, Mapping) or not codings(coded):
        return
    if concept in STAGING_CONCEPTS:
        if terminology.staging_value(coded):
            return
        staging = parse_staging_text(first_display(coded) or "", concept or "")
        read_as = f"{staging.prefix or ''}{staging.value}" if staging else None
        found.add("staging", coded, reference, relevant=True, read_as=read_as and f"stage {read_as} (from text)")
        return
    if concept is not None:
        if any(terminology.value_codes.get((s, c)) for s, c, _ in codings(coded)):
            return
        by_text = terminology.result_value(coded)
        found.add("value", coded, reference, relevant=True, read_as=by_text and f"value {by_text} (from text)")
        return
    # The Observation itself is not recognised: its value matters once the Observation is mapped.
    if not looks_relevant(*_texts(observed)):
        return
    if any(terminology.value_codes.get((s, c)) or terminology.staging_codes.get((s, c)) for s, c, _ in codings(coded)):
        return
    by_text = terminology.result_value(coded)
    found.add(
        "value",
        coded,
        reference,
        relevant=True,
        read_as=by_text and f"value {by_text} (from text)",
        note="value of an Observation the service does not recognise yet",
    )


def _observation(found: _Collector, terminology: Terminology, resource: Mapping[str, Any]) -> None:
    reference = reference_of(resource)
    code = terminology.observation_code(resource.get("code"))
    if code is None:
        found.add("observation", resource.get("code"), reference, relevant=False)
    _value(found, terminology, resource.get("valueCodeableConcept"), code and code[0], resource.get("code"), reference)
    for component in as_list(resource.get("component")):
        part = as_map(component)
        part_code = terminology.observation_code(part.get("code"))
        if part_code is None:
            found.add("observation", part.get("code"), reference, relevant=False, note="component code")
        value = part.get("valueCodeableConcept")
        _value(found, terminology, value, part_code and part_code[0], part.get("code"), reference)


def _condition(found: _Collector, terminology: Terminology, resource: Mapping[str, Any]) -> None:
    reference = reference_of(resource)
    concept = terminology.condition_concept(resource.get("code"))
    if concept is None:
        found.add("condition", resource.get("code"), reference, relevant=False)
    # The engine reads stage summaries of breast-cancer Conditions only; an unrecognised Condition's
    # stages matter once it is mapped, if it looks like breast cancer.
    if not (concept or "").startswith("breast-cancer") and not (
        concept is None and looks_relevant(*_texts(resource.get("code")))
    ):
        return
    for stage in as_list(resource.get("stage")):
        summary = as_map(as_map(stage).get("summary"))
        if not codings(summary) or terminology.staging_value(summary):
            continue
        parsed = parse_staging_text(first_display(summary) or "", "stage-group")
        read_as = (
            f"stage {parsed.prefix or ''}{parsed.value} (from text)" if parsed and parsed.kind == "stage" else None
        )
        found.add("staging", summary, reference, relevant=True, read_as=read_as, note="Condition.stage.summary")


def _medication(
    found: _Collector,
    terminology: Terminology,
    resource: Mapping[str, Any],
    medications: Mapping[str, Mapping[str, Any]],
) -> None:
    reference = reference_of(resource)
    concept = medication_concept(resource, None, medications)
    if concept is None:
        return
    target = text(as_map(resource.get("medicationReference")).get("reference"))
    where = (
        f"{reference} ({target})"
        if target and not isinstance(resource.get("medicationCodeableConcept"), Mapping)
        else reference
    )
    match = terminology.match_drug(concept)
    if match is None:
        found.add("drug", concept, where, relevant=False)
    elif match.evidence.startswith("name "):
        read_as = f"{match.product or match.drug} ({match.evidence})"
        found.add("drug", concept, where, relevant=True, read_as=read_as)


def find_unmapped(
    resources: Iterable[Mapping[str, Any]], terminology: Terminology, patient_id: str | None = None
) -> CodeReport:
    """The codes of these resources the engine does not recognise (or recognises only by text).

    With a patient id, only that patient's resources count (and resources outside any patient, such as
    Medications); without one, every resource does."""
    kept: list[Mapping[str, Any]] = []
    left_out = not_usable = 0
    seen: set[str] = set()
    for resource in resources:
        reference = reference_of(resource)
        if reference in seen and not reference.endswith("/?"):
            continue  # one resource returned by two queries counts once, as in the engine
        seen.add(reference)
        if patient_id is not None and belongs_to(resource, patient_id) not in ("own", "none"):
            left_out += 1
        elif not is_usable(resource):
            not_usable += 1
        else:
            kept.append(resource)
    medications = {reference_of(r): r for r in kept if r.get("resourceType") == "Medication"}
    found = _Collector()
    for resource in kept:
        kind = text(resource.get("resourceType"))
        if kind == "Observation":
            _observation(found, terminology, resource)
        elif kind == "Condition":
            _condition(found, terminology, resource)
        elif kind in MEDICATION_TYPES:
            _medication(found, terminology, resource, medications)
    order = list(KINDS)

    def rank(item: FoundCode) -> tuple[bool, int, int, str, str]:
        return (not item.relevant, order.index(item.kind), -item.count, item.system, item.code)

    items = sorted(found.found.values(), key=rank)
    return CodeReport(
        unrecognised=tuple(i for i in items if i.read_as is None),
        by_text=tuple(i for i in items if i.read_as is not None),
        resources_read=len(kept),
        left_out=left_out,
        not_usable=not_usable,
        patient_id=patient_id,
    )
