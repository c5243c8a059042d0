"""Findings → one card per decision: what a clinician reads in seconds.

- The HER2 status and a testing gap about that status (ISH missing, no result, conflict ...) are
  one card, led by the gap's action.
- Order hooks: one card per order (its fit, drug notes and product note), plus one card per
  patient-level safety topic (pregnancy, LVEF, ILD) however many orders raised it; all LVEF
  findings are one card.
- A product note once per product, and none on an order that should not be given."""

import dataclasses
from collections.abc import Iterable
from functools import cache
from string import Formatter

from .phrases import PHRASES
from .rules import Finding

__all__ = ["consolidate"]

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}
STATUS_GAPS = frozenset(
    {
        "gap.no_result",
        "gap.not_understood",
        "gap.unreadable",
        "gap.ish_missing",
        "gap.ihc_needed",
        "gap.conflicting",
        "gap.discordant",
        "gap.score_missing",
        "gap.ultralow_unstated",
        "gap.serum",
    }
)
LVEF_RULES = frozenset({"S1", "S2", "S3", "S4", "S5"})
# Safety findings about the patient rather than one order: one card each, listing the orders.
PATIENT_SAFETY = frozenset({"S1", "S2", "S4", "S5", "S6", "S7", "S9"})
PRODUCT_NOTE = "BIO6"
# Findings about two or more orders together (a duplicate ingredient, a combination): a card of their own.
BETWEEN_ORDERS = frozenset({"order-duplicate", "order-combination"})


def _worst(findings: Iterable[Finding]) -> str:
    return min((f.indicator for f in findings), key=_SEVERITY.__getitem__)


def _with_notes(lead: Finding, notes: list[Finding]) -> Finding:
    """`lead` carries the card; the others become lines inside it (their basis and sources join)."""
    if not notes:
        return lead
    everything = [lead, *notes]
    return dataclasses.replace(
        lead,
        indicator=_worst(everything),
        notes=(*lead.notes, *notes),
        basis=tuple(dict.fromkeys(line for f in everything for line in f.basis)),
        basis_facts=tuple(dict.fromkeys(line for f in everything for line in f.basis_facts)),
        suggestion=lead.suggestion or next((f.suggestion for f in notes if f.suggestion), None),
        overrides=tuple(dict.fromkeys(o for f in everything for o in f.overrides)),
        lead=any(f.lead for f in everything),
    )


def _status(findings: list[Finding]) -> list[Finding]:
    status = next((f for f in findings if f.lead), None)
    gaps = [f for f in findings if f.summary in STATUS_GAPS]
    if status is None or not gaps:
        return findings
    rest = [f for f in findings if f is not status and f.summary not in STATUS_GAPS]
    warnings = [g for g in gaps if g.indicator != "info"]
    if warnings:  # the action leads; the status it is about is the first line inside
        lead = warnings[0]
        merged = _with_notes(lead, [status, *(g for g in gaps if g is not lead)])
    else:
        merged = _with_notes(status, gaps)
    return [merged, *rest]


def _merge_key(finding: Finding, *, product: bool = False) -> tuple[object, ...]:
    """Findings that say the same, whichever order raised them. For an order's own card the product is
    part of what it says even where the summary does not name it (two products never share a card); a
    finding about the patient (pregnancy, LVEF) is one card whatever the products."""
    shown = _placeholders(finding.summary) | ({"product"} if product else set())
    said = tuple(sorted((k, v) for k, v in finding.args.items() if k in shown))
    return (finding.rule, finding.summary, said, tuple(_merge_key(n, product=product) for n in finding.notes))


@cache
def _placeholders(summary: str) -> frozenset[str]:
    """The arguments a summary's wording shows (parsed once per phrase)."""
    return frozenset(name for _, name, _, _ in Formatter().parse(PHRASES[summary][0]) if name)


def _orders_of(finding: Finding) -> list[str]:
    return [o for o in finding.args.get("order", "").split(", ") if o]


def _with_orders(finding: Finding, orders: Iterable[str]) -> Finding:
    listed = ", ".join(dict.fromkeys([*_orders_of(finding), *orders]))
    return dataclasses.replace(finding, args={**finding.args, "order": listed}) if listed else finding


def _patient_level(findings: list[Finding]) -> list[Finding]:
    merged: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        key = _merge_key(finding)
        first = merged.get(key)
        merged[key] = finding if first is None else _with_orders(first, _orders_of(finding))
    result = list(merged.values())
    lvef = sorted((f for f in result if f.rule in LVEF_RULES), key=lambda f: _SEVERITY[f.indicator])
    if len(lvef) > 1:
        orders = [o for f in lvef for o in _orders_of(f)]
        combined = _with_orders(_with_notes(lvef[0], lvef[1:]), orders)
        folded = {id(f) for f in lvef[1:]}
        result = [combined if f is lvef[0] else f for f in result if id(f) not in folded]
    return result


def _product(finding: Finding) -> str:
    return finding.args.get("product") or finding.args.get("drug", "")


def _per_order(findings: list[Finding]) -> list[Finding]:
    patient = [f for f in findings if f.rule in PATIENT_SAFETY and f.indicator != "info"]
    blocked_orders = {o for f in patient for o in _orders_of(f) if f.indicator == "critical"}
    by_order: dict[str, list[Finding]] = {}
    loose: list[Finding] = []
    for finding in findings:
        if finding.rule in PATIENT_SAFETY and finding.indicator != "info":  # in `patient`
            continue
        orders = _orders_of(finding)
        if len(orders) == 1 and finding.rule not in BETWEEN_ORDERS:
            by_order.setdefault(orders[0], []).append(finding)
        else:
            loose.append(finding)
    cards: list[Finding] = []
    products_noted: set[str] = set()
    for order, own in by_order.items():
        verdicts = [f for f in own if f.rule != PRODUCT_NOTE]
        should_not_give = order in blocked_orders or any(f.indicator != "info" for f in verdicts)
        notes = []
        for f in own:
            if f.rule != PRODUCT_NOTE:
                continue
            if should_not_give or _product(f) in products_noted:
                continue  # no product note on an order that should not be given, and one per product
            products_noted.add(_product(f))
            notes.append(f)
        group = sorted(verdicts, key=lambda f: (_SEVERITY[f.indicator], not f.summary.startswith("order.")))
        group += notes
        if group:
            cards.append(_with_orders(_with_notes(group[0], group[1:]), [order]))
    # Orders that come to the very same card (200 unreadable references, two orders of one product) are
    # one card listing them.
    return [*_patient_level(patient), *_merged_by_content(cards), *loose]


def _merged_by_content(cards: list[Finding]) -> list[Finding]:
    merged: dict[tuple[object, ...], Finding] = {}
    for card in cards:
        key = _merge_key(card, product=True)
        first = merged.get(key)
        merged[key] = card if first is None else _with_orders(first, _orders_of(card))
    return list(merged.values())


def consolidate(findings: list[Finding], *, orders: bool) -> list[Finding]:
    if orders:
        return _per_order(findings)
    return _patient_level(_status(findings))
