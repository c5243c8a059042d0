"""A FHIR R4 ConceptMap skeleton for codes the service does not recognise, for an integrator to fill in.

One group per (source system, target system); one element per code, its target left `unmatched` with a
comment suggesting what this service understands. The loader (conceptmap.py) uses only targets with a
code and equivalence `equivalent` or `equal`, so an unfilled skeleton loads harmlessly (it maps nothing),
and a filled-in target naming a code the service does not know stops start-up, naming the element."""

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from fhir.resources.R4B.conceptmap import ConceptMap

from .conceptmap import CONCEPT_SYSTEM
from .loader import Terminology, normalise

__all__ = ["TARGET_SYSTEMS", "Wanted", "concept_map_skeleton"]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
# Where each kind of code is best mapped: standard lab and answer codes (LOINC) keep what the service's
# own tables say about them (a clinical or pathological staging code); drugs and diagnoses map to the
# service's own concept ids, a short list an integrator can choose from.
TARGET_SYSTEMS = {
    "observation": LOINC,
    "value": LOINC,
    "staging": SNOMED,
    "condition": CONCEPT_SYSTEM,
    "drug": CONCEPT_SYSTEM,
}
FILL_IN = "Fill in: target code, and equivalence 'equivalent' once checked (other equivalences are not used)."

# Words of a display → the observation concept a code with that display most likely is (suggestions only).
_OBSERVATION_HINTS: tuple[tuple[str, str], ...] = (
    (r"ratio|比值|/\s*CEP17|cep17", "her2-ish-ratio"),
    (r"copy|拷贝", "her2-ish-copy-number"),
    (r"FISH|\bISH\b|in situ|原位杂交|扩增|amplif", "her2-ish"),
    (r"serum|血清", "her2-serum"),
    (r"HER-?2|ERBB-?2|c-?erb-?B-?2", "her2-ihc"),
    (r"\bER\b|estrogen|oestrogen|雌激素", "estrogen-receptor"),
    (r"\bPR\b|progesteron|孕激素", "progesterone-receptor"),
    (r"LVEF|ejection|射血分数", "lvef"),
    (r"Ki-?67", "ki67"),
    (r"hCG|choriogonadotropin|绒毛膜促性腺", "pregnancy-test"),
    (r"pregnan|妊娠|怀孕", "pregnancy-status"),
    (r"stage|分期", "stage-group"),
)
_CONDITION_HINTS: tuple[tuple[str, str], ...] = (
    (r"in situ|DCIS|原位", "breast-carcinoma-in-situ"),
    (r"breast|乳腺|乳癌", "breast-cancer"),
    (r"brain|脑", "metastasis-brain"),
    (r"metasta|转移", "metastasis-distant"),
    (r"interstitial|pneumonitis|间质性", "ild"),
    (r"heart failure|cardiomyopathy|心衰|心力衰竭|心功能", "lv-dysfunction"),
    (r"pregnan|妊娠", "pregnancy"),
)
MAX_SUGGESTIONS = 4


