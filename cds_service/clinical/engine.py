"""The clinical engine: PatientData → facts → findings → cards, for each hook.

Knowledge and terminology are loaded once (load_engine); evaluation is pure and fast."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..fhir import PatientData
from ..hooks.request import HookContext, OrderSignContext
from ..hooks.response import Card
from ..knowledge import Knowledge, load_knowledge
from ..knowledge.version import KnowledgeVersion, knowledge_version
from ..terminology import DrugMatch, Terminology, codings, load_terminology, text
from .candidates import prepare as prepare_candidates
from .consolidate import consolidate
from .facts import PatientFacts, build_facts, group_own
from .identity import belongs_to, screen, shape_findings
from .orders import (
    Ordered,
    combination_findings,
    duplicate_findings,
    order_findings,
    product_label,
    safety_findings,
)
from .phrases import LANGUAGES
from .record import (
    ORDER_TYPES,
    as_map,
    describe_medication,
    draft_resources,
    external_medication,
    medication_concept,
    medication_ingredients,
    reference_of,
)
from .render import Renderer, prepare_wording
from .rules import ENGINE_DEFINITIONS, ENGINE_PARAMETERS, Finding, patient_view_findings

__all__ = ["Engine", "load_engine"]

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}
MAX_CARDS = 40  # one answer; a record that would need more is read by a person, not by cards


@dataclass(frozen=True)
class Engine:
    terminology: Terminology
    knowledge: Knowledge
    jurisdiction: str = "CN"  # CN | US | EU: the biosimilar guidance and approvals cards speak of
    version: KnowledgeVersion = KnowledgeVersion("unversioned", date.min)  # of the data files loaded

    def facts(self, context: HookContext, data: PatientData, today: date) -> PatientFacts:
        return build_facts(data, self.terminology, self.knowledge, context.patientId, today)

    def patient_view(self, context: HookContext, data: PatientData, language: str, today: date) -> list[Card]:
        record = _Record(self, context.patientId, data, today)
        facts = record.facts()
        data, notices = record.screened()
        findings = patient_view_findings(self.knowledge, self.terminology, facts)
        return self._cards(findings, facts, data, language, notices, orders=False)

    def order_check(self, context: HookContext, data: PatientData, language: str, today: date) -> list[Card]:
        """order-select (the selected orders) and order-sign (every draft order)."""
        assert isinstance(context, OrderSignContext)
        # The record is read only for an order that needs its facts (an anti-HER2 drug) or a card to send:
        # an order of anything else costs the identity screen at most.
        record = _Record(self, context.patientId, data, today)
        fetched = _fetched_medications(data, context.patientId)
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
            facts = record.facts()
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
        data, notices = record.screened()
        if not findings and not notices:
            return []
        return self._cards(findings, record.facts(), data, language, notices, orders=True)

    def _identify(self, concept: Mapping[str, Any], ingredients: list[Mapping[str, Any]]) -> DrugMatch | None:
        """The anti-HER2 drug an order gives: by its medication's code or name, else (a code this service
        does not know) by an ingredient of the referenced Medication."""
        match = self.terminology.match_drug(concept)
        if match is not None and self.terminology.is_anti_her2(match.drug):
            return match
        for item in ingredients:
            found = self.terminology.match_drug(item)
            if found is not None and self.terminology.is_anti_her2(found.drug):
                return DrugMatch(found.drug, None, f"ingredient {found.evidence}")
        return None

    def _draft_anti_her2(self, context: OrderSignContext, known: Mapping[str, Mapping[str, Any]]) -> list[Ordered]:
        """Every anti-HER2 draft order of the call (order-select: the unselected ones too), for duplicates."""
        found = []
        for order in context.draft_resources():
            if order.get("resourceType") not in ORDER_TYPES or belongs_to(order, context.patientId) == "other":
                continue
            concept = medication_concept(order, None, known)  # one index of drafts and fetched Medications
            ingredients = medication_ingredients(order, None, known)
            match = self._identify(concept, ingredients) if concept is not None else None
            if concept is not None and match is not None:
                shown = text(concept.get("text")) or describe_medication(order, match.drug)
                label = product_label(self.terminology, shown, match.product)
                found.append(Ordered(reference_of(order), match.drug, match.product, label))
        return found

    def _cards(
        self,
        findings: list[Finding],
        facts: PatientFacts,
        data: PatientData,
        language: str,
        notices: list[Finding] | None = None,
        *,
        orders: bool,
    ) -> list[Card]:
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
        if findings and facts.medications_unread:
            unread = facts.medications_unread
            findings.append(
                Finding(
                    "data-complete",
                    "warning",
                    "data.medications_unread",
                    args={
                        "count": str(len(unread)),
                        "records": ", ".join(f"{e.reference} ({e.label})" for e in unread[:5])
                        + (" …" if len(unread) > 5 else ""),
                    },
                    details=("data.medications_unread.why",),
                )
            )
        # Resources left out as another patient's, or keys holding the wrong content: always said.
        findings = [*findings, *(notices or [])]
        renderer = Renderer(
            self.knowledge, self.terminology, language, facts.patient_id, self.jurisdiction, self.version.label
        )
        findings = consolidate(findings, orders=orders)
        ranked = sorted(findings, key=lambda f: (f.indicator != "critical", not f.lead, _SEVERITY[f.indicator]))
        if len(ranked) > MAX_CARDS:  # bounded answers; the most severe first, and the cut is said
            cut = len(ranked) - MAX_CARDS + 1
            ranked = [
                *ranked[: MAX_CARDS - 1],
                Finding("data-complete", "warning", "data.cards_cut", args={"count": str(cut)}),
            ]
        return [renderer.card(f) for f in ranked]


class _Record:
    """The patient's record as one call reads it: screened and turned into facts once each, and only when asked.
    The usual record, all the patient's, is checked for identity while it is grouped (facts.group_own, one pass);
    one with another patient's or an unconfirmed resource is screened first and grouped after."""

    def __init__(self, engine: Engine, patient_id: str, data: PatientData, today: date) -> None:
        self._engine, self._patient_id, self._data, self._today = engine, patient_id, data, today
        self._screened: tuple[PatientData, list[Finding]] | None = None
        self._facts: PatientFacts | None = None

    def screened(self) -> tuple[PatientData, list[Finding]]:
        """The record without other patients' resources, and the cards that say what was left out (identity.screen)."""
        if self._screened is None:
            self._screened = screen(self._data, self._patient_id)
        return self._screened

    def facts(self) -> PatientFacts:
        if self._facts is None:
            engine, data, patient_id = self._engine, self._data, self._patient_id
            grouped = None
            if self._screened is None:
                grouped = group_own(data, patient_id, engine.terminology.observation_codes)
            if grouped is None:
                data = self.screened()[0]
            else:
                self._screened = (data, shape_findings(data.misplaced))  # what screen says of a record it keeps whole
            self._facts = build_facts(data, engine.terminology, engine.knowledge, patient_id, self._today, grouped)
        return self._facts


