"""order-select / order-sign: each anti-HER2 order checked against HER2 status, setting and line,
safety (LVEF, pregnancy, ILD, diarrhoea) and, for trastuzumab and pertuzumab, biosimilar notes."""

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..knowledge import Knowledge, Recommendation
from ..terminology import DrugMatch, Terminology
from .candidates import candidates
from .conditions import lines_of, missing_only
from .facts import PatientFacts
from .record import reference_of
from .rules import (
    Finding,
    checked_qualifiers,
    context_lines,
    her2_line,
    ild_findings,
    lvef_findings,
    pregnancy_findings,
    scope_finding,
)

__all__ = [
    "Ordered",
    "combination_findings",
    "duplicate_findings",
    "ingredients",
    "order_findings",
    "product_label",
    "safety_findings",
]

_NAMED_ORDERS = 5  # orders named on a duplicate card; the rest are counted
_BIOSIMILAR_DRUGS = {"trastuzumab", "pertuzumab", "trastuzumab-sc", "pertuzumab-trastuzumab-sc"}
_NOT_ESTABLISHED = {"equivocal", "unknown", "conflicting"}


def _drugs_of(match: DrugMatch, terminology: Terminology) -> set[str]:
    return {match.drug, *terminology.drugs[match.drug].components}


def ingredients(match: DrugMatch, terminology: Terminology) -> frozenset[str]:
    """What a regimen must contain for the order to be part of it: a fixed combination's ingredients
    (Phesgo: trastuzumab and pertuzumab), else the drug itself."""
    components = terminology.drugs[match.drug].components
    return frozenset(components) if components else frozenset({match.drug})


def _contains(entry: Recommendation, wanted: frozenset[str]) -> bool:
    return any(wanted <= set(regimen.drugs) for regimen in entry.regimens)


@dataclasses.dataclass(frozen=True)
class Ordered:
    """An anti-HER2 order, draft or active, as the duplicate check sees it: its own product and name."""

    reference: str
    drug: str
    product: str | None
    label: str  # the record's own name of the medication (brand and strength included)


def product_label(terminology: Terminology, shown: str, product_id: str | None) -> str:
    """The record's name of a medication, with its product's brand when the name does not say it, so two
    products of one ingredient are never shown under one name."""
    product = terminology.products.get(product_id or "")
    brand = product.brands[0] if product and product.brands else (product.nonproprietary if product else None)
    return f"{shown} ({brand})" if brand and brand.lower() not in shown.lower() else shown


def _ingredients_of(drug: str, terminology: Terminology) -> frozenset[str]:
    return frozenset(terminology.drugs[drug].components or (drug,))


def duplicate_findings(
    terminology: Terminology, drafts: list[Ordered], active: list[Ordered], checked: set[str]
) -> list[Finding]:
    """Orders that deliver the same anti-HER2 ingredient: IV + SC trastuzumab, originator + biosimilar,
    Phesgo + trastuzumab or pertuzumab, or a draft order of a drug an active MedicationRequest already
    gives. T-DM1 and T-DXd are drugs of their own (their antibody is not trastuzumab therapy).

    One card per group of orders, however many there are (never one per pair: 200 orders must not
    make 19,900 cards)."""
    by_ingredient: dict[str, tuple[list[Ordered], list[Ordered]]] = {}
    for order in drafts:
        for ingredient in _ingredients_of(order.drug, terminology):
            by_ingredient.setdefault(ingredient, ([], []))[0].append(order)
    for order in active:
        for ingredient in _ingredients_of(order.drug, terminology):
            by_ingredient.setdefault(ingredient, ([], []))[1].append(order)
    groups: dict[tuple[str, tuple[str, ...]], tuple[list[str], Ordered, list[Ordered]]] = {}
    for ingredient, (new, running) in sorted(by_ingredient.items()):
        if not any(o.reference in checked for o in new):
            continue
        drafted = {o.reference for o in new}
        running = [o for o in running if o.reference not in drafted]
        if len(new) >= 2:
            key, first, others = "order.duplicate", new[0], [*new[1:], *running]
        elif new and running:
            key, first, others = "order.duplicate_active", new[0], running
        else:
            continue
        involved = (key, tuple(o.reference for o in (first, *others)))
        if involved in groups:
            groups[involved][0].append(ingredient)  # Phesgo twice: trastuzumab and pertuzumab, one card
        else:
            groups[involved] = ([ingredient], first, others)
    found = []
    for (key, _), (ingredients_, first, others) in groups.items():
        shown = others[:_NAMED_ORDERS]
        more = f" (+{len(others) - len(shown)})" if len(others) > len(shown) else ""
        drafted_refs = [first.reference, *(o.reference for o in others if key == "order.duplicate" and o in drafts)]
        found.append(
            Finding(
                "order-duplicate",
                "warning",
                key,
                args={
                    "drugs": ", ".join(f"drug:{d}" for d in ingredients_),
                    "first": first.label,
                    "second": ", ".join(dict.fromkeys(o.label for o in shown)) + more,
                    "first_ref": first.reference,
                    "second_ref": ", ".join(o.reference for o in shown) + more,
                    "order": ", ".join(dict.fromkeys(drafted_refs)),
                },
                details=(f"{key}.why",),
                overrides=("duplicate-intended", "mdt-decision"),
            )
        )
    return found


