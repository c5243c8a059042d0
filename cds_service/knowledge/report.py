"""The knowledge review report: one self-contained, printable HTML page a clinical committee reviews.

Every knowledge row with its text in both languages, its conditions in words, level and evidence category
with their provenance, full source citations, the scenario tests that cover it and the feedback its cards
received. No scripts, no external assets; every text from the data is escaped."""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from ..store.summary import RuleStats
from .loader import Knowledge
from .models import Recommendation, Text, When
from .report_labels import label
from .scenario_index import CoveringTest
from .version import KnowledgeVersion
from .when_text import sentence

__all__ = ["CHAPTER_ORDER", "FeedbackData", "ReportInput", "build_report", "needs_review"]

# The order a clinician reads the consensus in (README, cards/README.md); other chapters follow by name.
CHAPTER_ORDER = ("testing", "neoadjuvant", "adjuvant", "metastatic", "special-situations", "safety", "biosimilars")
CONSENSUS_SOURCE = "consensus-2025"
LEVELS = ("I", "I–II", "II", "II–III", "III")


@dataclass(frozen=True)
class FeedbackData:
    stats: Mapping[str, RuleStats] = field(default_factory=dict)  # rule_summary(): rule id -> counts
    error: str | None = None  # why the feedback could not be read (the report says so instead of zeros)


@dataclass(frozen=True)
class ReportInput:
    knowledge: Knowledge
    version: KnowledgeVersion
    chapter_titles: Mapping[str, Text]  # chapter id -> its title (cards/*.yaml `title`)
    drug_label: Callable[[str, str], str]  # (drug id, language) -> name
    feedback: FeedbackData
    scenarios: Mapping[str, Sequence[CoveringTest]] | None  # None: no tests folder to index
    generated: datetime


def needs_review(entry: Recommendation) -> list[str]:
    """The parts of a row that are inferred: content, level, category (empty: nothing inferred)."""
    parts = [("content", entry.provenance), ("level", entry.level_provenance), ("category", entry.category_provenance)]
    return [name for name, provenance in parts if provenance == "inferred"]


def build_report(data: ReportInput, language: str) -> str:
    r = _Report(data, language)
    return r.page()