def _fetched_medications(data: PatientData, patient_id: str) -> dict[str, Mapping[str, Any]]:
    """The Medications read for the call (`Medication/<id>` keys) as the screened record holds them: each key's
    first resource that screening keeps (the patient's or nobody's), without screening the rest of the record."""
    found: dict[str, Mapping[str, Any]] = {}
    for key, resources in data.resources.items():
        if key.startswith("Medication/"):
            kept = next((r for r in resources if belongs_to(r, patient_id) in ("own", "none")), None)
            if kept is not None:
                found[key] = kept
    return found


def _active_orders(terminology: Terminology, facts: PatientFacts) -> list[Ordered]:
    """Active MedicationRequests of the record: a new order of the same ingredient duplicates them."""
    return [
        Ordered(e.evidence.reference, e.drug, e.product, product_label(terminology, e.evidence.label, e.product))
        for e in facts.therapy.exposures
        if e.evidence.reference.startswith(("MedicationRequest/", "MedicationOrder/")) and e.evidence.value == "active"
    ]


def _other_patient(order: Mapping[str, Any]) -> Finding:
    holder = order.get("subject") if "subject" in order else order.get("patient")
    subject = text(as_map(holder).get("reference")) or "?"
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


def _names_something(concept: Mapping[str, Any]) -> bool:
    """A medication concept with a code or a text to go by ({}, "coding": "x", blank text name nothing)."""
    said = [text(concept.get("text")), *(f"{code}{display}" for _, code, display in codings(concept))]
    return any(any(ch.isalnum() for ch in value) for value in said if value)


