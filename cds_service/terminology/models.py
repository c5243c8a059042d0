"""Schemas of the files in mappings/."""

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CodeEntry",
    "ConditionCodeFile",
    "DrugFile",
    "ObservationCodeFile",
    "ResultValueFile",
    "StagingValueFile",
]

Status = Literal["verified", "single-source", "conflict", "unverified", "local"]
DrugClass = Literal[
    "anti-her2-antibody",
    "anti-her2-adc",
    "anti-her2-tki",
    "taxane",
    "platinum",
    "anthracycline",
    "alkylating",
    "antimetabolite",
    "vinca",
    "other-chemotherapy",
    "endocrine",
    "cdk46-inhibitor",
    "other",
]
ValueId = Literal[
    "ihc-0",  # IHC 0, report silent on faint staining
    "ihc-null",  # IHC 0 with no staining at all
    "ihc-ultralow",  # IHC 0 with faint incomplete staining in <=10% of cells
    "ihc-1",
    "ihc-2",
    "ihc-3",
    "positive",
    "negative",
    "equivocal",
    "indeterminate",
    "not-tested",
    "pregnant",
    "not-pregnant",
    "pregnancy-unknown",
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeEntry(_Data):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None
    source: str = Field(min_length=1)
    status: Status
    match: Literal["exact", "prefix"] = "exact"


class ObservationCode(CodeEntry):
    # Staging codes say whether the value is clinical (c) or pathological (p); yp comes from the value.
    prefix: Literal["c", "p"] | None = None


class ObservationConcept(_Data):
    prefetch: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    codes: list[ObservationCode] = Field(min_length=1)
    note: str | None = None


class _WithSources(_Data):
    sources: dict[str, str]

    def _check_sources(self, entries: Sequence[CodeEntry]) -> None:
        unknown = sorted({e.source for e in entries} - set(self.sources))
        if unknown:
            raise ValueError(f"unknown source id(s): {', '.join(unknown)}")


class ObservationCodeFile(_WithSources):
    concepts: dict[str, ObservationConcept] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_and_uniqueness(self) -> "ObservationCodeFile":
        entries = [c for concept in self.concepts.values() for c in concept.codes]
        self._check_sources(entries)
        keys = [(e.system, e.code) for e in entries]
        duplicates = sorted({f"{s}|{c}" for s, c in keys if keys.count((s, c)) > 1})
        if duplicates:
            raise ValueError(f"code(s) mapped twice: {', '.join(duplicates)}")
        return self


class Label(_Data):
    en: str = Field(min_length=1)
    zh_CN: str = Field(min_length=1, alias="zh-CN")


class Drug(_Data):
    label: Label
    drug_class: DrugClass = Field(alias="class")
    # Ingredients a fixed combination or subcutaneous form contains (exposure history counts them),
    # although the product is matched as itself, never as its ingredient.
    components: list[str] = []
    codes: list[CodeEntry]
    names: list[str] = Field(min_length=1)  # matched case-insensitively as whole words in text/display
    note: str | None = None


class Approval(_Data):
    region: Literal["US", "EU", "CN"]
    date: str | None = Field(default=None, pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
    source: str
    status: Status
    note: str | None = None


class Product(_Data):
    """A marketed product of a drug: originator, biosimilar or subcutaneous form (knowledge table §3)."""

    drug: str  # the drug id it is (for HER2 checks and regimen matching)
    role: Literal["originator", "biosimilar", "subcutaneous"]
    reference_product: str | None = None  # product id of the originator, for a biosimilar
    nonproprietary: str | None = None  # e.g. trastuzumab-dkst
    brands: list[str] = []  # brand names matched in orders (Latin or Chinese)
    company: str | None = None
    codes: list[CodeEntry] = []
    approvals: list[Approval] = []
    interchangeable: Literal["yes", "no", "unverified"] | None = None  # FDA designation
    knowledge_row: str = Field(min_length=1)  # e.g. "§3.1 Ogivri"
    note: str | None = None


class DrugFile(_WithSources):
    drugs: dict[str, Drug] = Field(min_length=1)
    products: dict[str, Product] = {}

    @model_validator(mode="after")
    def _sources(self) -> "DrugFile":
        entries = [c for drug in self.drugs.values() for c in drug.codes]
        entries += [c for product in self.products.values() for c in product.codes]
        self._check_sources(entries)
        approvals = {a.source for p in self.products.values() for a in p.approvals}
        unknown = sorted(approvals - set(self.sources))
        if unknown:
            raise ValueError(f"unknown source id(s): {', '.join(unknown)}")
        for product_id, product in self.products.items():
            if product.drug not in self.drugs:
                raise ValueError(f"product {product_id}: unknown drug '{product.drug}'")
            if product.reference_product and product.reference_product not in self.products:
                raise ValueError(f"product {product_id}: unknown reference_product '{product.reference_product}'")
        for drug_id, drug in self.drugs.items():
            missing = sorted(set(drug.components) - set(self.drugs))
            if missing:
                raise ValueError(f"drug {drug_id}: unknown component(s) {', '.join(missing)}")
        return self


class ResultValue(_Data):
    codes: list[CodeEntry] = []
    # Exact texts (compared case-insensitively after normalising spaces and full-width signs) and
    # regular expressions (full match, case-insensitive) of valueString / text-only values.
    texts: list[str] = []
    patterns: list[str] = []


class ResultValueFile(_WithSources):
    values: dict[ValueId, ResultValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources(self) -> "ResultValueFile":
        self._check_sources([c for value in self.values.values() for c in value.codes])
        return self


class StagingValue(CodeEntry):
    kind: Literal["stage", "T", "N", "M"]
    value: str = Field(pattern=r"^(0|0is|IS|I|IA|IB|II|IIA|IIB|III|IIIA|IIIB|IIIC|IV|T.+|N.+|M.+)$")
    prefix: Literal["c", "p", "yp"] | None = None  # None: the Observation code says which


class StagingValueFile(_WithSources):
    values: list[StagingValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources(self) -> "StagingValueFile":
        self._check_sources(list(self.values))
        return self


class ConditionConcept(_Data):
    codes: list[CodeEntry] = Field(min_length=1)


class ConditionCodeFile(_WithSources):
    concepts: dict[str, ConditionConcept] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources(self) -> "ConditionCodeFile":
        self._check_sources([c for concept in self.concepts.values() for c in concept.codes])
        return self