class Wanted(Protocol):
    """A code to map: what `clinical.unmapped.FoundCode` provides."""

    @property
    def kind(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def displays(self) -> list[str]: ...
    @property
    def read_as(self) -> str | None: ...


def _hint(hints: Sequence[tuple[str, str]], displays: Sequence[str]) -> str | None:
    joined = " ".join(displays)
    return next((concept for pattern, concept in hints if re.search(pattern, joined, re.IGNORECASE)), None)


def _codes_of(table: Mapping[tuple[str, str], Any], wanted: Any, system: str) -> list[str]:
    return [code for (s, code), value in table.items() if s == system and value == wanted][:MAX_SUGGESTIONS]


def _suggest(item: Wanted, terminology: Terminology) -> str:
    """What to fill in, as a comment: the service's own codes most likely meant, else where to look."""
    displays = [*item.displays, item.read_as or ""]
    if item.kind == "observation":
        concept = _hint(_OBSERVATION_HINTS, displays)
        table = {k: v[0] for k, v in terminology.observation_codes.items()}
        if concept:
            return f"Perhaps {concept}: LOINC {', '.join(_codes_of(table, concept, LOINC))}."
        return "A LOINC code of mappings/observation-codes.yaml, if this is a result the service reads."
    if item.kind == "value":
        value = terminology.value_of_text(item.displays[0]) if item.displays else None
        value = value or (item.read_as.split()[1] if item.read_as else None)
        if value:
            return f"Perhaps {value}: LOINC {', '.join(_codes_of(terminology.value_codes, value, LOINC)) or '-'}."
        return "A LOINC answer code of mappings/result-values.yaml."
    if item.kind == "staging":
        found = re.search(r"stage (\S+)", item.read_as or "")
        wanted = re.sub(r"^(yp|c|p)", "", found.group(1)) if found else None
        codes = [f"{c}" for (s, c), v in terminology.staging_codes.items() if s == SNOMED and v.value == wanted]
        if codes:
            return f"Perhaps stage {wanted}: SNOMED CT {', '.join(codes[:MAX_SUGGESTIONS])}."
        return "A SNOMED CT code of mappings/staging-values.yaml."
    if item.kind == "drug":
        if item.read_as:
            return f"Perhaps {item.read_as.split()[0]} (read from the name)."
        ids = sorted(d for d, drug in terminology.drugs.items() if terminology.is_anti_her2(d))
        return f"A drug or product id of mappings/*-drugs.yaml if it is one, e.g. {', '.join(ids[:6])} ..."
    concept = _hint(_CONDITION_HINTS, displays)
    listed = sorted({*terminology.condition_codes.values(), *(c for _, _, c in terminology.condition_prefixes)})
    return f"Perhaps {concept}." if concept else f"One of: {', '.join(listed)}; if none fits, leave it unmatched."


def concept_map_skeleton(
    items: Sequence[Wanted], terminology: Terminology, *, name: str = "LocalCodes"
) -> dict[str, Any]:
    """The skeleton as FHIR JSON, validated with fhir.resources (R4B ConceptMap: R4's structure)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        target_system = TARGET_SYSTEMS[item.kind]
        elements = groups.setdefault((item.system, target_system), [])
        if any(e["code"] == item.code for e in elements):
            continue  # one code seen both with and without a readable text: one element
        element: dict[str, Any] = {"code": item.code}
        if item.displays:
            element["display"] = item.displays[0]
        comment = f"{FILL_IN} {_suggest(item, terminology)}"
        if item.read_as:
            comment += f" Now read only from its text as {item.read_as}."
        if len(item.displays) > 1:
            comment += " Also shown as: " + "; ".join(item.displays[1:4])
        element["target"] = [{"equivalence": "unmatched", "comment": comment}]
        elements.append(element)
    resource = {
        "resourceType": "ConceptMap",
        "id": re.sub(r"[^A-Za-z0-9\-.]", "-", normalise(name))[:64] or "local-codes",
        "name": re.sub(r"[^A-Za-z0-9_]", "", name)[:64] or "LocalCodes",
        "title": "Local codes for the HER2 CDS service (skeleton: targets to fill in)",
        "status": "draft",
        "description": (
            "Written by `her2-cds codes`. For each element, fill in the target code (a code the service knows in the "
            "group's target system, or one of its concept ids in group target urn:her2-cds:concept) and set "
            "equivalence to 'equivalent'. Targets left 'unmatched' are ignored. Load with HER2_CDS_CONCEPT_MAPS."
        ),
        "group": [
            {"source": source, "target": target, "element": elements}
            for (source, target), elements in sorted(groups.items())
        ],
    }
    ConceptMap.model_validate(resource)  # a bug here is ours: fail loudly rather than write invalid FHIR
    return resource