def combination_findings(
    knowledge: Knowledge, terminology: Terminology, matches_: list[DrugMatch], orders: list[str]
) -> list[Finding]:
    """order-sign: anti-HER2 drugs ordered together that no consensus regimen combines (e.g. T-DXd + H)."""
    together = frozenset(d for m in matches_ for d in ingredients(m, terminology))
    if len({m.drug for m in matches_}) < 2 or len(together) < 2:
        return []
    if any(_contains(e, together) for e in knowledge.of_kind("recommendation")):
        return []
    names = ", ".join(f"drug:{d}" for d in sorted(together))
    return [
        Finding(
            "order-combination",
            "warning",
            "order.combination",
            args={"drugs": names, "order": ", ".join(orders)},
            details=("order.combination.why",),
            overrides=("trial-protocol", "mdt-decision", "patient-specific"),
        )
    ]


def _facts_for_order(facts: PatientFacts, drugs: set[str]) -> PatientFacts:
    """The ordered drug continuing the current regimen stays in its line; otherwise it opens the next."""
    regimens = facts.therapy.metastatic_regimens
    if not regimens:
        return facts
    last = regimens[-1]
    if any(e.current for e in last) and drugs & {d for e in last for d in e.contains}:
        therapy = dataclasses.replace(facts.therapy, metastatic_regimens=regimens[:-1])
        return dataclasses.replace(facts, therapy=therapy)
    return facts


def matching_rows(
    knowledge: Knowledge, facts: PatientFacts, rows: list[Recommendation], drugs: set[str]
) -> tuple[list[Recommendation], list[Recommendation]]:
    """The recommendation and caution rows an order matches, each in file order: of `rows` (those giving the
    ordered drug) the ones whose `when` holds, then the cautions naming one of `drugs` (L4, L5) that hold.
    The row index (candidates.py) leaves out the rows the patient's HER2, HR, setting and phase rule out, so
    only the others are checked, on their other conditions."""
    giving = {e.id for e in rows}
    admitted = candidates(knowledge, "recommendation", facts)
    fitting = [c.entry for c in admitted if c.entry.id in giving and c.rest(facts)]
    admitted = candidates(knowledge, "caution", facts)
    cautions = [c.entry for c in admitted if c.entry.id in giving and c.rest(facts)]
    cautions += [c.entry for c in admitted if c.entry.id not in giving and drugs & set(c.entry.drugs) and c.rest(facts)]
    return fitting, cautions


