"""PatientFacts → plain labelled lines for the preview page: each fact, its value, and the resources and dates
it rests on, in the reader's language (the same phrases as the cards)."""

from dataclasses import dataclass

from ..clinical.conditions import FactLine
from ..clinical.engine import Engine
from ..clinical.facts import PatientFacts
from ..clinical.render import Renderer
from ..clinical.rules import coded_diagnosis_lines, context_lines, her2_line

__all__ = ["FactRow", "SourceRow", "fact_rows"]


@dataclass(frozen=True)
class SourceRow:
    reference: str  # e.g. Observation/ihc-1
    date: str  # YYYY-MM-DD, or "undated" in the reader's language
    label: str  # the test or drug as the record names it
    value: str  # the result or status as recorded


@dataclass(frozen=True)
class FactRow:
    label: str
    value: str
    sources: tuple[SourceRow, ...]


def _yes_no(evidence: tuple[object, ...]) -> str:
    return "value.yes" if evidence else "value.no"


def _lines(facts: PatientFacts) -> list[FactLine]:
    """What the engine derived, in the order a clinician reads a chart: profile, HER2, disease, therapy, safety."""
    context = context_lines(facts)  # diagnosis, HR, setting, stage (and disagreeing), line, current therapy
    first, rest = context[:1], context[1:]
    lines = [FactLine("fact.age", str(facts.age) if facts.age is not None else "value.unknown"), *first]
    lines.append(her2_line(facts))
    lines += [FactLine("fact.her2_earlier", f"her2.{s.category}", s.evidence) for s in facts.her2.earlier]
    lines += coded_diagnosis_lines(facts)
    if facts.her2.not_understood:
        lines.append(FactLine("fact.not_understood", str(len(facts.her2.not_understood)), facts.her2.not_understood))
    if facts.ki67:
        lines.append(FactLine("fact.ki67", facts.ki67.value, (facts.ki67,)))
    lines += [line for line in rest if line.name not in ("fact.line", "fact.current")]
    staging = facts.staging
    if staging.early_phase:
        lines.append(FactLine("fact.phase", f"phase.{staging.early_phase}", staging.setting_basis))
    if staging.metastatic_since:
        lines.append(FactLine("fact.metastatic_since", staging.metastatic_since))
    therapy = facts.therapy
    if facts.setting == "metastatic":
        line = therapy.next_metastatic_line
        basis = tuple(e.evidence for regimen in therapy.metastatic_regimens or () for e in regimen)
        lines.append(FactLine("fact.line", str(line) if line else "value.unknown", basis))
        for name, count in (
            ("fact.chemo_lines", therapy.metastatic_chemo_lines),
            ("fact.endocrine_lines", therapy.metastatic_endocrine_lines),
        ):
            lines.append(FactLine(name, str(count) if count is not None else "value.unknown"))
    if therapy.trastuzumab:
        lines.append(FactLine("fact.trastuzumab", f"h.{therapy.trastuzumab}", therapy.trastuzumab_basis))
    lines += [line for line in rest if line.name == "fact.current"]
    if therapy.exposures:
        drugs = ", ".join(dict.fromkeys(f"drug:{e.drug}" for e in therapy.exposures))
        lines.append(FactLine("fact.received", drugs, tuple(e.evidence for e in therapy.exposures)))
    lines += [FactLine("fact.lvef", f"{v.percent:g} %", (v.evidence,)) for v in facts.lvef] or [
        FactLine("fact.lvef", "value.unknown")
    ]
    lines.append(
        FactLine(
            "fact.pregnancy",
            f"pregnancy.{facts.pregnancy}" if facts.pregnancy else "value.unknown",
            facts.pregnancy_basis,
        )
    )
    lines.append(FactLine("fact.brain", _yes_no(facts.brain_metastases), facts.brain_metastases))
    lines.append(FactLine("fact.ild", _yes_no(facts.ild), facts.ild))
    lines.append(FactLine("fact.lv_dysfunction", _yes_no(facts.lv_dysfunction), facts.lv_dysfunction))
    if facts.unreadable:
        lines.append(FactLine("fact.unreadable", str(len(facts.unreadable)), facts.unreadable))
    return lines


def fact_rows(engine: Engine, facts: PatientFacts, language: str) -> list[FactRow]:
    renderer = Renderer(engine.knowledge, engine.terminology, language, facts.patient_id, engine.jurisdiction)
    undated = renderer.say("label.undated")
    return [
        FactRow(
            renderer.say(line.name),
            renderer.value(line.value),
            tuple(SourceRow(e.reference, e.date or undated, e.label, e.value) for e in line.evidence),
        )
        for line in _lines(facts)
    ]
