"""Schemas of the files in cards/: the consensus knowledge base.

One file per chapter. Every entry keeps the id of its row in the knowledge table (T1, N2, M6, ...),
bilingual text, level and evidence category with their provenance, and the conditions on patient
facts under which it applies. Data only: the engine decides nothing that is not written here, except
the classification (T*) and safety (S*) logic, whose thresholds are parameters of their entries."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Definition",
    "DefinitionFile",
    "Her2Category",
    "KnowledgeFile",
    "Qualifier",
    "Recommendation",
    "SourceFile",
    "Text",
    "When",
]

# zero: IHC 0 with the report silent on faint staining (ultralow or null); null: IHC 0, no staining at all.
Her2Category = Literal["positive", "low", "ultralow", "zero", "null", "negative", "equivocal", "unknown", "conflicting"]
Setting = Literal["early", "locally-advanced", "metastatic"]
EarlyPhase = Literal["before-surgery", "after-neoadjuvant", "after-upfront-surgery"]
Level = Literal["I", "II", "III", "I–II", "II–III"]
Category = Literal["1A", "1B", "2A", "2B", "3"]
TCategory = Literal["T0", "Tis", "T1", "T1mi", "T1a", "T1b", "T1c", "T2", "T3", "T4", "T4a", "T4b", "T4c", "T4d"]
StageGroup = Literal["0", "I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Data):
    """The same statement in both languages the cards speak."""

    en: str = Field(min_length=1)
    zh_CN: str = Field(min_length=1, alias="zh-CN")

    def get(self, language: str) -> str:
        return self.zh_CN if language == "zh-CN" else self.en


class When(_Data):
    """Conditions on patient facts; all given fields must hold (AND), `any_of` adds an OR of sub-conditions.

    A field that is absent does not constrain. A fact the record does not hold never satisfies a
    condition on it: unknown is not a match."""

    her2: list[Her2Category] | None = None
    hr: list[Literal["positive", "negative"]] | None = None
    setting: list[Setting] | None = None
    early_phase: list[EarlyPhase] | None = None
    pcr: bool | None = None  # pathologic complete response after neoadjuvant therapy (ypT0/is ypN0)
    clinical_t: list[TCategory] | None = None  # cT category in this list
    clinical_n_positive: bool | None = None  # cN1 or higher
    clinical_n_at_least: int | None = Field(default=None, ge=1, le=3)  # cN category number ≥ this (2: cN2–3)
    pathologic_t: list[TCategory] | None = None  # pT (upfront surgery) in this list
    pathologic_n_positive: bool | None = None
    post_neoadjuvant_n_positive: bool | None = None  # ypN1 or higher at surgery after neoadjuvant therapy
    metastatic_line_min: int | None = Field(default=None, ge=1)  # the line the next anti-HER2 regimen would be
    metastatic_line_max: int | None = Field(default=None, ge=1)
    trastuzumab: list[Literal["sensitive", "resistant"]] | None = None
    brain_metastases: bool | None = None
    received_any: list[str] | None = None  # drug ids (mappings/) ever given, current included
    received_metastatic_any: list[str] | None = None  # drug ids given for metastatic disease
    on_any: list[str] | None = None  # drug ids the patient is receiving now (a running regimen)
    chemo_lines_metastatic_min: int | None = Field(default=None, ge=0)
    chemo_lines_metastatic_max: int | None = Field(default=None, ge=0)
    endocrine_lines_metastatic_min: int | None = Field(default=None, ge=0)
    age_over: int | None = Field(default=None, ge=0)
    age_at_most: int | None = Field(default=None, ge=0)  # age ≤ this (a trial's upper enrolment age)
    # The stage group is in this list and the record has neither cT nor cN: a stage group of IIA or
    # higher implies cT≥2 or cN+ (IIA is T0–1 N1 or T2 N0), so N1-type rows can be matched on it.
    stage_group_without_ctn: list[StageGroup] | None = None
    any_of: list["When"] | None = Field(default=None, min_length=2)


class Qualifier(Text):
    """A criterion of the row the card asks the clinician to confirm. When part of it can be read from the
    record (`checked_by`), the card says met / not met instead of "confirm"; `otherwise` is what is left to
    confirm when that part is not met (N3: age >60, *or* low tumour burden or platinum intolerance). A
    checked qualifier without `otherwise` that is not met is a hard limit (PHILA enrolled ages 18–75): the
    row is flagged and never leads the options."""

    checked_by: When | None = None
    checked_text: Text | None = None  # the part `checked_by` decides, when it is not the whole qualifier
    otherwise: Text | None = None


class Regimen(_Data):
    label: str = Field(min_length=1)  # TCbHP, THP, T-DXd ...
    drugs: list[str] = Field(min_length=1)  # drug ids from mappings/ (anti-HER2 and partner drugs)
    cycles: int | None = Field(default=None, ge=1)
    duration: Text | None = None


class Recommendation(_Data):
    id: str = Field(pattern=r"^(T|N|A|M|B|R|L|S|BIO|SC)[0-9]{1,2}$")
    kind: Literal["classification", "testing", "recommendation", "caution", "safety", "biosimilar"]
    title: Text
    text: Text  # the recommendation or rule, as a clinician reads it
    when: When | None = None  # declarative conditions (recommendation, caution); None: applied by engine logic
    qualifiers: list[Qualifier] = []  # criteria the record cannot show; cards say "applies if ..."
    # A checkable part of the qualifiers: when it holds, the row leads the patient's options (N3: age >60).
    leads_when: When | None = None
    regimens: list[Regimen] = []
    trials: list[str] = []
    preferred: bool = False  # the consensus names it the preferred option (stated)
    # An alternative for when the usual option cannot be given (M4: pertuzumab unavailable): it never takes
    # a top slot from an unconditional match.
    conditional: bool = False
    region: Literal["china"] | None = None  # an option specific to China (availability, NMPA approval)
    level: Level | None = None
    level_provenance: Literal["stated", "inferred", "unknown"]
    level_source: str | None = None  # source id stating the level; required when stated
    evidence_category: Category | None = None
    category_provenance: Literal["stated", "inferred", "unknown"]
    provenance: Literal["stated", "inferred"]  # of the content: a public source says it, or domain knowledge
    sources: list[str] = Field(min_length=1)  # ids of sources.yaml
    parameters: dict[str, float] = {}  # thresholds of T*/S* logic (e.g. lvef_min: 50)
    drugs: list[str] = []  # drug ids a safety or biosimilar rule applies to
    knowledge_row: str = Field(min_length=1)  # where it is in clinical-knowledge.md, e.g. "§2.2 N2"
    # Statements of the 2025 consensus (C1–C9 of clinical-knowledge.md §1) the row rests on: cards cite
    # "Consensus 2025 C6" rather than the summary page that reported it.
    statements: list[str] = []
    # A row that restates a part of other rows (N1 "offer neoadjuvant therapy", A12 "one year in total"):
    # shown inside the first of these rows' cards when one is shown, on its own card otherwise.
    within: list[str] = []
    reviewed: date
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Recommendation":
        if self.level_provenance == "stated" and not self.level_source:
            raise ValueError("a stated level needs level_source")
        if self.level is None and self.level_provenance != "unknown":
            raise ValueError("no level: level_provenance must be 'unknown'")
        if self.evidence_category is None and self.category_provenance != "unknown":
            raise ValueError("no evidence_category: category_provenance must be 'unknown'")
        if self.kind in ("recommendation", "caution") and self.when is None:
            raise ValueError(f"a {self.kind} needs `when` conditions")
        bad = [s for s in self.statements if not (s.startswith("C") and s[1:].isdigit())]
        if bad:
            raise ValueError(f"statements are consensus statement ids (C1, C2 ...), not {', '.join(bad)}")
        return self


class KnowledgeFile(_Data):
    chapter: str = Field(pattern=r"^[a-z-]+$")
    title: Text
    section: str  # the section of clinical-knowledge.md it encodes
    entries: list[Recommendation] = Field(min_length=1)


class Source(_Data):
    citation: str = Field(min_length=1)  # the full reference, for the committee's report
    # How a card names it, in each language: what the source is ("CSCO 2024", "Herceptin label",
    # "KATHERINE, NEJM 2019"), never where it was read (file names, index ids, news or Q&A sites).
    label: Text
    url: str | None = None
    kind: Literal["consensus", "guideline", "label", "trial", "web", "domain-knowledge", "regulatory"]
    reports_consensus: bool = False  # a summary of the 2025 consensus itself (its text was not available)


class SourceFile(_Data):
    sources: dict[str, Source] = Field(min_length=1)


class Definition(_Data):
    """A number the engine's logic needs that is not a row of the table (cut-offs, time windows)."""

    value: float
    unit: str
    text: Text
    provenance: Literal["stated", "inferred"]
    sources: list[str] = Field(min_length=1)
    knowledge_row: str = Field(min_length=1)


class DefinitionFile(_Data):
    definitions: dict[str, Definition] = Field(min_length=1)
