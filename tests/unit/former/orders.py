"""Frozen copy of the former Engine.order_check of cds_service/clinical/engine.py (the record screened first,
then grouped on the first anti-HER2 order): the oracle for the lazy one-pass reading
(tests/unit/test_order_record.py)."""

from datetime import date

from cds_service.clinical.engine import (
    Engine,
    _active_orders,
    _invalid,
    _names_something,
    _other_patient,
    _read_notes,
    _unidentified,
    _unreadable,
)
from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.identity import belongs_to, screen
from cds_service.clinical.orders import combination_findings, duplicate_findings, order_findings, safety_findings
from cds_service.clinical.record import (
    ORDER_TYPES,
    draft_resources,
    external_medication,
    medication_concept,
    medication_ingredients,
    reference_of,
)
from cds_service.clinical.rules import Finding
from cds_service.fhir import PatientData
from cds_service.hooks.request import HookContext, OrderSignContext
from cds_service.hooks.response import Card
from cds_service.terminology import DrugMatch


def order_check(self: Engine, context: HookContext, data: PatientData, language: str, today: date) -> list[Card]:
    """order-select (the selected orders) and order-sign (every draft order)."""
    assert isinstance(context, OrderSignContext)
    data, notices = screen(data, context.patientId)
    fetched = {k: v[0] for k, v in data.resources.items() if k.startswith("Medication/") and v}
    known = {**fetched, **draft_resources(context.draftOrders)}  # draft orders first, as before; one index
    findings: list[Finding] = []
    facts: PatientFacts | None = None
    anti_her2: list[tuple[DrugMatch, str]] = []
    for order in context.orders_to_check():
        if order.get("resourceType") not in ORDER_TYPES:
            continue
        if belongs_to(order, context.patientId) == "other":
            findings.append(_other_patient(order))
            continue
        concept = medication_concept(order, None, known)
        reference = external_medication(order)
        if concept is None and reference:
            reason = data.unavailable.get(reference, "not on the FHIR server")
            findings.append(_unidentified(order, reference, reason))
            continue
        if concept is None or not _names_something(concept):
            findings.append(_unreadable(order))
            continue
        match = self._identify(concept, medication_ingredients(order, None, known))
        if match is None:
            continue  # non-anti-HER2 orders get no noise
        facts = facts or self.facts(context, data, today)
        invalid = _invalid(order)
        if invalid:
            # A field the checks rely on is malformed: the patient-level safety checks still run.
            drugs = {match.drug, *self.terminology.drugs[match.drug].components}
            findings += [invalid, *safety_findings(self.knowledge, facts, drugs)]
            continue
        findings += order_findings(self.knowledge, self.terminology, facts, order, match, self.jurisdiction)
        findings += _read_notes(order, concept, match)
        anti_her2.append((match, reference_of(order)))
    if len(anti_her2) > 1:
        matched, orders = [m for m, _ in anti_her2], [r for _, r in anti_her2]
        findings += combination_findings(self.knowledge, self.terminology, matched, orders)
    if anti_her2:
        assert facts is not None
        checked = {r for _, r in anti_her2}
        drafts = self._draft_anti_her2(context, known)
        findings += duplicate_findings(self.terminology, drafts, _active_orders(self.terminology, facts), checked)
    if not findings and not notices:
        return []
    return self._cards(findings, facts or self.facts(context, data, today), data, language, notices, orders=True)