def _unreadable(order: Mapping[str, Any]) -> Finding:
    """No medication could be read at all: say so, rather than pass the order as "not anti-HER2"."""
    field = next((f for f in ("medicationCodeableConcept", "medicationReference") if f in order), "medication[x]")
    return Finding(
        "order-readable",
        "warning",
        "order.medication_unreadable",
        args={"order": reference_of(order), "field": field},
        details=("order.medication_unreadable.why",),
    )


_CODE = re.compile(r"^[^\s]+(\s[^\s]+)*$")  # FHIR `code`


def _invalid(order: Mapping[str, Any]) -> Finding | None:
    """Only what the checks read is validated: status and intent (codes), subject/patient (a Reference).
    Anything else (a `category` object as the CDS Hooks Sandbox sends it, odd dosage) is tolerated."""
    problems = [
        f for f in ("status", "intent") if f in order and not (isinstance(order[f], str) and _CODE.match(order[f]))
    ]
    problems += [f for f in ("subject", "patient") if f in order and not isinstance(order[f], Mapping)]
    if not problems:
        return None
    return Finding(
        "order-readable",
        "warning",
        "order.invalid_partly",
        args={"order": reference_of(order), "field": ", ".join(problems)},
        details=("order.invalid_partly.why",),
    )


def _read_notes(order: Mapping[str, Any], concept: Mapping[str, Any], match: DrugMatch) -> list[Finding]:
    """What the service could not read of an anti-HER2 order it still checked (only the fields the rules
    read are required: medication[x] and subject/patient; anything else odd is tolerated)."""
    notes = []
    args = {"order": reference_of(order), "drug": f"drug:{match.drug}"}
    if order.get("resourceType") == "MedicationOrder":
        notes.append(Finding("order-readable", "info", "order.dstu2", args=args, details=("order.dstu2.why",)))
    unknown = [f"{system or '?'}|{code}" for system, code, _ in codings(concept) if code]
    if unknown and match.evidence.startswith(("name ", "ingredient ")):
        notes.append(
            Finding(
                "order-readable",
                "warning",
                "order.code_unknown",
                args=args
                | {
                    "codes": ", ".join(unknown[:3]),
                    "name": match.evidence.removeprefix("name ").removeprefix("ingredient "),
                },
                details=("order.code_unknown.why",),
            )
        )
    return notes


def load_engine(
    mappings_dir: Path, cards_dir: Path, concept_maps: tuple[Path, ...] = (), *, jurisdiction: str = "CN"
) -> Engine:
    """Load and cross-check every data file; a bad one raises DataFileError naming file and field."""
    terminology = load_terminology(mappings_dir, concept_maps)
    knowledge = load_knowledge(cards_dir, terminology.drugs, ENGINE_PARAMETERS, ENGINE_DEFINITIONS)
    files = [*cards_dir.glob("*.yaml"), *mappings_dir.glob("*.yaml"), *mappings_dir.glob("*.conceptmap.json")]
    version = knowledge_version([*files, *concept_maps], (e.reviewed for e in knowledge.entries.values()))
    prepare_candidates(knowledge)  # the row index, built before the first call needs it
    for language in LANGUAGES:  # what the cards say of each row, worded before the first call
        prepare_wording(knowledge, terminology, language)
    return Engine(terminology, knowledge, jurisdiction, version)
