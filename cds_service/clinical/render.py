"""Findings → CDS Hooks cards in the reader's language, each with its basis, level and source."""

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from string import Formatter
from typing import Any, NamedTuple, TypeVar

import orjson
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import AnyUrl, TypeAdapter

from ..hooks.response import Card, Coding, Link, OverrideReason, Source, Suggestion
from ..knowledge import Knowledge, Recommendation
from ..knowledge.models import Qualifier
from ..terminology import Terminology
from .conditions import FactLine
from .phrases import phrases_in
from .rules import Finding

__all__ = ["CONSENSUS_URL", "OVERRIDE_SYSTEM", "RULE_SYSTEM", "Renderer", "RowWords", "prepare_wording"]

RULE_SYSTEM = "urn:her2-cds:rule"
OVERRIDE_SYSTEM = "urn:her2-cds:override-reason"
CONSENSUS_URL = "https://doi.org/10.21037/tbcr-25-34"
CONSENSUS_LABEL = {
    "en": "Chinese HER2 consensus 2025 (Transl Breast Cancer Res 2025;6:21)",
    "zh-CN": "靶向HER2乳腺癌诊疗专家共识（2025）",
}
LINK_LABEL = {"en": "Read the 2025 consensus", "zh-CN": "阅读2025共识原文"}
SERVICE_LABEL = {"en": "HER2 CDS service: data check", "zh-CN": "HER2临床决策支持服务：数据核查"}
# Where a product's approvals can be checked, per jurisdiction: the regulators' own databases.
REGULATOR_LINKS = {
    "US": ("FDA Purple Book", "FDA紫皮书", "https://purplebooksearch.fda.gov/"),
    "EU": ("EMA medicines database", "EMA药品数据库", "https://www.ema.europa.eu/en/medicines"),
    "CN": ("NMPA drug database", "NMPA药品数据库", "https://www.nmpa.gov.cn/datasearch/"),
}
EXTENSION = "org.her2-cds.card"
_DATA_CHECKS = {"her2-not-understood", "her2-unreadable", "data-complete", "order-readable"}
_DATA_CHECKS |= {"data-identity", "data-shape", "order-duplicate", "scope-diagnosis"}  # issue 7 safety
ORDERABLES = {
    "order-ish": ("http://loinc.org", "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
    "order-ihc": ("http://loinc.org", "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
    "order-ihc-same-specimen": (
        "http://loinc.org",
        "85319-2",
        "HER2 [Presence] in Breast cancer specimen by Immune stain",
    ),
    "order-echo": ("http://snomed.info/sct", "40701008", "Echocardiography (procedure)"),
}
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URL: TypeAdapter[AnyUrl] = TypeAdapter(AnyUrl)
SUMMARY_MAX = 139
RECOMMENDATION_SUMMARIES = ("rec.summary", "rec.summary_running")
_NO_ARGS: Mapping[str, str] = {}  # a prepared summary's: nothing else on the card needs the arguments
_SELF_NAMING = {"her2", "hr", "setting", "phase", "pregnancy", "h"}
# FHIR status codes a record carries (Condition.clinicalStatus, MedicationRequest.status ...): basis only.
_RECORD_STATUSES = frozenset(
    {
        "active",
        "inactive",
        "resolved",
        "remission",
        "recurrence",
        "relapse",
        "completed",
        "stopped",
        "on-hold",
        "draft",
        "final",
        "amended",
        "corrected",
        "preliminary",
        "intended",
        "not-taken",
        "unknown",
        "status not recorded",
    }
)


def clip(value: str, limit: int = SUMMARY_MAX) -> str:
    """Shorten at a word boundary (or between CJK characters), never mid-word."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2 and not _cjk(cut[-1]):
        cut = cut[:space]
    return cut.rstrip(" ,;:·—-（(") + "…"


_WORDS = re.compile(r"[A-Za-z][a-z]{2,}")  # a word, not an abbreviation (TCbHP, wTH, Py + X)
_EVIDENCE = re.compile(r"\s*(Evidence: [^。]*|证据：[^。]*。)$")


def _without_evidence(text: str) -> str:
    """The action without its closing "Evidence: ..." (the trials are listed in the basis)."""
    return _EVIDENCE.sub("", text) or text


def _copied(value: Any) -> Any:
    """A copy of JSON data (a resource as the FHIR model dumped it): each card gets its own resource. Through
    orjson, in C: twice as fast as walking the dicts in Python."""
    return orjson.loads(orjson.dumps(value))


def _placeholders(template: str) -> set[str]:
    """The arguments `template.format` reads ("{drug}", "{x.y}" and "{x[0]}" read drug and x)."""
    return {
        re.split(r"[.\[]", name, maxsplit=1)[0] for _, name, _, _ in Formatter().parse(template) if name is not None
    }


def _cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


_T = TypeVar("_T")


class _Marks(NamedTuple):
    """A language's punctuation and the card's fixed headings (phrases.py), set once."""

    colon: str
    clauses: str  # between clauses (join(..., clauses=True))
    items: str  # between items of a list (join)
    before: str  # paren(): "x (y)" or "x（y）"
    after: str
    comma: str  # between what a short fact adds: its result, its date
    between_facts: str  # between the short facts of "For this patient"
    for_patient: str  # "**For this patient**: "
    basis: str  # "**Basis**\n"
    sources: str  # "**Sources**: "


def _marks(language: str) -> _Marks:
    zh, said = language == "zh-CN", phrases_in(language)
    colon = "：" if zh else ": "
    return _Marks(
        colon,
        "；" if zh else "; ",
        "、" if zh else ", ",
        "（" if zh else " (",
        "）" if zh else ")",
        "，" if zh else ", ",
        "；" if zh else " · ",
        f"**{said['label.for_patient']}**{colon}",
        f"**{said['label.basis']}**\n",
        f"**{said['label.sources']}**{colon}",
    )


_MARKS_EN, _MARKS_ZH = _marks("en"), _marks("zh-CN")
# Which arguments each phrase reads: a card words only those of the finding's arguments.
_NAMES_EN, _NAMES_ZH = (
    {key: frozenset(_placeholders(template)) for key, template in phrases_in(language).items()}
    for language in ("en", "zh-CN")
)


# What a card says of a knowledge row (its level, grading, regimens, sources ...) is the same on every card in
# one language: worded once per knowledge, terminology and language. Kept beside the objects it was worded
# from, so an id is never reused by another knowledge base (tests load several).
@dataclass
class _Wording:
    knowledge: Knowledge
    terminology: Terminology
    words: dict[Any, Any] = field(default_factory=dict)  # constants and shared models, worded on first use
    rows: dict[str, "RowWords"] = field(default_factory=dict)  # every row, worded by prepare_wording


_WORDED: dict[tuple[int, int, str], _Wording] = {}


def _worded(knowledge: Knowledge, terminology: Terminology, language: str) -> _Wording:
    key = (id(knowledge), id(terminology), language)
    known = _WORDED.get(key)
    if known is not None and known.knowledge is knowledge and known.terminology is terminology:
        return known
    if len(_WORDED) >= 64:
        _WORDED.clear()
    wording = _WORDED[key] = _Wording(knowledge, terminology)
    return wording


@dataclass(frozen=True)
class QualifierWords:
    """One criterion of a row as a card says it: to confirm, or decided by the record (met / not met), and
    what is left to confirm when it is not met."""

    confirm: str
    met: str
    not_met: str
    otherwise: str | None


@dataclass(frozen=True)
class RowWords:
    """What every card says of one knowledge row in one language, worded at start-up (prepare_wording): a
    call only adds the patient's facts around it."""

    title: str
    level_short: str
    named: str  # "title (level)": a row listed, not shown
    summaries: Mapping[str, str]  # rec.summary, rec.summary_running: "title · level"
    tops: Mapping[str, tuple[str, ...]]  # the action paragraphs of those cards when the record decides nothing
    recommends: tuple[str, ...]  # its text, then whether it is preferred, China-only
    action_text: str  # its text without "Evidence: ..."
    qualifiers: tuple[QualifierWords, ...]
    unchecked: tuple[str, ...]  # its qualifier lines when the record decides none
    lines_with_text: tuple[str, ...]  # the card's own row in the basis: grading, text, regimens, trials, note
    lines: tuple[str, ...]  # the same without its text (the card's action says it)
    line_cited: str  # another row the card cites: named with its level
    sources: tuple[str, ...]
    sources_line: str  # "**Sources**: ..." of a card that follows this row alone
    source: Source  # the card's source when the row is its topic


def prepare_wording(knowledge: Knowledge, terminology: Terminology, language: str) -> Mapping[str, RowWords]:
    """Every row's words in `language`: load_engine prepares them for each language at start-up (a renderer of
    a knowledge base loaded otherwise prepares them on its first call); then they are the same objects."""
    return Renderer(knowledge, terminology, language, "-")._rows


@dataclass(frozen=True)
class Renderer:
    knowledge: Knowledge
    terminology: Terminology
    language: str
    patient_id: str
    jurisdiction: str = "CN"
    knowledge_version: str = ""  # engine.version.label: which data files produced the card (audits, feedback)
    zh: bool = field(init=False, repr=False)
    _phrases: Mapping[str, str] = field(init=False, repr=False)
    _words: dict[Any, Any] = field(init=False, repr=False)
    _titles: Mapping[str, str] = field(init=False, repr=False)
    # A renderer serves one call: a fact repeated across its cards (the HER2 line is on most) is written once.
    _facts: dict[FactLine, str] = field(init=False, repr=False)
    _short: dict[FactLine, tuple[str, str, str | None]] = field(init=False, repr=False)
    _rows: Mapping[str, RowWords] = field(init=False, repr=False)  # every row's words (prepare_wording)
    _marks: "_Marks" = field(init=False, repr=False)
    _names: Mapping[str, frozenset[str]] = field(init=False, repr=False)  # phrase key -> the arguments it reads

    def __post_init__(self) -> None:
        object.__setattr__(self, "zh", self.language == "zh-CN")
        object.__setattr__(self, "_phrases", phrases_in(self.language))
        wording = _worded(self.knowledge, self.terminology, self.language)
        object.__setattr__(self, "_words", wording.words)
        object.__setattr__(self, "_titles", self._once(("titles",), self._all_titles))
        object.__setattr__(self, "_facts", {})
        object.__setattr__(self, "_short", {})
        object.__setattr__(self, "_rows", wording.rows)
        object.__setattr__(self, "_marks", _MARKS_ZH if self.zh else _MARKS_EN)
        object.__setattr__(self, "_names", _NAMES_ZH if self.zh else _NAMES_EN)
        if len(wording.rows) != len(self.knowledge.entries):  # not prepared yet: worded now, once
            wording.rows.update({i: self.row_words(e) for i, e in self.knowledge.entries.items()})

    def _once(self, key: tuple[Any, ...], word: Callable[..., _T], *args: Any) -> _T:
        """`word(*args)`, worded once for this knowledge base and language (it depends on nothing else)."""
        found: _T | None = self._words.get(key)
        if found is None:
            found = self._words[key] = word(*args)
        return found

    # -- small pieces ------------------------------------------------------------------------------
    def say(self, key: str, **args: str) -> str:
        template = self._phrases[key]
        return template.format(**args) if args else template

    def join(self, items: list[str], *, clauses: bool = False) -> str:
        if self.zh:
            return ("；" if clauses else "、").join(items)
        return ("; " if clauses else ", ").join(items)

    def value(self, raw: str) -> str:
        said = self._phrases.get(raw)  # most values are phrase keys (no key starts with "title:" or "drug:")
        if said is not None:
            return said
        if ", " not in raw:  # one value (no knowledge id has a comma)
            if raw.startswith("drug:"):
                drug = self.terminology.drugs.get(raw[5:])
                return (drug.label.zh_CN if self.zh else drug.label.en) if drug else raw[5:]
            if raw.startswith("title:") and raw[6:] in self.knowledge.entries:
                return self.title(self.knowledge.entries[raw[6:]])
            return raw
        parts = raw.split(", ")
        # A list of drugs, of values or of phrase keys (English keeps a list of other text as it is).
        if raw.startswith("drug:") or self.zh or all(p in self._phrases for p in parts):
            return self.join([self.value(part) for part in parts])
        return raw

    def args(
        self, finding: Finding, cited: list[Recommendation] | None = None, names: AbstractSet[str] | None = None
    ) -> dict[str, str]:
        """The phrase arguments in the reader's words. `cited`: the rows of `finding.cites`, if known; `names`:
        the arguments the phrases to be said read (the others are not worded), None for all."""
        if names is None:
            args = {k: self.value(v) for k, v in finding.args.items()}
        else:
            args = {k: self.value(v) for k, v in finding.args.items() if k in names}
        if "facts" in args:
            args["facts"] = self.join([self.value(f) for f in finding.args["facts"].split(", ")])
        product = self.terminology.products.get(finding.args.get("product", ""))
        if product is not None:
            args["product_name"] = " / ".join(product.brands[:2]) or product.nonproprietary or finding.args["product"]
            brand = self.brand(product.brands)
            if brand and "drug" in args and brand not in args["drug"]:  # each order keeps its product's identity
                args["drug"] = f"{brand}（{args['drug']}）" if self.zh else f"{brand} ({args['drug']})"
        if cited is None:
            cited = [self.knowledge.entries[i] for i in finding.cites if i in self.knowledge.entries]
        if cited:
            row = self._rows[cited[0].id]
            args.setdefault("title", row.title)
            args.setdefault("level", row.level_short)
            if finding.summary == "order.caution":
                args["caution"] = row.title
        return args

    def names(self, finding: Finding) -> AbstractSet[str]:
        """The arguments its summary and explanation paragraphs read."""
        used = self._names[finding.summary]
        for key in finding.details:
            used = used | self._names[key]
        return used

    def paren(self, before: str, inside: str) -> str:
        return f"{before}（{inside}）" if self.zh else f"{before} ({inside})"

    def brand(self, brands: list[str]) -> str | None:
        """The brand a reader of this language knows: a Chinese one on Chinese cards, else a Latin one."""
        chinese = [b for b in brands if any(_cjk(ch) for ch in b)]
        latin = [b for b in brands if b not in chinese]
        preferred = (chinese or latin) if self.zh else (latin or chinese)
        return preferred[0] if preferred else None

    def title(self, entry: Recommendation) -> str:
        return self._titles[entry.id]

    def _all_titles(self) -> dict[str, str]:
        return {i: e.title.get(self.language) for i, e in self.knowledge.entries.items()}

    def source_label(self, source_id: str) -> str:
        return self.knowledge.sources[source_id].label.get(self.language)

    def level(self, entry: Recommendation, *, short: bool = False) -> str:
        return self._once(("level", entry.id, short), self._level, entry, short)

    def _level(self, entry: Recommendation, short: bool) -> str:
        if entry.level is None:
            return self.say("level.unknown")
        if entry.level_provenance == "stated" and entry.level_source:
            key = "level.short_stated" if short else "level.stated"
            return self.say(key, level=entry.level, source=self.source_label(entry.level_source))
        return self.say("level.short_inferred" if short else "level.inferred", level=entry.level)

    def grading(self, entry: Recommendation) -> str:
        return self._once(("grading", entry.id), self._grading, entry)

    def _grading(self, entry: Recommendation) -> str:
        category = (
            self.say(f"category.{entry.category_provenance}", category=entry.evidence_category)
            if entry.evidence_category
            else self.say("category.unknown")
        )
        sep = "；" if self.zh else " · "
        return sep.join([self.level(entry), category, self.say(f"provenance.{entry.provenance}")])

    def fact(self, line: FactLine) -> str:
        shown = self._facts.get(line)
        if shown is None:
            shown = self._facts[line] = self._fact(line)
        return shown

    def _fact(self, line: FactLine) -> str:
        # As join(paren(...), clauses=True) would write it, inline: most cards list several facts, each with
        # its sources.
        if self.zh:
            colon, before, after, between = "：", "（", "）", "；"
        else:
            colon, before, after, between = ": ", " (", ")", "; "
        undated = self._phrases["label.undated"]
        where = between.join(
            f"`{e.reference}`{before}{e.date or undated}{colon}{e.label}{colon}{e.value}{after}"
            for e in line.evidence[:6]
        )
        more = f" (+{len(line.evidence) - 6})" if len(line.evidence) > 6 else ""
        return f"- {self._phrases[line.name]}{colon}**{self.value(line.value)}**" + (
            f" — {where}{more}" if where else ""
        )

    def short_fact(self, line: FactLine, dated: set[str]) -> str:
        """Name, value and, from the first source, what the record says and when (a date once per line)."""
        shown, said, when = self._short.get(line) or self._short_parts(line)
        extra = [said] if said else []
        if when is not None and when not in dated:
            extra.append(when)
            dated.add(when)
        marks = self._marks
        return f"{shown}{marks.before}{marks.comma.join(extra)}{marks.after}" if extra else shown

    def _short_parts(self, line: FactLine) -> tuple[str, str, str | None]:
        """What short_fact shows of `line` whatever else the card says: a fact is in most cards of a call."""
        colon = "：" if self.zh else ": "
        value = self.value(line.value)
        # A value that names itself (HER2-positive, metastatic) needs no label in this one line.
        plain = line.value in self._phrases and line.value.split(".")[0] in _SELF_NAMING
        shown = value if plain else f"{self._phrases[line.name]}{colon}{value}"
        if not line.evidence:
            parts: tuple[str, str, str | None] = (shown, "", None)
        else:
            first = line.evidence[0]
            said = first.value if first.value and first.value.lower() != value.lower() else ""
            # A short result of the one source (3+, 45 %): not a long display, not a record status (active),
            # and not one number among several (an ISH ratio is not the HER2 status).
            said = said if len(said) <= 24 and len(line.evidence) == 1 and said not in _RECORD_STATUSES else ""
            parts = (shown, said, first.date or self._phrases["label.undated"])
        self._short[line] = parts
        return parts

    def drugs(self, ids: list[str]) -> str:
        return " + ".join(self.value(f"drug:{d}") for d in ids)

    def regimens(self, entry: Recommendation) -> str:
        return self._once(("regimens", entry.id), self._regimens, entry)

    def _regimens(self, entry: Recommendation) -> str:
        shown = []
        for r in entry.regimens:
            extra = f" ×{r.cycles}" if r.cycles else ""
            extra += ("，" if self.zh else ", ") + r.duration.get(self.language) if r.duration else ""
            if self.zh and _WORDS.search(r.label):  # "HP maintenance" is English: Chinese cards name the drugs
                shown.append(f"{self.drugs(r.drugs)}{extra}")
            else:
                shown.append(self.paren(r.label, self.drugs(r.drugs)) + extra)

        return self.join(shown, clauses=True)

    def _sources(self, entry: Recommendation) -> tuple[str, ...]:
        labels: list[str] = []
        for source_id in entry.sources:
            source = self.knowledge.sources[source_id]
            if source.kind == "consensus" and source_id == "consensus-2025" or source.reports_consensus:
                consensus = self.source_label("consensus-2025")
                label = f"{consensus} {'、'.join(entry.statements) if self.zh else ', '.join(entry.statements)}"
                labels.append(label.strip())
            else:
                labels.append(self.source_label(source_id))
        return tuple(labels)

    # -- a row's words, prepared once --------------------------------------------------------------
    def row_words(self, entry: Recommendation) -> RowWords:
        """What the cards say of `entry` whatever the patient, worded as a card worded it on each call before
        (tests/unit/test_prepared_wording.py holds every card to the former renderer's)."""
        title, short = self.title(entry), self.level(entry, short=True)
        sources = self._sources(entry)
        qualifiers = tuple(self._qualifier_words(q) for q in entry.qualifiers)
        recommends = self._recommends(entry)
        unchecked = tuple(self._qualifier_lines([], [q.confirm for q in qualifiers]))
        return RowWords(
            title=title,
            level_short=short,
            named=self._named(entry),
            summaries={
                key: clip(self.say(key, title=title, level=short))
                for key in RECOMMENDATION_SUMMARIES
                if _placeholders(self._phrases[key]) <= {"title", "level"}
            },
            tops={
                "rec.summary": tuple(p for p in self.paragraphs([*recommends, *unchecked]) if p),
                "rec.summary_running": tuple(p for p in self.paragraphs(list(recommends)) if p),
            },
            recommends=recommends,
            action_text=self._action_text(entry),
            qualifiers=qualifiers,
            unchecked=unchecked,
            lines_with_text=self._row_lines(entry, True, True),
            lines=self._row_lines(entry, True, False),
            line_cited=self._row_lines(entry, False, False)[0],
            sources=sources,
            sources_line=f"{self._marks.sources}{self._marks.clauses.join(dict.fromkeys(sources))}",
            source=self._source(entry.id, [entry], title),  # a row's own card: the same on every one
        )

    def _qualifier_words(self, qualifier: Qualifier) -> QualifierWords:
        criterion = (qualifier.checked_text or qualifier).get(self.language)
        met, not_met = self.say("rec.qualifier_met"), self.say("rec.qualifier_not_met")
        return QualifierWords(
            qualifier.get(self.language),
            self.say("rec.checked_line", criterion=criterion, verdict=met),
            self.say("rec.checked_line", criterion=criterion, verdict=not_met),
            qualifier.otherwise.get(self.language) if qualifier.otherwise else None,
        )

    # -- card sections -----------------------------------------------------------------------------
    def said(self, finding: Finding, own: list[Recommendation] | None = None) -> tuple[str, Mapping[str, str]]:
        """The finding's summary and its phrase arguments. A row's own card says its prepared summary; its
        arguments are then worded only when an explanation paragraph (`details`) needs them."""
        if own is None:
            own = [self.knowledge.entries[i] for i in finding.cites if i in self.knowledge.entries]
        if own and "title" not in finding.args and "level" not in finding.args:
            prepared = self._rows[own[0].id].summaries.get(finding.summary)
            if prepared is not None:
                return prepared, self.args(finding, own, self.names(finding)) if finding.details else _NO_ARGS
        args = self.args(finding, own, self.names(finding))
        return self.summary(finding, args), args

    def action(
        self,
        finding: Finding,
        args: Mapping[str, str],
        cited: list[Recommendation],
        notes_said: list[tuple[str, Mapping[str, str]]],
    ) -> list[str]:
        """What to do, first: the recommendation itself, or the finding's explanation. `notes_said`: the
        summary and arguments of each line inside the card (`finding.notes`), worded once for the card."""
        lines = [self.say(key, **args) for key in finding.details]  # e.g. "at progression": context first
        if finding.summary in RECOMMENDATION_SUMMARIES and cited:
            row = self._rows[cited[0].id]
            lines += row.recommends
            if finding.summary != "rec.summary_running":  # a running regimen was chosen already: no criteria
                lines += self.qualifier_lines(row, finding.checked)
        else:
            if not finding.details and self._rule_is_the_action(finding, cited):
                lines.append(self._rows[cited[0].id].action_text)  # what the label says
            if cited and cited[0].kind in ("recommendation", "caution") and finding.rule == cited[0].id:
                lines += self.qualifier_lines(self._rows[cited[0].id], finding.checked)  # an order's fit
        if not finding.notes:
            return lines + self.product_lines(finding) if finding.rule == "BIO6" else lines
        lines += [f"- {said}" for said, _ in notes_said]
        if finding.rule == "BIO6" or any(n.rule == "BIO6" for n in finding.notes):
            product = finding if finding.rule == "BIO6" else next(n for n in finding.notes if n.rule == "BIO6")
            lines += self.product_lines(product)
        return lines

    def _action_text(self, entry: Recommendation) -> str:
        return _without_evidence(entry.text.get(self.language))

    def _recommends(self, entry: Recommendation) -> tuple[str, ...]:
        """A recommendation row as its card states it: its text, then whether it is preferred, China-only."""
        tags = [self.say("rec.preferred")] if entry.preferred else []
        tags += [self.say("rec.china")] if entry.region == "china" else []
        return (self._action_text(entry), *((f"_{self.join(tags, clauses=True)}_",) if tags else ()))

    @staticmethod
    def _rule_is_the_action(finding: Finding, cited: list[Recommendation]) -> bool:
        """A safety or testing card without its own explanation: the rule's text says what to do."""
        return (
            not finding.details
            and bool(cited)
            and finding.rule == cited[0].id
            and cited[0].kind in ("safety", "testing")
        )

    def qualifier_lines(self, row: RowWords, checked: tuple[tuple[int, str], ...]) -> Sequence[str]:
        """Criteria the record decides are shown as met / not met; the rest (and, for a checked one not
        met, what is left of it: its `otherwise`) stay "applies if ... confirm"."""
        if not checked:
            return row.unchecked
        states = dict(checked)
        decided, confirm = [], []
        for index, q in enumerate(row.qualifiers):
            state = states.get(index)
            if state is None:
                confirm.append(q.confirm)
                continue
            decided.append(q.met if state == "met" else q.not_met)
            if state == "not-met" and q.otherwise is not None:
                confirm.append(q.otherwise)
        return self._qualifier_lines(decided, confirm)

    def _qualifier_lines(self, decided: list[str], confirm: list[str]) -> list[str]:
        colon, clauses = self._marks.colon, self._marks.clauses
        lines = [f"{self.say('rec.checked')}{colon}{clauses.join(decided)}"] if decided else []
        if confirm:
            lines.append(f"{self.say('rec.applies_if')}{colon}{clauses.join(confirm)}")
        return lines

    def explained(self, finding: Finding, notes_said: list[tuple[str, Mapping[str, str]]]) -> list[str]:
        """Why each line inside the card says what it says: first in the basis."""
        lines: list[str] = []
        for note, (said, note_args) in zip(finding.notes, notes_said, strict=True):
            why = [self.say(key, **note_args) for key in note.details if key not in finding.details]
            if why:
                lines.append(f"- {said}{self._marks.colon}{' '.join(why)}")
        return lines

    @staticmethod
    def paragraphs(lines: list[str]) -> list[str]:
        """Markdown: each statement its own paragraph; consecutive list items stay one list."""
        blocks: list[str] = []
        for line in lines:
            if line.startswith(("- ", "  ")) and blocks and blocks[-1].lstrip().startswith("- "):
                blocks[-1] += "\n" + line
            else:
                blocks.append(line)
        return blocks

    def decisive(self, finding: Finding) -> str:
        """ "For this patient": up to three facts, each as short_fact says it."""
        facts = [line for line in finding.basis if line.value != "value.see"][:3]
        if not facts:
            return ""
        dated: set[str] = set()
        marks = self._marks
        return marks.for_patient + marks.between_facts.join(self.short_fact(line, dated) for line in facts)

    def product_lines(self, finding: Finding) -> list[str]:
        """The product and its approval in the configured jurisdiction; the rest is behind a link."""
        product = self.terminology.products.get(finding.args.get("product", ""))
        if product is None:
            return []
        role = self.say(f"bio.role.{product.role}", reference=self._reference_name(product.reference_product))
        name = " / ".join(product.brands[:2]) or product.nonproprietary or ""
        if product.nonproprietary and product.nonproprietary not in name and not self.zh:
            name += f" ({product.nonproprietary})"  # the US suffix name; Chinese cards name the drug in Chinese
        approval = next((a for a in product.approvals if a.region == self.jurisdiction), None)
        approved = (
            self.say("bio.approved", region=self.jurisdiction, date=approval.date or self.say("label.undated"))
            if approval
            else self.say("bio.not_approved", region=self.jurisdiction)
        )
        return [f"**{name}**{'：' if self.zh else ': '}{role}{'；' if self.zh else '; '}{approved}"]

    def _reference_name(self, product_id: str | None) -> str:
        reference = self.terminology.products.get(product_id or "")
        return " / ".join(reference.brands[:1]) if reference and reference.brands else (product_id or "?")

    def basis(
        self, finding: Finding, cited: list[Recommendation], notes_said: list[tuple[str, Mapping[str, str]]]
    ) -> list[str]:
        lines = self.explained(finding, notes_said) if finding.notes else []
        facts = dict.fromkeys([*finding.basis, *finding.basis_facts] if finding.basis_facts else finding.basis)
        if "order" in finding.args:
            orders = self.join([f"`{o}`" for o in finding.args["order"].split(", ")])
            lines.append(f"- {self.say('label.order')}{self._marks.colon}{orders}")
        known = self._facts
        lines += [known.get(f) or self.fact(f) for f in facts]
        if cited:
            rows, first = self._rows, self._rows[cited[0].id]
            own_text = finding.summary not in RECOMMENDATION_SUMMARIES and not self._rule_is_the_action(finding, cited)
            lines += first.lines_with_text if own_text else first.lines
            lines += [rows[entry.id].line_cited for entry in cited[1:]]
        if finding.more:
            listed = [self._rows[i].named for i in finding.more]
            lines.append(f"- {self.say('rec.more')}{self._marks.colon}{self._marks.clauses.join(listed)}")
        return lines

    def _row_lines(self, entry: Recommendation, first: bool, with_text: bool) -> tuple[str, ...]:
        """A cited row in the basis: the card's own row (the first) with its grading, text, regimens, trials
        and note; the others named with their level."""
        colon = "：" if self.zh else ": "
        name = self.say("label.recommendation" if entry.kind in ("recommendation", "caution") else "label.rule")
        if not first:
            return (f"- {name}{colon}{self._named(entry)}",)
        lines = [f"- {name}{colon}{self.title(entry)} — {self.grading(entry)}"]
        if with_text:
            lines.append(f"  {entry.text.get(self.language)}")
        if entry.regimens:
            lines.append(f"  {self.say('rec.regimens')}{colon}{self.regimens(entry)}")
        if entry.trials:
            lines.append(f"  {self.say('rec.trials')}{colon}{self.join(entry.trials)}")
        if entry.note:
            lines.append(f"  _{entry.note.get(self.language)}_")
        return tuple(lines)

    def _named(self, entry: Recommendation) -> str:
        return self.paren(self.title(entry), self.level(entry, short=True))

    def attribution(self, cited: list[Recommendation], data_check: bool) -> tuple[str, str | None]:
        """Whose statement the card is: the consensus only when the row rests on it (or on a summary
        of it); otherwise the row's own first source (a guideline, a drug label, domain knowledge)."""
        if data_check:
            return SERVICE_LABEL[self.language], None
        if not cited:
            return CONSENSUS_LABEL[self.language], CONSENSUS_URL
        first = cited[0]
        return self._once(("attribution", first.id), self._attribution, first)

    def _attribution(self, entry: Recommendation) -> tuple[str, str | None]:
        sources = [self.knowledge.sources[s] for s in entry.sources]
        if any(s.kind == "consensus" or s.reports_consensus for s in sources):
            return CONSENSUS_LABEL[self.language], CONSENSUS_URL
        rank = ("guideline", "label", "regulatory", "trial", "web", "domain-knowledge")
        first = min(sources, key=lambda s: rank.index(s.kind) if s.kind in rank else len(rank))
        return first.label.get(self.language), first.url

    def draft_order(self, kind: str, patient_id: str) -> dict[str, Any]:
        """The ServiceRequest a suggestion creates, validated by the FHIR model."""
        system, code, display = ORDERABLES[kind]
        return ServiceRequest.model_validate(
            {
                "status": "draft",
                "intent": "order",
                "code": {
                    "coding": [{"system": system, "code": code, "display": display}],
                    "text": self.say(f"action.{kind}"),
                },
                "subject": {"reference": f"Patient/{patient_id}"},
            }
        ).model_dump(mode="json", exclude_none=True, by_alias=True)

    def suggestion(self, kind: str) -> dict[str, Any]:
        """The suggestion to order `kind`, as the Card model reads it (validated with its card)."""
        if _FHIR_ID.fullmatch(self.patient_id):
            # Only the patient differs between calls, and a FHIR id is always a valid reference: the order is
            # validated by the FHIR model once per kind and language, then copied with this patient.
            resource = _copied(self._once(("order", kind), self.draft_order, kind, "0"))
            resource["subject"] = {"reference": f"Patient/{self.patient_id}"}
        else:
            resource = self.draft_order(kind, self.patient_id)
        action = {"type": "create", "description": self.say(f"action.{kind}"), "resource": resource}
        return {"label": self.say(f"suggest.{kind}"), "isRecommended": True, "actions": [action]}

    def url(self, value: str) -> AnyUrl:
        """An AnyUrl of the knowledge base's or this module's own URLs, parsed once."""
        return self._once(("url", value), _URL.validate_python, value)

    def _version_line(self) -> str:
        return f"*{self.say('label.knowledge_version', version=self.knowledge_version)}*"

    def _override(self, code: str) -> OverrideReason:
        return OverrideReason(system=OVERRIDE_SYSTEM, code=code, display=self.say(f"override.{code}"))

    def _links(self, data_check: bool, regulator: bool) -> tuple[Link, ...]:
        links = (
            [] if data_check else [Link(label=LINK_LABEL[self.language], url=self.url(CONSENSUS_URL), type="absolute")]
        )
        if regulator:
            en, zh, url = REGULATOR_LINKS[self.jurisdiction]
            links.append(Link(label=zh if self.zh else en, url=self.url(url), type="absolute"))
        return tuple(links)

    def _source(self, rule: str, cited: list[Recommendation], topic: str) -> Source:
        """A card's source: whose statement its rows are, and its topic (`rule`, shown as `topic`)."""
        label, url = self.attribution(cited, rule in _DATA_CHECKS)
        coded = Coding(system=RULE_SYSTEM, code=rule, display=clip(topic, 200))
        return Source(label=clip(label, 100), url=self.url(url) if url else None, topic=coded)

    def summary(self, finding: Finding, args: dict[str, str]) -> str:
        return clip(self.say(finding.summary, **args))

    # -- the card ----------------------------------------------------------------------------------
    def card(self, finding: Finding) -> Card:
        entries, rows, marks = self.knowledge.entries, self._rows, self._marks
        own = [entries[i] for i in finding.cites if i in entries]
        cited = own
        if finding.notes:  # the rows of the lines folded into this card are part of its basis too
            inside = [i for n in finding.notes for i in n.cites if i in entries and i not in finding.cites]
            cited = own + [entries[i] for i in dict.fromkeys(inside)]
        summary, args = self.said(finding, own)
        notes_said = [self.said(note) for note in finding.notes]
        prepared = (
            rows[cited[0].id].tops.get(finding.summary)
            if cited and not (finding.details or finding.notes or finding.checked) and finding.rule != "BIO6"
            else None
        )  # a row's card with nothing of the record in its action: its paragraphs as worded at start-up
        if prepared is not None:
            top = list(prepared)
        else:
            top = [part for part in self.paragraphs(self.action(finding, args, cited, notes_said)) if part]
        decisive = self.decisive(finding)
        if decisive:
            top.append(decisive)
        detail = ["\n\n".join(top)] if top else []
        basis = self.basis(finding, cited, notes_said)
        if basis:
            detail.append(marks.basis + "\n".join(basis))
        # The sources of the card's own row and of each line inside it: what a committee follows up.
        if not finding.notes:
            if cited:
                detail.append(rows[cited[0].id].sources_line)
        else:
            followed = [c.id for c in cited[:1]] + [n.cites[0] for n in finding.notes if n.cites]
            sources = dict.fromkeys(s for i in dict.fromkeys(followed) if i in entries for s in rows[i].sources)
            if sources:
                detail.append(marks.sources + marks.clauses.join(sources))
        if self.knowledge_version:  # last and in italics: for an audit, not for the clinical reading
            detail.append(self._once(("version", self.knowledge_version), self._version_line))
        data_check = finding.rule in _DATA_CHECKS
        suggestions = [Suggestion.model_validate(self.suggestion(finding.suggestion))] if finding.suggestion else None
        # The parts that depend on the knowledge and the language only are built as models once (validated
        # then, and shared by the cards); a suggestion is validated as it is made.
        overrides = [self._once(("override", code), self._override, code) for code in finding.overrides] or None
        regulator = finding.rule == "BIO6" or bool(finding.notes) and any(n.rule == "BIO6" for n in finding.notes)
        links = self._once(("links", data_check, regulator, self.jurisdiction), self._links, data_check, regulator)
        if cited and cited[0].id == finding.rule:  # the topic is the row: its title, and whose statement it is
            source = rows[finding.rule].source
        else:  # the topic is what this card says
            source = self._source(finding.rule, cited, summary)
        # Machine-readable: which knowledge rows the card shows (audits, feedback per rule, tests); empty
        # entries are left out.
        rules = [finding.rule, *[n.rule for n in finding.notes], *[c.id for c in cited], *finding.more]
        about: dict[str, Any] = {"rules": list(dict.fromkeys(rules))}
        if own:
            about["cited"] = [c.id for c in own]
        if finding.more:
            about["alsoMatching"] = list(finding.more)
        if self.knowledge_version:
            about["knowledgeVersion"] = self.knowledge_version
        # Validated as it is made: the wire format (summary length, selectionBehavior with suggestions ...)
        # is checked on every answer, not only in the tests; the shared parts inside are models already.
        return Card.model_validate(
            {
                "summary": summary,
                "detail": "\n\n".join(detail).strip() or None,
                "indicator": finding.indicator,
                "source": source,
                "suggestions": suggestions,
                "selectionBehavior": "at-most-one" if suggestions else None,
                "overrideReasons": overrides,
                "links": links or None,  # a tuple of models, read as the card's list
                "extension": {EXTENSION: about},
            },
        )
