"""What a card says of a knowledge row is worded once at start-up (render.py's prepared rows); a call only fills in
the patient's facts. Every card must stay exactly what the former renderer (tests/unit/former/render.py, which
worded everything on each call) made of the same finding: over the fact grid's patient-view and order findings,
over a finding made for every knowledge row (each way its checked qualifiers can be decided), in both languages
and every jurisdiction. The rules' look-up of a row's checkable qualifiers is held to the former loop too."""

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from cds_service.clinical.conditions import FactLine
from cds_service.clinical.consolidate import consolidate
from cds_service.clinical.engine import load_engine
from cds_service.clinical.evidence import Evidence
from cds_service.clinical.orders import order_findings, safety_findings
from cds_service.clinical.render import Renderer, prepare_wording
from cds_service.clinical.rules import Finding, checked_qualifiers, patient_view_findings
from cds_service.config import Settings
from cds_service.hooks.response import Card, dump
from cds_service.terminology import DrugMatch
from tests.unit.fact_grid import fact_grid
from tests.unit.former import qualifiers as former_qualifiers
from tests.unit.former.render import Renderer as FormerRenderer

ENGINE = load_engine(Settings().mappings_dir, Settings().cards_dir)
KNOWLEDGE, TERMINOLOGY = ENGINE.knowledge, ENGINE.terminology
LANGUAGES = ("en", "zh-CN")
# The grid's records, with a breast cancer diagnosis (without one, every record gets the scope card only).
DIAGNOSIS = (Evidence("Condition/c1", "2023-01-02", "Malignant neoplasm of breast", "active"),)
GRID = [replace(facts, breast_cancer=DIAGNOSIS) for facts in fact_grid(400, seed=5)]
HER2_LINE = FactLine("fact.her2", "her2.positive", (Evidence("Observation/o1", "2024-01-05", "HER2 IHC", "3+"),))


def _wire(card: Card) -> dict[str, Any]:
    """The card as sent, without its random uuids."""
    sent = dump(card)
    sent.pop("uuid")
    for suggestion in sent.get("suggestions", ()):
        suggestion.pop("uuid")
    return sent


def _same_cards(findings: list[Finding], **renderer: str) -> int:
    """Renders `findings` with both renderers in both languages; returns how many cards were compared."""
    for language in LANGUAGES:
        new = Renderer(KNOWLEDGE, TERMINOLOGY, language, **renderer)  # type: ignore[arg-type]
        former = FormerRenderer(KNOWLEDGE, TERMINOLOGY, language, **renderer)  # type: ignore[arg-type]
        for finding in findings:
            assert _wire(new.card(finding)) == _wire(former.card(finding)), (finding.rule, language)
    return len(findings) * len(LANGUAGES)


def _row_findings() -> Iterator[Finding]:
    """Each knowledge row as a card's topic, as a row cited by another topic, and with each decision of its
    checked qualifiers; recommendation rows also as the running regimen and with another row inside."""
    ids = list(KNOWLEDGE.entries)
    for position, (row_id, entry) in enumerate(KNOWLEDGE.entries.items()):
        checkable = [i for i, q in enumerate(entry.qualifiers) if q.checked_by is not None] or [0]
        decisions = [
            tuple(zip(checkable, states, strict=True))
            for states in itertools.product(("met", "not-met", None), repeat=len(checkable))
        ]
        other = ids[(position + 1) % len(ids)]
        for checked in decisions:
            kept = tuple((i, s) for i, s in checked if s is not None)
            yield Finding(row_id, "info", "rec.summary", basis=(HER2_LINE,), cites=(row_id,), checked=kept)
        yield Finding(row_id, "warning", "rec.summary_running", args={"current": "drug:trastuzumab"}, cites=(row_id,))
        running = {"current": "drug:trastuzumab"}
        note = Finding(
            other, "info", "rec.summary", args=running, basis=(HER2_LINE,), cites=(other,), details=("rec.running",)
        )
        yield Finding(
            row_id,
            "info",
            "rec.summary",
            args={"line": "2", "current": "drug:trastuzumab, drug:pertuzumab"},
            details=("rec.next_line",),
            basis=(HER2_LINE,),
            cites=(row_id, other),
            more=(other,),
            notes=(note,),
        )
        order = {"drug": "drug:trastuzumab", "order": "MedicationRequest/mr1, MedicationRequest/mr2"}
        yield Finding(row_id, "info", "order.fits", args=order | {"title": f"title:{row_id}"}, cites=(row_id, other))
        caution = {"drug": "drug:pertuzumab", "her2": "her2.low", "product": "ogivri"}
        yield Finding(row_id, "warning", "order.caution", args=caution, cites=(row_id,), checked=((0, "met"),))
        yield Finding(
            row_id, "critical", "gap.serum", details=("gap.serum.why",), cites=(row_id,), overrides=("mdt-reviewed",)
        )


def _order_findings() -> Iterator[Finding]:
    order = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "order"}
    matches = [DrugMatch(drug, None, "test") for drug in sorted(TERMINOLOGY.drugs)]
    matches += [DrugMatch(product.drug, product_id, "test") for product_id, product in TERMINOLOGY.products.items()]
    for facts, match in zip(GRID, itertools.cycle(matches)):
        found = order_findings(KNOWLEDGE, TERMINOLOGY, facts, order, match, "CN")
        found += safety_findings(KNOWLEDGE, facts, {match.drug})
        yield from consolidate(found, orders=True)