def _fit(
    knowledge: Knowledge, facts: PatientFacts, drugs: set[str], wanted: frozenset[str], args: dict[str, str]
) -> list[Finding]:
    """Where the ordered drug sits in the consensus for this patient: fits, another line, or nowhere."""
    order_facts = _facts_for_order(facts, drugs)
    rows = list(knowledge.giving(wanted))
    fitting, cautions = matching_rows(knowledge, order_facts, rows, drugs)
    line = order_facts.therapy.next_metastatic_line
    args = args | {"line": str(line) if line else "value.unknown"}
    basis = (her2_line(facts), *context_lines(order_facts))
    if cautions:
        entry = cautions[0]
        assert entry.when is not None
        used = lines_of(entry.when, order_facts)
        return [
            Finding(
                entry.id,
                "warning",
                "order.caution",
                args=args | {"her2": f"her2.{facts.her2.category}"},
                cites=(entry.id,),
                basis=(*used, *basis),
                overrides=("trial-protocol", "mdt-decision"),
            )
        ]
    if fitting:
        # A row whose checked limit the patient is outside (M2 past PHILA's ages) explains the order last,
        # and says so when it is the only one.
        checks = {e.id: checked_qualifiers(e, order_facts) for e in fitting}
        fitting.sort(key=lambda e: checks[e.id][2])
        ids = tuple(e.id for e in fitting)
        checked, read, outside = checks[ids[0]]
        assert fitting[0].when is not None
        used = lines_of(fitting[0].when, order_facts)  # the facts of the row that explains the order
        return [
            Finding(
                ids[0],
                # Outside every matching row's checked limits (T-DXd for residual disease that is not high
                # risk, pyrotinib past PHILA's ages): not "fits", a warning that says why.
                "warning" if outside else "info",
                "order.outside" if outside else "order.fits",
                args=args | {"ids": ", ".join(ids[:3]), "title": f"title:{ids[0]}"},
                details=("rec.outside_limit",) if outside else (),
                cites=ids[:3],
                basis=tuple(dict.fromkeys((*used, *read, *basis))),
                more=ids[3:],
                checked=checked,
            )
        ]
    her2 = facts.her2.category
    if her2 in _NOT_ESTABLISHED:
        suggestion = "order-ish" if her2 == "equivocal" else "order-ihc"
        return [
            Finding(
                "order-her2-unsettled",
                "warning",
                "order.her2_unsettled",
                args=args | {"her2": f"her2.{her2}"},
                details=("order.her2_unsettled.why",),
                basis=basis,
                cites=("T2",) if her2 == "equivocal" else ("T11",),
                suggestion=suggestion,
                overrides=("result-elsewhere", "trial-protocol"),
            )
        ]
    if her2 != "positive" and not any(e.id.startswith("L") for e in rows):
        return [
            Finding(
                "order-her2-mismatch",
                "warning",
                "order.her2_mismatch",
                args=args | {"her2": f"her2.{her2}"},
                details=("order.her2_mismatch.why",),
                basis=basis,
                cites=tuple(facts.her2.current.rules),
                overrides=("result-elsewhere", "trial-protocol", "mdt-decision"),
            )
        ]
    if facts.setting is None or (facts.setting == "metastatic" and line is None):
        key = "order.setting_unknown" if facts.setting is None else "order.line_unknown"
        return [
            Finding(
                "order-line-unknown",
                "info",
                key,
                args=args,
                basis=basis,
                details=tuple(f"note.{n}" for n in facts.therapy.notes),
            )
        ]
    # Rows for this setting only: an early-disease row never explains an order for a metastatic patient.
    rows = [e for e in rows if e.when is not None and (e.when.setting is None or facts.setting in e.when.setting)]
    if rows:
        # Rows written for this HER2 category explain the order best (the L rows for HER2-low T-DXd).
        same_her2 = [e for e in rows if e.when is not None and e.when.her2 and her2 in e.when.her2]
        rows = same_her2 or rows
        # Rows that would match if the facts the record lacks were known (cT, pCR ...): ask for those facts
        # rather than call the order wrong, and cite only those rows.
        possible = [(e, missing_only(e.when, order_facts)) for e in rows if e.when is not None]
        missing = list(dict.fromkeys(line.name for _, lines in possible if lines for line in lines))
        candidates = tuple(e.id for e, lines in possible if lines)
        if candidates:
            return [
                Finding(
                    "order-sequence",
                    "info",
                    "order.needs_facts",
                    args=args | {"ids": ", ".join(candidates[:6]), "facts": ", ".join(missing)},
                    cites=candidates[:3],
                    basis=basis,
                )
            ]
        ids = tuple(e.id for e in rows)
        mismatch = (
            "order.her2_not_eligible"
            if her2 != "positive"
            else ("order.not_here" if facts.setting == "metastatic" else "order.not_matched")
        )
        return [
            Finding(
                "order-sequence",
                "warning",
                mismatch,
                args=args | {"ids": ", ".join(ids[:6]), "her2": f"her2.{her2}"},
                details=("order.not_fitting.why",),
                cites=ids[:3],
                basis=basis,
                overrides=("trial-protocol", "mdt-decision", "patient-specific"),
            )
        ]
    return [
        Finding(
            "order-sequence",
            "warning",
            "order.no_row",
            args=args,
            details=("order.not_fitting.why",),
            basis=basis,
            overrides=("trial-protocol", "mdt-decision", "patient-specific"),
        )
    ]