class _Report:
    def __init__(self, data: ReportInput, language: str) -> None:
        self.d, self.lang = data, language
        self.k = data.knowledge
        order = {name: i for i, name in enumerate(CHAPTER_ORDER)}
        chapters = sorted(set(self.k.chapters.values()), key=lambda c: (order.get(c, len(order)), c))
        self.chapters = [(c, [e for e in self.k.entries.values() if self.k.chapters[e.id] == c]) for c in chapters]

    def t(self, key: str) -> str:
        return escape(label(key, self.lang))

    # -- page --------------------------------------------------------------------------------------
    def page(self) -> str:
        return "".join(
            [
                "<!DOCTYPE html>\n",
                f'<html lang="{escape(self.lang)}"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{self.t('title')} {escape(self.d.version.label)}</title>",
                f"<style>{_CSS}</style></head><body>\n",
                self.header(),
                self.review_list(),
                self.contents(),
                *(self.chapter(chapter, entries) for chapter, entries in self.chapters),
                self.definitions(),
                self.other_rules(),
                "</body></html>\n",
            ]
        )

    def header(self) -> str:
        v, consensus = self.d.version, self.k.sources.get(CONSENSUS_SOURCE)
        parts = [
            f'<header><h1>{self.t("title")}</h1><p class="intro">{self.t("intro")}</p><table class="meta">',
            f'<tr><th>{self.t("version")}</th><td><code data-field="version">{escape(v.label)}</code> '
            f"({self.t('digest')} <code>{escape(v.digest)}</code>, {self.t('latest_review')} "
            f"{escape(v.reviewed.isoformat())})</td></tr>",
        ]
        if consensus is not None:
            parts.append(f"<tr><th>{self.t('consensus')}</th><td>{self._citation(CONSENSUS_SOURCE)}</td></tr>")
        parts.append(
            f"<tr><th>{self.t('generated')}</th><td>{escape(self.d.generated.strftime('%Y-%m-%d %H:%M UTC'))}</td></tr>"
            f"<tr><th>{self.t('feedback.source')}</th>"
            f'<td data-field="feedback-status">{self._feedback_status()}</td></tr>'
            f"<tr><th>{self.t('field.scenarios')}</th><td>{self._scenario_status()}</td></tr></table>"
        )
        parts.append(self.counts())
        parts.append(f"<h2>{self.t('how_to')}</h2><p>{self.t('how_to_text')}</p></header>\n")
        return "".join(parts)

    def counts(self) -> str:
        entries = list(self.k.entries.values())
        levels: Counter[str | None] = Counter(e.level for e in entries)
        level_cells = [f'{escape(lv)}: <span data-count="level-{escape(lv)}">{levels[lv]}</span>' for lv in LEVELS]
        level_cells.append(f'{self.t("level.none")}: <span data-count="level-none">{levels[None]}</span>')
        rows = [
            f'<tr><th>{self.t("rows")}</th><td><span data-count="rows">{len(entries)}</span> — {self.t("by_chapter")}: '
            + ", ".join(f"{escape(c)} {len(es)}" for c, es in self.chapters)
            + "</td></tr>",
            f"<tr><th>{self.t('by_level')}</th><td>{', '.join(level_cells)}</td></tr>",
        ]
        for key, attribute in (
            ("content", "provenance"),
            ("level", "level_provenance"),
            ("category", "category_provenance"),
        ):
            counted = Counter(getattr(e, attribute) for e in entries)
            cells = " / ".join(
                f'<span data-count="{key}-{p}">{counted[p]}</span>' for p in ("stated", "inferred", "unknown")
            )
            rows.append(f"<tr><th>{self.t('count.' + key)} ({self.t('provenance_counts')})</th><td>{cells}</td></tr>")
        review = sum(1 for e in entries if needs_review(e))
        rows.append(
            f'<tr><th>{self.t("needs_review")}</th><td><span data-count="needs-review">{review}</span></td></tr>'
        )
        return f'<h2>{self.t("counts")}</h2><table class="meta counts">{"".join(rows)}</table>'

    def review_list(self) -> str:
        items = []
        for _, entries in self.chapters:
            for e in entries:
                parts = needs_review(e)
                if parts:
                    what = ", ".join(self.t(f"part.{p}") for p in parts)
                    items.append(
                        f'<li data-review="{escape(e.id)}"><a href="#row-{escape(e.id)}">{escape(e.id)}</a> '
                        f"{escape(e.title.get(self.lang))} — {self.t('inferred_parts')}: {what}</li>"
                    )
        body = (
            f'<p>{self.t("needs_review_intro")}</p><ul class="review">{"".join(items)}</ul>'
            if items
            else (f"<p>{self.t('none_needs_review')}</p>")
        )
        return f'<section id="needs-review"><h2>{self.t("needs_review")} ({len(items)})</h2>{body}</section>\n'

    def contents(self) -> str:
        items = "".join(
            f'<li><a href="#chapter-{escape(c)}">{escape(self._chapter_title(c))}</a>: '
            + " ".join(f'<a href="#row-{escape(e.id)}">{escape(e.id)}</a>' for e in entries)
            + "</li>"
            for c, entries in self.chapters
        )
        return f'<nav id="contents"><h2>{self.t("contents")}</h2><ol>{items}</ol></nav>\n'

    def chapter(self, chapter: str, entries: list[Recommendation]) -> str:
        title = self.d.chapter_titles.get(chapter)
        both = _both(title) if title else escape(chapter)
        return (
            f'<section class="chapter" id="chapter-{escape(chapter)}" data-chapter="{escape(chapter)}">'
            f"<h2>{both}</h2>{''.join(self.row(e) for e in entries)}</section>\n"
        )

    # -- one row ------------------------------------------------------------------------------------
    def row(self, e: Recommendation) -> str:
        inferred = needs_review(e)
        flag = ""
        if inferred:
            what = ", ".join(self.t(f"part.{p}") for p in inferred)
            flag = f'<p class="flag" data-field="review-flag">{self.t("inferred_marker")} ({what})</p>'
        fields: list[tuple[str, str, str]] = [  # (label key, data-field, html)
            ("field.title", "title", _both(e.title, "title")),
            ("field.text", "text", _both(e.text, "text")),
            ("field.kind", "kind", self.t(f"kind.{e.kind}")),
            ("field.when", "when", self._when(e.when) if e.when else self.t("when.engine")),
        ]
        if e.leads_when:
            fields.append(("field.leads_when", "leads-when", self._when(e.leads_when)))
        if e.qualifiers:
            fields.append(("field.qualifiers", "qualifiers", self._qualifiers(e)))
        if e.regimens:
            fields.append(("field.regimens", "regimens", self._regimens(e)))
        if e.drugs:
            fields.append(("field.drugs", "drugs", escape(", ".join(self._drug(d) for d in e.drugs))))
        if e.trials:
            fields.append(("field.trials", "trials", escape(", ".join(e.trials))))
        flags = [
            self.t(f"flag.{name}")
            for name, on in (("preferred", e.preferred), ("conditional", e.conditional), ("region", e.region))
            if on
        ]
        if flags:
            fields.append(("field.flags", "flags", "; ".join(flags)))
        if e.parameters:
            fields.append(
                ("field.parameters", "parameters", escape(", ".join(f"{k} = {v:g}" for k, v in e.parameters.items())))
            )
        fields += [
            ("field.level", "level", self._graded(e.level, e.level_provenance, "level", e.level_source)),
            ("field.category", "category", self._graded(e.evidence_category, e.category_provenance, "category", None)),
            ("field.provenance", "provenance", self._provenance(e.provenance, "provenance")),
        ]
        if e.statements:
            fields.append(("field.statements", "statements", escape(", ".join(e.statements))))
        if e.within:
            fields.append(
                ("field.within", "within", " ".join(f'<a href="#row-{escape(w)}">{escape(w)}</a>' for w in e.within))
            )
        fields += [
            ("field.knowledge_row", "knowledge-row", escape(e.knowledge_row)),
            ("field.sources", "sources", self._sources(e)),
            (
                "field.reviewed",
                "reviewed",
                f'<time data-value="{e.reviewed.isoformat()}">{e.reviewed.isoformat()}</time>',
            ),
        ]
        if e.note:
            fields.append(("field.note", "note", _both(e.note, "note")))
        fields += [
            ("field.scenarios", "scenarios", self._scenarios(e.id)),
            ("field.feedback", "feedback", self._feedback(e.id)),
        ]
        table = "".join(
            f'<tr><th>{self.t(key)}</th><td data-section="{name}">{html}</td></tr>' for key, name, html in fields
        )
        css = "row inferred" if inferred else "row"
        return (
            f'<article class="{css}" id="row-{escape(e.id)}" data-row="{escape(e.id)}">'
            f'<h3><span class="rid">{escape(e.id)}</span> {escape(e.title.get(self.lang))}</h3>{flag}'
            f'<table class="fields">{table}</table></article>\n'
        )

    def _when(self, when: When) -> str:
        return escape(sentence(when, self.lang, lambda d: self._drug(d)))

    def _drug(self, drug_id: str) -> str:
        return self.d.drug_label(drug_id, self.lang)

    def _qualifiers(self, e: Recommendation) -> str:
        items = []
        for q in e.qualifiers:
            extra = []
            if q.checked_by:
                checked = f" ({_both(q.checked_text)})" if q.checked_text else ""
                extra.append(f"{self.t('checked_by')}: {self._when(q.checked_by)}{checked}")
            if q.otherwise:
                extra.append(f"{self.t('otherwise')}: {_both(q.otherwise)}")
            tail = f'<div class="sub">{"; ".join(extra)}</div>' if extra else ""
            items.append(f"<li>{_both(q)}{tail}</li>")
        return f"<ul>{''.join(items)}</ul>"

    def _regimens(self, e: Recommendation) -> str:
        items = []
        for regimen in e.regimens:
            drugs = ", ".join(self._drug(d) for d in regimen.drugs)
            cycles = f" × {regimen.cycles} {self.t('cycles')}" if regimen.cycles else ""
            duration = f'<div class="sub">{_both(regimen.duration)}</div>' if regimen.duration else ""
            items.append(f"<li><b>{escape(regimen.label)}</b>: {escape(drugs)}{cycles}{duration}</li>")
        return f"<ul>{''.join(items)}</ul>"

    def _graded(self, value: str | None, provenance: str, name: str, source: str | None) -> str:
        shown = escape(value) if value else self.t("level.none")
        graded_by = ""
        if source:
            src = self.k.sources[source]
            graded_by = (
                f'; {self.t("level_source")} <span data-field="level-source" data-value="{escape(source)}">'
                f"{escape(src.label.get(self.lang))} ({escape(source)})</span>"
            )
        return (
            f'<span data-field="{name}-value" data-value="{escape(value or "")}">{shown}</span> — '
            f"{self._provenance(provenance, name + '-provenance')}{graded_by}"
        )

    def _provenance(self, provenance: str, name: str) -> str:
        css = " inferred" if provenance == "inferred" else ""
        shown = self.t("prov." + provenance)
        return f'<span class="prov{css}" data-field="{name}" data-value="{escape(provenance)}">{shown}</span>'

    def _sources(self, e: Recommendation) -> str:
        ids = list(dict.fromkeys([*e.sources, *filter(None, [e.level_source])]))
        return "<ol>" + "".join(f'<li data-source="{escape(s)}">{self._citation(s)}</li>' for s in ids) + "</ol>"

    def _citation(self, source_id: str) -> str:
        src = self.k.sources[source_id]
        link = (
            f' <a href="{escape(src.url)}">{escape(src.url)}</a>'
            if src.url and src.url.startswith(("https://", "http://"))
            else f' <span class="muted">({self.t("no_url")})</span>'
        )
        return (
            f'<b class="label">{escape(src.label.get(self.lang))}</b>: '
            f'<span class="citation" data-citation="{escape(source_id)}">{escape(src.citation)}</span>{link}'
        )

    def _scenarios(self, row: str) -> str:
        if self.d.scenarios is None:
            return f'<span class="muted">{self.t("scenarios.unavailable")}</span>'
        tests = self.d.scenarios.get(row) or []
        if not tests:
            return f'<span class="flag" data-value="none">{self.t("scenarios.none")}</span>'
        items = []
        for test in tests:
            xfail = (
                f' <span class="flag">({self.t("scenarios.xfail")}: {escape(test.expected_failure)})</span>'
                if test.expected_failure
                else ""
            )
            described = f" — {escape(test.description)}" if test.description else ""
            items.append(
                f'<li data-test="{escape(test.node_id)}"><code>{escape(test.node_id)}</code>{described}{xfail}</li>'
            )
        return f'<ul class="tests">{"".join(items)}</ul>'

    def _feedback(self, rule: str) -> str:
        fb = self.d.feedback
        if fb.error:
            return f'<span class="muted">{self.t("feedback.error")}</span>'
        if not fb.stats:
            return f'<span class="muted" data-value="none">{self.t("feedback.none")}</span>'
        stats = fb.stats.get(rule)
        if stats is None or not (stats.issued or stats.accepted or stats.overridden):
            return f'<span class="muted" data-value="none">{self.t("feedback.row_none")}</span>'
        return self._stats(stats)

    def _stats(self, stats: RuleStats) -> str:
        numbers = " · ".join(
            f'{self.t("feedback." + name)} <b data-field="{name}">{getattr(stats, name)}</b>'
            for name in ("issued", "accepted", "overridden")
        )
        reasons = ""
        if stats.override_reasons:
            listed = ", ".join(
                f'<span data-reason="{escape(reason)}" data-value="{count}">{escape(reason)} × {count}</span>'
                for reason, count in stats.override_reasons.most_common()
            )
            reasons = f"; {self.t('feedback.reasons')}: {listed}"
        return numbers + reasons

    # -- appendices ---------------------------------------------------------------------------------
    def definitions(self) -> str:
        if not self.k.definitions:
            return ""
        rows = "".join(
            f'<tr data-definition="{escape(name)}"><td><code>{escape(name)}</code></td>'
            f"<td>{d.value:g} {escape(d.unit)}</td>"
            f"<td>{_both(d.text)}</td><td>{self._provenance(d.provenance, 'provenance')}</td>"
            f"<td>{escape(', '.join(self.k.sources[s].label.get(self.lang) for s in d.sources))}</td></tr>"
            for name, d in self.k.definitions.items()
        )
        head = "".join(
            f"<th>{self.t(k)}</th>" for k in ("name", "value", "field.text", "field.provenance", "field.sources")
        )
        return (
            f'<section id="definitions"><h2>{self.t("definitions")}</h2><p>{self.t("definitions_intro")}</p>'
            f'<table class="grid"><tr>{head}</tr>{rows}</table></section>\n'
        )

    def other_rules(self) -> str:
        others = [s for rule, s in sorted(self.d.feedback.stats.items()) if rule not in self.k.entries]
        if not others:
            return ""
        rows = "".join(
            f'<tr data-rule="{escape(s.rule)}"><td><code>{escape(s.rule)}</code></td><td>{self._stats(s)}</td></tr>'
            for s in others
        )
        return (
            f'<section id="other-rules"><h2>{self.t("other_rules")}</h2><p>{self.t("other_rules_intro")}</p>'
            f'<table class="grid"><tr><th>{self.t("rule")}</th><th>{self.t("field.feedback")}</th></tr>'
            f"{rows}</table></section>\n"
        )

    # -- helpers ------------------------------------------------------------------------------------
    def _chapter_title(self, chapter: str) -> str:
        title = self.d.chapter_titles.get(chapter)
        return title.get(self.lang) if title else chapter

    def _feedback_status(self) -> str:
        fb = self.d.feedback
        if fb.error:
            return f"{self.t('feedback.error')}: {escape(fb.error)}"
        if not fb.stats:
            return self.t("feedback.none")
        rows = sum(1 for rule, s in fb.stats.items() if rule in self.k.entries and s.issued)
        issued = sum(s.issued for s in fb.stats.values())
        return f"{self.t('feedback.rows_with')}: {rows}; {self.t('feedback.issued')} ({self.t('rule')}): {issued}"

    def _scenario_status(self) -> str:
        if self.d.scenarios is None:
            return self.t("scenarios.unavailable")
        covered = sum(1 for tests in self.d.scenarios.values() if tests)
        return f"{self.t('scenarios.status_ok')} tests/scenarios: {covered} / {len(self.k.entries)}"


