"""Schemas of the files in mappings/."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["CodeEntry", "ConditionCodeFile", "DrugFile", "ObservationCodeFile"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeEntry(_Data):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None
    source: str = Field(min_length=1)
    status: Literal["verified", "single-source", "conflict", "local"]
    match: Literal["exact", "prefix"] = "exact"


class ObservationConcept(_Data):
    prefetch: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    codes: list[CodeEntry] = Field(min_length=1)


class _WithSources(_Data):
    sources: dict[str, str]

    def _check_sources(self, entries: list[CodeEntry]) -> None:
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


class Drug(_Data):
    codes: list[CodeEntry]
    names: list[str] = Field(min_length=1)


class DrugFile(_WithSources):
    drugs: dict[str, Drug] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources(self) -> "DrugFile":
        self._check_sources([c for drug in self.drugs.values() for c in drug.codes])
        return self


class ConditionConcept(_Data):
    codes: list[CodeEntry] = Field(min_length=1)


class ConditionCodeFile(_WithSources):
    concepts: dict[str, ConditionConcept] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources(self) -> "ConditionCodeFile":
        self._check_sources([c for concept in self.concepts.values() for c in concept.codes])
        return self