# A critical safety finding that makes the drug contraindicated now, and how a fit card names it.
_CONTRAINDICATION = {
    "S7": "contra.pregnancy",
    "S6": "contra.ild",
    "S9": "contra.ild",
    "S2": "contra.lvef",
    "S4": "contra.lvef",
    "S5": "contra.lvef",
}


def _contraindicated(found: list[Finding]) -> list[Finding]:
    """A contraindication wins: no card says the order fits the consensus without saying, in the same
    card and first, that the drug is contraindicated now and why (it becomes critical like its cause).
    An LVEF below the start threshold (S1, a warning) is folded the same way at its own level, so the order
    card agrees with patient-view's "Not now" for the same regimen."""
    reasons = list(
        dict.fromkeys(
            _CONTRAINDICATION[f.rule] for f in found if f.indicator == "critical" and f.rule in _CONTRAINDICATION
        )
    )
    if reasons:
        summary, indicator = "order.fits_contraindicated", "critical"
    elif any(f.summary == "safety.lvef_low" for f in found):
        reasons, summary, indicator = ["contra.lvef_low"], "order.fits_not_advised", "warning"
    else:
        return found
    return [
        dataclasses.replace(
            f,
            indicator=indicator,
            summary=summary,
            args={**f.args, "why": reasons[0]},
            details=(*(f"{r}.detail" for r in reasons), *f.details),
        )
        if f.summary == "order.fits"
        else f
        for f in found
    ]


_REGION_GUIDANCE = {"US": ("BIO4",), "EU": ("BIO5",), "CN": ("BIO2", "BIO3")}


def _biosimilar(match: DrugMatch, terminology: Terminology, args: dict[str, str], jurisdiction: str) -> list[Finding]:
    """Which product, and the switching guidance of the jurisdiction the service is configured for."""
    if match.drug not in _BIOSIMILAR_DRUGS:
        return []
    product = terminology.products.get(match.product or "")
    guidance = _REGION_GUIDANCE.get(jurisdiction, ())
    forms = {"trastuzumab-sc": ("SC1",), "pertuzumab-trastuzumab-sc": ("SC2",)}.get(match.drug, ())
    key = "bio.product" if product else ("bio.sc_form" if forms else "bio.brand_missing")
    return [
        Finding(
            "BIO6", "info", key, args=args | {"product": match.product or ""}, cites=("BIO6", *forms, "BIO1", *guidance)
        )
    ]


def safety_findings(knowledge: Knowledge, facts: PatientFacts, drugs: set[str]) -> list[Finding]:
    """The patient-level checks every anti-HER2 order gets, whatever else could be read: pregnancy, ILD, LVEF."""
    return [
        *pregnancy_findings(knowledge, facts, drugs, ordering=True),
        *ild_findings(facts, drugs, ordering=True),
        *lvef_findings(knowledge, facts, drugs, ordering=True),
    ]


def _placed(
    knowledge: Knowledge, facts: PatientFacts, drugs: set[str], wanted: frozenset[str], args: dict[str, str]
) -> list[Finding]:
    """Where the order sits in the consensus, for invasive breast cancer only. Another primary or DCIS alone
    gets the scope card instead; a chart with no cancer diagnosis keeps its HER2 and sequence checks, but
    never hears that the order "fits" (the diagnosis is not on record)."""
    if not facts.breast_cancer and (facts.other_primary or facts.dcis):
        return [scope_finding(facts, order=True)]
    fit = _fit(knowledge, facts, drugs, wanted, args)
    if facts.breast_cancer:
        return fit
    return [scope_finding(facts, order=True) if f.summary == "order.fits" else f for f in fit]


def order_findings(
    knowledge: Knowledge,
    terminology: Terminology,
    facts: PatientFacts,
    order: Mapping[str, Any],
    match: DrugMatch,
    jurisdiction: str = "CN",
) -> list[Finding]:
    drugs = _drugs_of(match, terminology)
    args = {"drug": f"drug:{match.drug}", "order": reference_of(order)}
    if match.product:
        args["product"] = match.product
    found = [
        *safety_findings(knowledge, facts, drugs),
        *_placed(knowledge, facts, drugs, ingredients(match, terminology), args),
    ]
    found = _contraindicated(found)
    if drugs & set(knowledge.entries["S8"].drugs):
        found.append(Finding("S8", "info", "safety.diarrhoea", args=args, cites=("S8",)))
    found += _biosimilar(match, terminology, args, jurisdiction)
    return [dataclasses.replace(f, args=args | dict(f.args)) for f in found]
