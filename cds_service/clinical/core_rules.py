"""Minimal rule set of the service core.

It reports what the record holds and what is missing; it never classifies HER2 status. The
clinical engine (consensus knowledge in cards/, HER2 classification, settings) replaces it."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from ..fhir import PatientData
from ..hooks.request import HookContext, OrderSignContext
from ..hooks.response import Action, Card, Coding, Link, OverrideReason, Source, Suggestion
from ..terminology import Terminology
from .record import (
    describe_value,
    effective_date,
    external_medication,
    first_display,
    is_usable,
    medication_concept,
    reference_of,
)

__all__ = ["Her2Result", "her2_results", "order_check", "patient_view"]

RULE_SYSTEM = "urn:her2-cds:rule"
CONSENSUS = "Li J et al. Chinese expert consensus on HER2-targeted breast cancer. Transl Breast Cancer Res 2025;6:21"
CONSENSUS_URL = "https://doi.org/10.21037/tbcr-25-34"
SERVICE = "HER2 CDS Hooks service (record summary)"
HER2_IHC_ORDER = Coding(
    system="http://loinc.org", code="85319-2", display="HER2 [Presence] in Breast cancer specimen by Immune stain"
)
CONSENSUS_LINK = Link(label="Consensus (doi:10.21037/tbcr-25-34)", url=CONSENSUS_URL, type="absolute")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Her2Result:
    reference: str
    test: str
    value: str
    date: str | None

    def line(self) -> str:
        return f"- {self.date or 'date not recorded'} · {self.test}: **{self.value}** · `{self.reference}`"


def _latest(results: Sequence[Her2Result], prefix: str) -> str:
    latest = results[0]
    value = latest.value if len(latest.value) <= 40 else latest.value[:39] + "…"
    more = f"; {len(results) - 1} earlier" if len(results) > 1 else ""
    return f"{prefix}: {value} ({latest.date or 'undated'}{more})"


def _source(label: str, rule_id: str, rule_title: str, *, consensus: bool) -> Source:
    return Source(
        label=label,
        url=CONSENSUS_URL if consensus else None,  # type: ignore[arg-type]
        topic=Coding(system=RULE_SYSTEM, code=rule_id, display=rule_title),
    )


def her2_results(data: PatientData, terminology: Terminology) -> tuple[list[Her2Result], list[str]]:
    """HER2 IHC/ISH/interpretation results, newest first, and the references of unreadable ones."""
    results, unreadable = [], []
    for raw in data.of("biomarkers"):
        concept = terminology.observation_concept(raw.get("code"))
        if not concept or not concept.startswith("her2") or not is_usable(raw):
            continue
        try:
            Observation.model_validate(raw)
        except ValidationError:
            unreadable.append(reference_of(raw))
            continue
        test = first_display(raw.get("code")) or concept
        results.append(Her2Result(reference_of(raw), test, describe_value(raw), effective_date(raw)))
    results.sort(key=lambda r: r.date or "", reverse=True)
    return results, unreadable


def _has_breast_cancer(data: PatientData, terminology: Terminology) -> bool:
    return any(
        terminology.condition_concept(c.get("code")) == "breast-cancer" and is_usable(c) for c in data.of("conditions")
    )


def _basis(results: Sequence[Her2Result], unreadable: Sequence[str], rule: str) -> str:
    lines = [r.line() for r in results] or ["- none found"]
    if unreadable:
        lines.append(f"- not readable as FHIR Observation (ignored): {', '.join(f'`{u}`' for u in unreadable)}")
    return "\n".join(["**HER2 results on file** (newest first):", *lines, "", f"**Rule** `{rule}`"])


def _truncation_card(data: PatientData) -> list[Card]:
    if not data.truncated:
        return []
    keys = ", ".join(sorted(data.truncated))
    return [
        Card(
            summary="Patient record only partly read: checks may miss results",
            detail=(
                f"The FHIR server returned more pages than the service reads for: {keys}. "
                "Results beyond the page cap were not considered.\n\n**Rule** `core-data-complete`"
            ),
            indicator="warning",
            source=_source(SERVICE, "core-data-complete", "Patient data read completely", consensus=False),
        )
    ]


def _order_her2_test(patient_id: str, label: str) -> Suggestion:
    return Suggestion(
        label=label,
        isRecommended=True,
        actions=[
            Action(
                type="create",
                description="Order HER2 immunohistochemistry on the tumour specimen",
                resource=ServiceRequest.model_validate(
                    {
                        "status": "draft",
                        "intent": "order",
                        "code": {"coding": [HER2_IHC_ORDER.model_dump(exclude_none=True)], "text": "HER2 IHC"},
                        "subject": {"reference": f"Patient/{patient_id}"},
                    }
                ).model_dump(mode="json", exclude_none=True, by_alias=True),
            )
        ],
    )


def patient_view(context: HookContext, data: PatientData, terminology: Terminology) -> list[Card]:
    results, unreadable = her2_results(data, terminology)
    if not results and not _has_breast_cancer(data, terminology):
        return _truncation_card(data)  # not a breast-cancer chart: no HER2 noise
    if not results:
        card = _her2_missing_card(
            context,
            summary="Breast cancer on record but no HER2 result found: HER2 testing is needed",
            why=(
                "The consensus asks for HER2 testing (IHC, with ISH for IHC 2+) of every primary invasive "
                "breast cancer in a quality-certified laboratory (consensus statements C1, C2; stated)."
            ),
            rule=("core-her2-missing", "HER2 result needed"),
            basis=_basis(results, unreadable, "core-her2-missing"),
            suggestion="Order HER2 IHC",
            overrides={
                "result-elsewhere": "HER2 result documented elsewhere",
                "test-pending": "HER2 test already ordered",
            },
        )
    else:
        card = Card(
            summary=_latest(results, "Latest HER2 result on file"),
            detail=_basis(results, unreadable, "core-her2-results")
            + "\n\nThis version lists the results as recorded; it does not classify HER2 status.",
            indicator="info",
            source=_source(SERVICE, "core-her2-results", "HER2 results on file", consensus=False),
        )
    return [card, *_truncation_card(data)]


def _fetched_medications(data: PatientData) -> dict[str, Mapping[str, Any]]:
    return {key: found[0] for key, found in data.resources.items() if key.startswith("Medication/") and found}


def _unidentified_order_card(order: Mapping[str, Any], reference: str, reason: str) -> Card:
    return Card(
        summary="Ordered medication could not be identified: HER2 checks not applied",
        detail=(
            f"Order `{reference_of(order)}` names its drug only as `{reference}`, which could not be read "
            f"({reason}). If it is an anti-HER2 drug, check HER2 status yourself.\n\n**Rule** `core-order-readable`"
        ),
        indicator="warning",
        source=_source(SERVICE, "core-order-readable", "Order readable", consensus=False),
    )


def order_check(context: HookContext, data: PatientData, terminology: Terminology) -> list[Card]:
    """order-select (the selected orders) and order-sign (all draft orders)."""
    assert isinstance(context, OrderSignContext)
    fetched = _fetched_medications(data)
    matched: list[tuple[Mapping[str, Any], str]] = []
    cards: list[Card] = []
    for order in context.orders_to_check():
        if order.get("resourceType") != "MedicationRequest":
            continue
        concept = medication_concept(order, context.draftOrders, fetched)
        reference = external_medication(order)
        if concept is None and reference:
            cards.append(
                _unidentified_order_card(order, reference, data.unavailable.get(reference, "not on the FHIR server"))
            )
        drug = terminology.drug(concept)
        if drug:
            matched.append((order, drug))
    if not matched:
        return [*cards, *_truncation_card(data)] if cards else []  # non-anti-HER2 orders get no noise
    results, unreadable = her2_results(data, terminology)
    cards.extend(_anti_her2_order_card(context, order, drug, results, unreadable) for order, drug in matched)
    return [*cards, *_truncation_card(data)]


def _anti_her2_order_card(
    context: HookContext,
    order: Mapping[str, Any],
    drug: str,
    results: Sequence[Her2Result],
    unreadable: Sequence[str],
) -> Card:
    name = drug.replace("-", " ").capitalize()
    try:
        MedicationRequest.model_validate(order)
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        return Card(
            summary=f"{name} order could not be checked: not a valid MedicationRequest",
            detail=f"`{reference_of(order)}` fails FHIR validation at `{field}`.\n\n**Rule** `core-order-readable`",
            indicator="warning",
            source=_source(SERVICE, "core-order-readable", "Order readable", consensus=False),
        )
    if results:
        return Card(
            summary=_latest(results, f"{name} order: latest HER2 result"),
            detail=f"Order `{reference_of(order)}`.\n\n" + _basis(results, unreadable, "core-order-her2-results"),
            indicator="info",
            source=_source(SERVICE, "core-order-her2-results", "HER2 results for an anti-HER2 order", consensus=False),
        )
    return _her2_missing_card(
        context,
        summary=f"{name} ordered but no HER2 result on file",
        why=(
            f"Order `{reference_of(order)}`. Anti-HER2 therapy rests on a HER2-positive result: IHC 3+, "
            "or IHC 2+ with ISH amplification (consensus statement C3; stated)."
        ),
        rule=("core-order-her2-missing", "HER2 result before anti-HER2 therapy"),
        basis=_basis(results, unreadable, "core-order-her2-missing"),
        suggestion="Order HER2 IHC before starting",
        overrides={
            "result-elsewhere": "HER2-positive result documented elsewhere",
            "trial-protocol": "Given under a clinical trial protocol",
        },
    )


def _her2_missing_card(
    context: HookContext,
    *,
    summary: str,
    why: str,
    rule: tuple[str, str],
    basis: str,
    suggestion: str,
    overrides: Mapping[str, str],
) -> Card:
    """A warning that a HER2 result is needed, with an IHC order to accept and reasons to override."""
    return Card(
        summary=summary,
        detail=f"{why}\n\n{basis}",
        indicator="warning",
        source=_source(CONSENSUS, *rule, consensus=True),
        suggestions=[_order_her2_test(context.patientId, suggestion)],
        selectionBehavior="at-most-one",
        overrideReasons=[OverrideReason(system=RULE_SYSTEM, code=c, display=d) for c, d in overrides.items()],
        links=[CONSENSUS_LINK],
    )