def _both(text: Text, name: str | None = None) -> str:
    """The English and the Chinese text, one under the other, each marked with its language."""

    def marked(lang: str) -> str:
        return f' data-field="{name}-{lang}"' if name else ""

    en, zh = f'<div lang="en"{marked("en")}>', f'<div lang="zh-CN"{marked("zh-CN")}>'
    return f"{en}{escape(text.en)}</div>{zh}{escape(text.zh_CN)}</div>"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC",
"Microsoft YaHei",sans-serif;
color:#1a1a1a;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.3em;border-bottom:2px solid #444;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.1em;margin:0 0 .4em}.rid{display:inline-block;min-width:3.2em;font-family:monospace;background:#e8eef6;
padding:0 .3em;border-radius:3px}
table{border-collapse:collapse;width:100%}table.fields,table.meta{table-layout:fixed}
td{overflow-wrap:anywhere}th,td{text-align:left;vertical-align:top;padding:.25em .5em}
table.meta th{width:14em}table.fields th{width:13em;color:#444;font-weight:600}
table.fields tr+tr>*{border-top:1px solid #e3e3e3}table.grid th,table.grid td{border:1px solid #ccc}
article.row{border:1px solid #bbb;border-radius:4px;padding:.7em .9em;margin:1em 0;break-inside:avoid-page}
article.row.inferred{border-left:6px solid #c77700}.flag{color:#8a4b00;font-weight:600}
.prov.inferred{color:#8a4b00;font-weight:600}.muted{color:#666}.sub{color:#444;margin-left:1em;font-size:.95em}
div[lang="zh-CN"]{color:#333}ul,ol{margin:.2em 0;padding-left:1.4em}code{font-size:.92em}
a{color:#0b4f8a}nav ol li{margin:.2em 0}
@page{size:A4;margin:15mm 12mm}
@media print{body{margin:0;max-width:none;font-size:10.5pt}a{color:inherit;text-decoration:none}
section.chapter{break-before:page}h2,h3{break-after:avoid}article.row{break-inside:avoid}
article.row.inferred{border-left:6px solid #000}.flag,.prov.inferred{color:#000}}
"""
