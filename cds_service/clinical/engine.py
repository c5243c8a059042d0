"""The clinical engine: PatientData → facts → findings → cards, for each hook.

Knowledge and terminology are loaded once (load_engine); evaluation is pure and fast."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from pydantic import ValidationError

from ..fhir import PatientData
from ..hooks.request import HookContext, OrderSignContext
from ..hooks.response import Card
from ..knowledge import Knowledge, load_knowledge
from ..terminology import DrugMatch, Terminology, load_terminology, text
from .facts import PatientFacts, build_facts
from .orders import combination_findings, order_findings
from .phrases import PHRASES
from .record import as_map, draft_resources, external_medication, medication_concept, reference_of
from .render import Renderer
from .rules import ENGINE_DEFINITIONS, ENGINE_PARAMETERS, Finding, patient_view_findings

__all__ = ["Engine", "load_engine"]

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Engine:
    terminology: Terminology
    knowledge: Knowledge

    def facts(self, context: HookContext, data: PatientData, today: date) -> PatientFacts:
        return build_facts(data, self.terminology, self.knowledge, context.patientId, today)

    def patient_view(self, context: HookContext, data: PatientData, language: str, today: date) -> list[Card]:
        facts = self.facts(context, data, today)
        findings = patient_view_findings(self.knowledge, self.terminology, facts)
        return self._cards(findings, facts, data, language)

    def order_check(self, context: HookContext, data: PatientData, language: str, today: date) -> list[Card]:
        """order-select (the selected orders) and order-sign (every draft order)."""
        assert isinstance(context, OrderSignContext)
        fetched = {k: v[0] for k, v in data.resources.items() if k.startswith("Medication/") and v}
        known = {**fetched, **draft_resources(context.draftOrders)}  # draft orders first, as before; one index
        findings: list[Finding] = []
        facts: PatientFacts | None = None
        anti_her2: list[tuple[DrugMatch, str]] = []
        for order in context.orders_to_check():
            if order.get("resourceType") != "MedicationRequest":
                continue
            subject = text(as_map(order.get("subject")).get("reference"))
            if subject and subject != f"Patient/{context.patientId}":
                findings.append(_other_patient(order, subject))
                continue
            concept = medication_concept(order, None, known)
            reference = external_medication(order)
            if concept is None and reference:
                reason = data.unavailable.get(reference, "not on the FHIR server")
                findings.append(_unidentified(order, reference, reason))
                continue
            match = self.terminology.match_drug(concept)
            if match is None or not self.terminology.is_anti_her2(match.drug):
                continue  # non-anti-HER2 orders get no noise
            problem = _invalid(order)
            if problem:
                findings.append(problem)
                continue
            facts = facts or self.facts(context, data, today)
            findings += order_findings(self.knowledge, self.terminology, facts, order, match)
            anti_her2.append((match, reference_of(order)))
        if len(anti_her2) > 1:
            matched, orders = [m for m, _ in anti_her2], [r for _, r in anti_her2]
            findings += combination_findings(self.knowledge, self.terminology, matched, orders)
        if not findings:
            return []
        return self._cards(findings, facts or self.facts(context, data, today), data, language)

    def _cards(self, findings: list[Finding], facts: PatientFacts, data: PatientData, language: str) -> list[Card]:
        partial = sorted(k for k in data.unavailable if not k.startswith("Medication/"))
        if findings and partial:
            reasons = "; ".join(f"{k}: {data.unavailable[k]}" for k in partial)
            findings.append(
                Finding(
                    "data-complete",
                    "warning",
                    "data.partial",
                    args={"keys": ", ".join(partial), "reasons": reasons},
                    details=("data.partial.why",),
                )
            )
        if findings and data.truncated:
            findings.append(
                Finding(
                    "data-complete",
                    "warning",
                    "data.truncated",
                    args={"keys": ", ".join(sorted(data.truncated))},
                    details=("data.truncated.why",),
                )
            )
        renderer = Renderer(self.knowledge, self.terminology, language, facts.patient_id)
        findings = _merged(findings)
        ranked = sorted(findings, key=lambda f: (f.indicator != "critical", not f.lead, _SEVERITY[f.indicator]))
        return [renderer.card(f) for f in ranked]


def _merged(findings: list[Finding]) -> list[Finding]:
    """One card per finding about the patient, however many orders raised it (order-sign checks every
    draft order: a pregnancy must show once, listing the orders, not once per order)."""
    merged: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        shown = {name for _, name, _, _ in Formatter().parse(PHRASES[finding.summary][0]) if name}
        key = (finding.rule, finding.summary, tuple(sorted((k, v) for k, v in finding.args.items() if k in shown)))
        first = merged.get(key)
        if first is None:
            merged[key] = finding
        elif "order" in finding.args and finding.args["order"] not in first.args.get("order", "").split(", "):
            orders = ", ".join(filter(None, [first.args.get("order"), finding.args["order"]]))
            merged[key] = dataclasses.replace(first, args={**first.args, "order": orders})
    return list(merged.values())


def _other_patient(order: Mapping[str, Any], subject: str) -> Finding:
    return Finding(
        "order-readable",
        "warning",
        "order.other_patient",
        details=("order.other_patient.why",),
        args={"order": reference_of(order), "subject": subject},
    )


def _unidentified(order: Mapping[str, Any], reference: str, reason: str) -> Finding:
    return Finding(
        "order-readable",
        "warning",
        "order.unidentified",
        details=("order.unidentified.why",),
        args={"order": reference_of(order), "reference": reference, "reason": reason},
    )


def _invalid(order: Mapping[str, Any]) -> Finding | None:
    try:
        MedicationRequest.model_validate(order)
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        return Finding(
            "order-readable",
            "warning",
            "order.invalid",
            args={"order": reference_of(order), "field": field},
            details=("order.invalid.why",),
        )
    return None


def load_engine(mappings_dir: Path, cards_dir: Path, concept_maps: tuple[Path, ...] = ()) -> Engine:
    """Load and cross-check every data file; a bad one raises DataFileError naming file and field."""
    terminology = load_terminology(mappings_dir, concept_maps)
    knowledge = load_knowledge(cards_dir, terminology.drugs, ENGINE_PARAMETERS, ENGINE_DEFINITIONS)
    return Engine(terminology, knowledge)
