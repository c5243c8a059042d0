"""Build immutable look-up tables from mappings/ once, at start-up."""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..datafiles import DataFileError, load_model
from .conceptmap import LocalCode, load_concept_maps
from .models import (
    ConditionCodeFile,
    Drug,
    DrugFile,
    ObservationCodeFile,
    Product,
    ResultValueFile,
    StagingValueFile,
)

__all__ = [
    "DrugMatch",
    "Staging",
    "Terminology",
    "codings",
    "load_terminology",
    "normalise",
    "text",
]

OBSERVATION_CODES_FILE = "observation-codes.yaml"
RESULT_VALUES_FILE = "result-values.yaml"
STAGING_VALUES_FILE = "staging-values.yaml"
CONDITION_CODES_FILE = "condition-codes.yaml"
DRUG_FILES = ("anti-her2-drugs.yaml", "partner-drugs.yaml")

ANTI_HER2_CLASSES = frozenset({"anti-her2-antibody", "anti-her2-adc", "anti-her2-tki"})
CHEMOTHERAPY_CLASSES = frozenset(
    {"taxane", "platinum", "anthracycline", "alkylating", "antimetabolite", "vinca", "other-chemotherapy"}
)

Key = tuple[str, str]  # (system, code)


@dataclass(frozen=True)
class Staging:
    kind: str  # stage | T | N | M
    value: str  # IIB, T3, N0, M1 ...
    prefix: str | None  # c | p | yp


@dataclass(frozen=True)
class DrugMatch:
    drug: str
    product: str | None
    evidence: str  # what identified it, e.g. "http://www.nlm.nih.gov/research/umls/rxnorm|224905" or "name 'Ogivri'"


@dataclass(frozen=True)
class Terminology:
    observation_codes: Mapping[Key, tuple[str, str | None]]  # -> (concept id, staging prefix c|p)
    prefetch_codes: Mapping[str, tuple[Key, ...]]  # prefetch key -> codes to query
    value_codes: Mapping[Key, str]
    value_texts: Mapping[str, str]  # normalised text -> value id
    value_patterns: tuple[tuple[re.Pattern[str], str], ...]
    staging_codes: Mapping[Key, Staging]
    drugs: Mapping[str, Drug]
    products: Mapping[str, Product]
    drug_codes: Mapping[Key, tuple[str, str | None]]  # -> (drug id, product id)
    drug_names: Mapping[str, tuple[str, str | None, str]]  # lower-case name -> (drug, product, name)
    drug_name_pattern: re.Pattern[str]  # every name, longest first
    condition_codes: Mapping[Key, str]
    condition_prefixes: tuple[tuple[str, str, str], ...]  # (system, code prefix, concept id)
    local_code_count: int = 0
    drugs_with_products: frozenset[str] = frozenset()
    _matches: dict[Any, "DrugMatch | None"] = field(default_factory=dict, compare=False, repr=False)

    # -- observations ------------------------------------------------------------------------
    def observation_concept(self, codeable: Any) -> str | None:
        found = self.observation_code(codeable)
        return found[0] if found else None

    def observation_code(self, codeable: Any) -> tuple[str, str | None] | None:
        for system, code, _ in codings(codeable):
            found = self.observation_codes.get((system, code))
            if found:
                return found
        return None

    # -- result values -----------------------------------------------------------------------
    def result_value(self, codeable: Any) -> str | None:
        """The value id of a coded or text result: codes first, then text and displays."""
        found = codings(codeable)
        for system, code, _ in found:
            value = self.value_codes.get((system, code))
            if value:
                return value
        texts = [text(codeable.get("text"))] if isinstance(codeable, Mapping) else []
        for candidate in [*texts, *(d for _, _, d in found)]:
            value = self.value_of_text(candidate)
            if value:
                return value
        return None

    def value_of_text(self, raw: str) -> str | None:
        if not raw:
            return None
        if len(raw) > MAX_RESULT_TEXT:
            return None  # a narrative, not a result: reported as not understood, never scanned
        normalised = normalise(raw)
        value = self.value_texts.get(normalised)
        if value:
            return value
        found = {v for pattern, v in self.value_patterns if pattern.fullmatch(normalised)}
        return found.pop() if len(found) == 1 else None  # two readings of one text: not read at all

    def staging_value(self, codeable: Any) -> Staging | None:
        for system, code, _ in codings(codeable):
            found = self.staging_codes.get((system, code))
            if found:
                return found
        return None

    # -- drugs ---------------------------------------------------------------------------------
    def match_drug(self, codeable: Any) -> DrugMatch | None:
        """The drug (and product, when a brand or product code says which) a medication concept names.

        Codes win over names; a name then still tells the product (brand) of a coded ingredient.
        Charts repeat the same medication concept every cycle, so answers are remembered."""
        found = codings(codeable)[:MAX_CODINGS]
        texts = [text(codeable.get("text"))] if isinstance(codeable, Mapping) else []
        # Only the head of each text is read: drug names come first, and the name regex then stays cheap.
        texts = [t[:MAX_NAME_TEXT] for t in [*texts, *(d for _, _, d in found)]]
        key = (tuple(found), tuple(texts))
        if key in self._matches:
            return self._matches[key]
        if len(self._matches) > 4096:
            self._matches.clear()
        self._matches[key] = match = self._match_drug(found, texts)
        return match

    def _match_drug(self, found: list[tuple[str, str, str]], texts: list[str]) -> DrugMatch | None:
        by_code = next(
            ((self.drug_codes[(s, c)], f"{s}|{c}") for s, c, _ in found if (s, c) in self.drug_codes),
            None,
        )
        if by_code and (by_code[0][1] or by_code[0][0] not in self.drugs_with_products):
            return DrugMatch(by_code[0][0], by_code[0][1], by_code[1])
        # One pass of one alternation over each text; the longest name found wins, as a reader would read it.
        hits = {m.group(0).lower() for t in texts if t for m in self.drug_name_pattern.finditer(t)}
        by_name = sorted((self.drug_names[h] for h in hits), key=lambda n: -len(n[2]))
        if by_code:
            (drug, product), evidence = by_code
            if product is None:
                product = next((p for d, p, _ in by_name if d == drug and p), None)
            return DrugMatch(drug, product, evidence)
        if by_name:
            drug, product, name = by_name[0]
            if product is None:
                product = next((p for d, p, _ in by_name if d == drug and p), None)
            return DrugMatch(drug, product, f"name '{name}'")
        return None

    def drug(self, codeable: Any) -> str | None:
        match = self.match_drug(codeable)
        return match.drug if match else None

    def is_anti_her2(self, drug_id: str) -> bool:
        return self.drugs[drug_id].drug_class in ANTI_HER2_CLASSES

    # -- conditions ----------------------------------------------------------------------------
    def condition_concept(self, codeable: Any) -> str | None:
        found = codings(codeable)
        for system, code, _ in found:  # exact codes before prefixes: C79.3 (brain) before C79 (other)
            concept = self.condition_codes.get((system, code))
            if concept:
                return concept
        for system, code, _ in found:
            for prefix_system, prefix, prefix_concept in self.condition_prefixes:
                if system == prefix_system and code.startswith(prefix):
                    return prefix_concept
        return None


