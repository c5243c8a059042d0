"""Stage group, TNM categories, disease setting and neoadjuvant response from staging readings.

AJCC codes come through mappings/staging-values.yaml; plain texts ("IIB", "Stage IV", "ypT0",
"cN1") are parsed here, because every system writes them slightly differently."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..terminology import Staging
from .evidence import Evidence

if TYPE_CHECKING:
    from .readings import Reading

__all__ = ["StagingFacts", "after_systemic_therapy", "missing_for_setting", "parse_staging_text", "staging_facts"]

_ARABIC = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV"}
_STAGE = re.compile(r"(?:ajcc\s*)?(?:stage\s*)?(0is|is|iv|iii[abc]?|ii[ab]?|i[ab]?|[0-4][abc]?)\s*期?", re.IGNORECASE)
_TNM = re.compile(
    r"(yp|c|p)?\s*(t(?:is|mi|x|1mi|[0-4][a-d]?)|n(?:x|[0-3](?:mi|[a-c])?)(?:\s*\(.*\))?|m(?:x|[01]))", re.IGNORECASE
)
# Labels Chinese and English reports put before the stage itself ("临床分期：IIIA期", "Pathologic stage: IIB").
_STAGE_LABEL = re.compile(
    r"^(?:(?:临床|病理|术后病理)?\s*(?:tnm\s*)?分期|(?:clinical|pathologic(?:al)?|prognostic)\s+stage(?:\s+group)?)\s*[:：]?\s*",
    re.IGNORECASE,
)
_CELLS = re.compile(r"\(\s*(i|mol)\s*([+-])\s*\)", re.IGNORECASE)
# Stage and TNM texts are a few characters ("Stage IIIA", "ypN1mi (i+)"); longer ones are not staging.
MAX_STAGING_TEXT = 64
_KIND = {"t-category": "T", "n-category": "N", "m-category": "M"}
_LOCALLY_ADVANCED_T = {"T4", "T4a", "T4b", "T4c", "T4d"}
_LOCALLY_ADVANCED_N = ("N2", "N3")


def _stage_value(raw: str) -> str:
    raw = raw.upper()
    if raw in ("0IS", "IS"):
        return "0is" if raw == "0IS" else "IS"
    if raw[0].isdigit():
        return _ARABIC[raw[0]] + raw[1:]
    return raw


def _category_value(raw: str) -> str:
    head, rest = raw[0].upper(), raw[1:]
    # Isolated tumour cells stay visible: ypN0(i+) is not a pathologic complete response (AJCC 8).
    # Anchored matches on slices (not a search for `\s*\(` at every position): linear on any input.
    cells = _CELLS.fullmatch(rest[rest.rfind("(") :]) if "(" in rest else None
    suffix = f"({cells.group(1).lower()}{cells.group(2)})" if cells else ""
    rest = rest[: rest.find("(")].rstrip() if "(" in rest else rest
    return head + (rest if rest in ("is", "mi") else rest.lower() if len(rest) > 1 else rest.upper()) + suffix


def parse_staging_text(raw: str, concept: str) -> Staging | None:
    if len(raw) > MAX_STAGING_TEXT * 2:  # bounded work before normalising: staging texts are short
        return None
    # NFKC reads full-width letters and the Roman-numeral signs Chinese reports use ("Ⅲ A期" is IIIA).
    cleaned = unicodedata.normalize("NFKC", raw).strip()
    if len(cleaned) > MAX_STAGING_TEXT:
        return None
    if concept == "stage-group":
        label = _STAGE_LABEL.match(cleaned)
        said = label.group(0).lower() if label else ""
        pathologic, clinical = "病理" in said or "patholog" in said, "临床" in said or "clinical" in said
        prefix = "p" if pathologic else "c" if clinical else None
        cleaned = re.sub(r"(?<=[ivIV])\s+(?=[abcABC]\b|[abcABC]期)", "", cleaned[len(said) :])
        match = _STAGE.fullmatch(cleaned)
        return Staging("stage", _stage_value(match.group(1)), prefix) if match else None
    match = _TNM.fullmatch(cleaned)
    if not match or match.group(2)[0].upper() != _KIND.get(concept):
        return None
    prefix = match.group(1).lower() if match.group(1) else None
    return Staging(_KIND[concept], _category_value(match.group(2)), prefix)


def pathologic_response(t: "Categorised | None", n: "Categorised | None") -> tuple[bool | None, tuple[Evidence, ...]]:
    """pCR = ypT0/Tis and ypN0 (without isolated tumour cells). TX or NX, or a missing half, is unknown
    unless the other half already shows residual disease."""
    basis = tuple(c.evidence for c in (t, n) if c)
    t_value = t.staging.value if t else None
    n_value = n.staging.value if n else None
    # TX, NX and N0(mol+) cannot show a complete response; they do not hide residual disease elsewhere.
    residual_t = None if t_value in (None, "TX", "Tx") else t_value not in ("T0", "Tis")
    residual_n = None if n_value in (None, "NX", "Nx", "N0(mol+)") else n_value not in ("N0", "N0(i-)", "N0(mol-)")
    if residual_t or residual_n:
        return False, basis
    if residual_t is None or residual_n is None:
        return None, basis
    return True, basis


def n_positive(value: str) -> bool | None:
    if value in ("NX", "Nx"):
        return None
    return not value.startswith("N0")


@dataclass(frozen=True)
class Categorised:
    staging: Staging
    evidence: Evidence


@dataclass(frozen=True)
class StagingFacts:
    stage: Categorised | None = None
    t: dict[str, Categorised] = field(default_factory=dict)  # prefix c / p / yp -> latest
    n: dict[str, Categorised] = field(default_factory=dict)
    m: Categorised | None = None
    disagreeing: tuple[Categorised, ...] = ()  # other stage records that disagree with `stage`
    setting: str | None = None  # early | locally-advanced | metastatic
    setting_basis: tuple[Evidence, ...] = ()
    metastatic_since: str | None = None
    early_phase: str | None = None  # before-surgery | after-neoadjuvant | after-upfront-surgery
    pcr: bool | None = None
    pcr_basis: tuple[Evidence, ...] = ()


def staging_facts(
    readings: Sequence["Reading"],
    condition_stages: Sequence[Categorised],
    metastases: Sequence[Evidence],
) -> StagingFacts:
    """`readings` newest first; `metastases`: distant/brain metastasis Conditions (dates may be None)."""
    staged = [Categorised(r.staging, r.evidence) for r in readings if r.staging]
    stages = [c for c in staged if c.staging.kind == "stage"] or list(condition_stages)
    stage = stages[0] if stages else None
    disagreeing = tuple(c for c in [*stages[1:], *condition_stages] if stage and c.staging.value != stage.staging.value)
    t: dict[str, Categorised] = {}
    n: dict[str, Categorised] = {}
    m = None
    for c in staged:
        prefix = c.staging.prefix or "c"
        if c.staging.kind == "T":
            t.setdefault(prefix, c)
        elif c.staging.kind == "N":
            n.setdefault(prefix, c)
        elif c.staging.kind == "M" and m is None:
            m = c

    # Metastatic: a distant metastasis on record, M1 or stage IV. The earliest dated one says since when.
    metastatic = [*metastases]
    if m and m.staging.value == "M1":
        metastatic.append(m.evidence)
    metastatic += [c.evidence for c in stages if c.staging.value == "IV"]
    dates = sorted(e.date for e in metastatic if e.date)
    setting, basis = None, tuple(metastatic)
    if metastatic:
        setting = "metastatic"
    elif stage:
        setting = "locally-advanced" if stage.staging.value.startswith("III") else "early"
        basis = (stage.evidence,)
    else:
        setting, basis = _setting_from_tnm(t, n)

    pathologic_stage = bool(stage and stage.staging.prefix == "p")
    phase = None
    if "yp" in t or "yp" in n:
        phase = "after-neoadjuvant"
    elif "p" in t or "p" in n or (pathologic_stage and "c" not in t and "c" not in n):
        phase = "after-upfront-surgery"
    elif "c" in t or "c" in n or stage:
        phase = "before-surgery"

    pcr, pcr_basis = pathologic_response(t.get("yp"), n.get("yp"))

    return StagingFacts(
        stage=stage,
        t=t,
        n=n,
        m=m,
        disagreeing=disagreeing,
        setting=setting if setting else None,
        setting_basis=basis,
        metastatic_since=dates[0] if dates else None,
        early_phase=phase if setting in ("early", "locally-advanced") else None,
        pcr=pcr,
        pcr_basis=pcr_basis,
    )


def _setting_from_tnm(t: dict[str, Categorised], n: dict[str, Categorised]) -> tuple[str | None, tuple[Evidence, ...]]:
    """Early or locally advanced from T and N without a stage group: clinical first, then pathologic
    (pT/pN with cM0 or no M on record), then post-neoadjuvant. T4 or N2–N3 alone is locally advanced;
    otherwise both halves are needed (cT2 with cN unknown may be cN2), and the setting stays unknown."""
    for prefix in ("c", "p", "yp"):
        found = [c for c in (t.get(prefix), n.get(prefix)) if c]
        advanced = [
            c
            for c in found
            if c.staging.value in _LOCALLY_ADVANCED_T
            or (c.staging.kind == "N" and c.staging.value.startswith(_LOCALLY_ADVANCED_N))
        ]
        if advanced:
            return "locally-advanced", tuple(c.evidence for c in advanced)
        if len(found) == 2:
            return "early", tuple(c.evidence for c in found)
    return None, ()


def missing_for_setting(staging: StagingFacts) -> tuple[str, ...]:
    """The staging facts that would place a non-metastatic patient: phrase keys of the missing halves, or
    () when nothing is staged at all (then the stage group or cT/cN is what to record)."""
    missing = []
    for prefix in ("c", "p", "yp"):
        if (prefix in staging.t) != (prefix in staging.n):
            missing.append(f"fact.{prefix}{'N' if prefix in staging.t else 'T'}")
    return tuple(missing)


def after_systemic_therapy(staging: StagingFacts, therapy_starts: Sequence[str]) -> StagingFacts:
    """Pathological staging written pT/pN (LOINC has no yp code) after systemic therapy began is post-neoadjuvant.

    Adjuvant therapy starts after surgery, so chemotherapy or anti-HER2 therapy started before the
    pathology date means the tumour was treated first. Undated pathology with therapy on file is ambiguous:
    the phase becomes unknown rather than a guess."""
    if staging.early_phase != "after-upfront-surgery" or not therapy_starts:
        return staging
    found = [c for c in (staging.t.get("p"), staging.n.get("p")) if c]
    if not found and staging.stage and staging.stage.staging.prefix == "p":
        found = [staging.stage]
    dates = [c.evidence.date for c in found if c.evidence.date]
    if not dates:
        return replace(staging, early_phase=None)
    if min(therapy_starts) >= min(dates):
        return staging
    pcr, basis = pathologic_response(staging.t.get("p"), staging.n.get("p"))
    return replace(staging, early_phase="after-neoadjuvant", pcr=pcr, pcr_basis=basis)