def test_patient_view_cards_are_what_the_former_renderer_made_over_the_grid() -> None:
    findings = [
        f for facts in GRID for f in consolidate(patient_view_findings(KNOWLEDGE, TERMINOLOGY, facts), orders=False)
    ]
    assert len({f.rule for f in findings}) > 20  # the grid reaches many rows, not one card
    assert _same_cards(findings, patient_id="p1", knowledge_version="2026-12-01+abc") > 1000


@pytest.mark.parametrize("jurisdiction", ["CN", "US", "EU"])
def test_order_cards_are_what_the_former_renderer_made_over_the_grid(jurisdiction: str) -> None:
    findings = list(_order_findings())
    assert any(f.suggestion for f in findings) and any(f.rule == "BIO6" or f.notes for f in findings)
    _same_cards(findings, patient_id="p1", jurisdiction=jurisdiction, knowledge_version="v1")
    _same_cards(findings[:40], patient_id="not a FHIR id")  # the suggestion's order validated as it is made


def test_renderers_of_one_knowledge_base_keep_their_own_jurisdiction() -> None:
    """The regulator's link of a biosimilar card is the configured jurisdiction's, even when renderers of other
    jurisdictions worded the same knowledge base in this process first (the shared wording is per knowledge and
    language; the links are per jurisdiction too)."""
    bio6 = next(f for f in _order_findings() if f.rule == "BIO6" or any(n.rule == "BIO6" for n in f.notes))
    expected = {"CN": "https://www.nmpa.gov.cn/datasearch/", "US": "https://purplebooksearch.fda.gov/"}
    for jurisdiction in ("CN", "US", "CN"):
        card = Renderer(KNOWLEDGE, TERMINOLOGY, "en", "p1", jurisdiction=jurisdiction).card(bio6)
        assert expected[jurisdiction] in [str(link.url) for link in card.links or ()], jurisdiction


def test_every_row_is_worded_as_the_former_renderer_worded_it() -> None:
    findings = list(_row_findings())
    assert _same_cards(findings, patient_id="p1", knowledge_version="v1") > 10 * len(KNOWLEDGE.entries)
    _same_cards(findings, patient_id="p1")  # no version line


def test_the_words_are_prepared_once_for_each_knowledge_base_and_language() -> None:
    """load_engine prepares them: a call's renderer finds every row worded, and a second preparation keeps
    the first (the same objects)."""
    for language in LANGUAGES:
        words = prepare_wording(KNOWLEDGE, TERMINOLOGY, language)
        assert set(words) == set(KNOWLEDGE.entries)
        assert prepare_wording(KNOWLEDGE, TERMINOLOGY, language) is words
        assert Renderer(KNOWLEDGE, TERMINOLOGY, language, "p1")._rows is words


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_rows_prepared_words_are_what_the_former_renderer_worded_on_each_call(language: str) -> None:
    """Field by field, so a regression names the template that changed."""
    rows = prepare_wording(KNOWLEDGE, TERMINOLOGY, language)
    new = Renderer(KNOWLEDGE, TERMINOLOGY, language, "p1")
    former = FormerRenderer(KNOWLEDGE, TERMINOLOGY, language, "p1")
    colon = "：" if language == "zh-CN" else ": "
    for row_id, entry in KNOWLEDGE.entries.items():
        words = rows[row_id]
        assert (words.title, words.level_short, words.named) == (
            former.title(entry),
            former.level(entry, short=True),
            former._named(entry),
        )
        assert (words.recommends, words.action_text) == (former._recommends(entry), former._action_text(entry))
        assert words.lines_with_text == former._row_lines(entry, True, True)
        assert words.lines == former._row_lines(entry, True, False)
        assert (words.line_cited,) == former._row_lines(entry, False, False)
        assert words.sources == former._sources(entry)
        sources = former.join(former.sources([entry]), clauses=True)
        assert words.sources_line == f"**{former.say('label.sources')}**{colon}{sources}"
        assert words.source == former._source(row_id, [entry])
        assert set(words.summaries) == {"rec.summary", "rec.summary_running"} == set(words.tops)
        for key in words.summaries:
            finding = Finding(row_id, "info", key, cites=(row_id,))
            args = former.args(finding, [entry])
            assert words.summaries[key] == former.summary(finding, args)
            assert words.tops[key] == tuple(
                p for p in former.paragraphs(former.action(finding, args, [entry], [])) if p
            )
        # Every way the record can decide its qualifiers (and indices it does not have: ignored).
        for states in itertools.product(("met", "not-met", None), repeat=len(entry.qualifiers)):
            checked = tuple((i, s) for i, s in enumerate(states) if s is not None) + ((9, "met"),)
            assert list(new.qualifier_lines(words, checked)) == former.qualifier_lines(entry, dict(checked))
        assert list(new.qualifier_lines(words, ())) == former.qualifier_lines(entry, {})


def test_checked_qualifiers_are_what_the_former_loop_over_every_qualifier_found() -> None:
    """rank and the order checks ask every matching row which qualifiers the record decides; the rows that have
    one are found once. Over the grid, for every row: the same verdicts, facts read and hard limits."""
    verdicts: set[str] = set()
    for facts in GRID:
        for entry in KNOWLEDGE.entries.values():
            found = checked_qualifiers(entry, facts)
            assert found == former_qualifiers.checked_qualifiers(entry, facts), entry.id
            verdicts |= {verdict for _, verdict in found[0]} | ({"outside"} if found[2] else set())
    assert verdicts == {"met", "not-met", "outside"}  # the grid decides qualifiers every way, not only none