# Bounds on what one resource can make the matchers read (attack: a 166 kB text per resource).
MAX_RESULT_TEXT = 1000
MAX_NAME_TEXT = 500
MAX_CODINGS = 50


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def normalise(raw: str) -> str:
    """Compare report texts the way a reader would: full-width signs, case and spacing do not matter."""
    return " ".join(unicodedata.normalize("NFKC", raw).lower().split())


def codings(codeable: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding; malformed parts read as "" so odd data never raises."""
    # The hottest function of the engine (tens of thousands of calls for a large record): `type(x) is dict`
    # before the ABC check, and no call per field.
    if not (type(codeable) is dict or isinstance(codeable, Mapping)):
        return []
    coding = codeable.get("coding")
    if not isinstance(coding, list):
        return []
    found = []
    for c in coding:
        if type(c) is dict or isinstance(c, Mapping):
            system, code, display = c.get("system"), c.get("code"), c.get("display")
            found.append(
                (
                    system if isinstance(system, str) else "",
                    code if isinstance(code, str) else "",
                    display if isinstance(display, str) else "",
                )
            )
    return found


def _names_pattern(names: list[str]) -> re.Pattern[str]:
    # Latin names match as whole words ("trastuzumab-dkst" still counts); CJK names as substrings.
    parts = [
        rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" if n.isascii() else re.escape(n)
        for n in sorted(names, key=len, reverse=True)
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def _drug_tables(
    files: Sequence[DrugFile],
) -> tuple[dict[str, Drug], dict[str, Product], dict[Key, tuple[str, str | None]], list[tuple[str, str, str | None]]]:
    drugs: dict[str, Drug] = {}
    products: dict[str, Product] = {}
    codes: dict[Key, tuple[str, str | None]] = {}
    names: list[tuple[str, str, str | None]] = []
    for drug_file in files:
        duplicates = sorted(set(drug_file.drugs) & set(drugs))
        if duplicates:
            raise ValueError(f"drug id(s) defined twice: {', '.join(duplicates)}")
        drugs.update(drug_file.drugs)
        products.update(drug_file.products)
        for drug_id, drug in drug_file.drugs.items():
            codes.update({(c.system, c.code): (drug_id, None) for c in drug.codes})
            names += [(n, drug_id, None) for n in drug.names]
        for product_id, product in drug_file.products.items():
            codes.update({(c.system, c.code): (product.drug, product_id) for c in product.codes})
            names += [(n, product.drug, product_id) for n in product.brands]
            if product.nonproprietary:
                names.append((product.nonproprietary, product.drug, product_id))
    return drugs, products, codes, names


def load_terminology(mappings_dir: Path, concept_maps: Sequence[Path] = ()) -> Terminology:
    """All mappings/ files plus local ConceptMaps (`*.conceptmap.json` there, and any given paths)."""
    observations = load_model(mappings_dir / OBSERVATION_CODES_FILE, ObservationCodeFile)
    values = load_model(mappings_dir / RESULT_VALUES_FILE, ResultValueFile)
    staging = load_model(mappings_dir / STAGING_VALUES_FILE, StagingValueFile)
    conditions = load_model(mappings_dir / CONDITION_CODES_FILE, ConditionCodeFile)
    drug_files = [load_model(mappings_dir / name, DrugFile) for name in DRUG_FILES]
    drugs, products, drug_codes, names = _drug_tables(drug_files)

    observation_codes: dict[Key, tuple[str, str | None]] = {}
    prefetch: dict[str, list[Key]] = {}
    for concept_id, concept in observations.concepts.items():
        for entry in concept.codes:
            observation_codes[(entry.system, entry.code)] = (concept_id, entry.prefix)
            prefetch.setdefault(concept.prefetch, []).append((entry.system, entry.code))
    value_codes: dict[Key, str] = {(c.system, c.code): v_id for v_id, v in values.values.items() for c in v.codes}
    value_texts = {normalise(t): value_id for value_id, v in values.values.items() for t in v.texts}
    staging_codes = {(v.system, v.code): Staging(v.kind, v.value, v.prefix) for v in staging.values}
    condition_entries = [(cid, e) for cid, c in conditions.concepts.items() for e in c.codes]
    condition_codes = {(e.system, e.code): cid for cid, e in condition_entries if e.match == "exact"}

    local = load_concept_maps(
        [*sorted(mappings_dir.glob("*.conceptmap.json")), *concept_maps],
        {
            "observation": {k: v[0] for k, v in observation_codes.items()},
            "value": value_codes,
            "staging": {k: f"{v.prefix or ''}{v.value}" for k, v in staging_codes.items()},
            "condition": condition_codes,
            "drug": {k: v[1] or v[0] for k, v in drug_codes.items()},
        },
        {
            "observation": set(observations.concepts),
            "value": set(values.values),
            "condition": set(conditions.concepts),
            "drug": set(drugs) | set(products),
        },
    )
    for item in local:
        _add_local(item, observations, observation_codes, prefetch, value_codes, condition_codes, drug_codes, products)
        if item.table == "staging":
            staging_codes[item.key] = staging_codes[item.target]

    by_name: dict[str, tuple[str, str | None, str]] = {}
    for name, drug, product in names:
        seen = by_name.get(name.lower())
        if seen and seen[0] != drug:
            raise DataFileError(mappings_dir / DRUG_FILES[0], "names", f"'{name}' names {seen[0]} and {drug}")
        if not seen or product:  # a brand of a product says more than the same word as a drug name
            by_name[name.lower()] = (drug, product, name)
    return Terminology(
        observation_codes=MappingProxyType(observation_codes),
        prefetch_codes=MappingProxyType({k: tuple(v) for k, v in prefetch.items()}),
        value_codes=MappingProxyType(value_codes),
        value_texts=MappingProxyType(value_texts),
        value_patterns=tuple(
            (re.compile(p, re.IGNORECASE), v_id) for v_id, v in values.values.items() for p in v.patterns
        ),
        staging_codes=MappingProxyType(staging_codes),
        drugs=MappingProxyType(drugs),
        products=MappingProxyType(products),
        drug_codes=MappingProxyType(drug_codes),
        drug_names=MappingProxyType(by_name),
        drug_name_pattern=_names_pattern([n for n, _, _ in names]),
        condition_codes=MappingProxyType(condition_codes),
        condition_prefixes=tuple((e.system, e.code, cid) for cid, e in condition_entries if e.match == "prefix"),
        local_code_count=len(local),
        drugs_with_products=frozenset(p.drug for p in products.values()),
    )


def _add_local(
    item: LocalCode,
    observations: ObservationCodeFile,
    observation_codes: dict[Key, tuple[str, str | None]],
    prefetch: dict[str, list[Key]],
    value_codes: dict[Key, str],
    condition_codes: dict[Key, str],
    drug_codes: dict[Key, tuple[str, str | None]],
    products: Mapping[str, Product],
) -> None:
    if item.table == "observation":
        concept = item.concept
        prefix = observation_codes[item.target][1] if item.target in observation_codes else None
        observation_codes[item.key] = (concept, prefix)
        # A local lab code must also be asked for, or the FHIR query never returns its results.
        prefetch.setdefault(observations.concepts[concept].prefetch, []).append(item.key)
    elif item.table == "value":
        value_codes[item.key] = item.concept
    elif item.table == "condition":
        condition_codes[item.key] = item.concept
    elif item.table == "drug":
        product = products.get(item.concept)
        drug_codes[item.key] = (product.drug, item.concept) if product else (item.concept, None)
