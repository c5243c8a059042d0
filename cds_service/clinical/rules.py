"""Rules: knowledge base × PatientFacts → findings (pure, no I/O, no wording).

Findings carry phrase keys and the facts they used; render.py turns them into cards in the
reader's language. Recommendation rows are matched declaratively (their `when`); testing (T*) and
safety (S*) rows are applied here with the thresholds written in their entries."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..knowledge import Knowledge, Recommendation
from ..knowledge.models import Qualifier, When
from ..terminology import Terminology
from .candidates import candidates
from .conditions import FactLine, blocking, holds, lines_of, matches
from .facts import Lvef, PatientFacts
from .her2 import SpecimenStatus
from .record import day_of
from .staging import missing_for_setting
from .therapy import Exposure

__all__ = [
    "ENGINE_PARAMETERS",
    "Finding",
    "Ranked",
    "checked_qualifiers",
    "patient_view_findings",
    "rank",
    "scope_finding",
]

# Entries whose logic lives here, with the parameters it reads: start-up fails if the data lacks one.
ENGINE_PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "T1": (),
    "T2": (),
    "T3": ("ratio_min", "copy_number_min"),
    "T5": ("copy_number_min",),
    "T8": (),
    "T9": (),
    "T10": (),
    "T11": (),
    "T12": (),
    "S1": ("lvef_min", "lvef_interval_days"),
    "S2": ("drop_hold", "lln", "drop_below_lln"),
    "S3": ("drop_resume_max", "lln"),
    "S4": ("persist_days",),
    "S5": ("lvef_interrupt_low", "lvef_interrupt_high", "drop_low", "drop_high"),
    "S6": (),
    "S7": ("contraception_months",),
    "S8": (),
    "S9": (),
}
ENGINE_DEFINITIONS = (
    "trastuzumab_sensitive_months",
    "hr_positive_percent_min",
    "her2_specimen_window_days",
    "new_line_gap_days",
    "pregnancy_status_valid_days",
    "not_pregnant_status_valid_days",
)
MAX_RECOMMENDATION_CARDS = 3
_SETTLED = ("positive", "low", "ultralow", "zero", "zero-unspecified", "negative")
_LEVEL_RANK = {"I": 0, "I–II": 1, "II": 2, "II–III": 3, "III": 4, None: 5}
_PROVENANCE_RANK = {"stated": 0, "inferred": 1, "unknown": 2}
_SITUATION_RANK = {"brain": 0, "continue": 1, None: 2}


@dataclass(frozen=True)
class Finding:
    rule: str  # the card's topic: a knowledge id (T2, S1, N2 ...) or an engine rule id
    indicator: str  # info | warning | critical
    summary: str  # phrase key
    args: Mapping[str, str] = field(default_factory=dict)  # phrase arguments (phrase keys are translated)
    details: tuple[str, ...] = ()  # phrase keys of explanation paragraphs
    basis: tuple[FactLine, ...] = ()
    cites: tuple[str, ...] = ()  # knowledge ids whose text, level and provenance the card shows
    suggestion: str | None = None  # order-ish | order-ihc | order-echo
    overrides: tuple[str, ...] = ()
    more: tuple[str, ...] = ()  # further matching knowledge ids, listed inside the card
    basis_facts: tuple[FactLine, ...] = ()
    lead: bool = False  # the HER2 status card: shown first after any critical card
    notes: tuple["Finding", ...] = ()  # further findings shown inside this card (consolidate.py)
    # Qualifiers of the cited row that the record decides: (index in `qualifiers`, "met" | "not-met").
    checked: tuple[tuple[int, str], ...] = ()


def _profile_lines(facts: PatientFacts) -> tuple[FactLine, ...]:
    """Age and Ki-67 for the status card: the record's profile the clinician checks at a glance."""
    lines = [FactLine("fact.age", str(facts.age) if facts.age is not None else "value.unknown")]
    if facts.ki67:
        lines.append(FactLine("fact.ki67", facts.ki67.value, (facts.ki67,)))
    return tuple(lines)


def _stage_class(group: str) -> str:
    return "metastatic" if group == "IV" else "locally-advanced" if group.startswith("III") else "early"


def hr_value(facts: PatientFacts) -> str:
    """HR-positive / HR-negative, or what is known of each receptor ("ER negative, PR not recorded")."""
    if facts.hr:
        return f"hr.{facts.hr}"
    known = dict(facts.receptors)
    return ", ".join(f"{r}.{known.get(r, 'unknown')}" for r in ("estrogen-receptor", "progesterone-receptor"))


def her2_line(facts: PatientFacts) -> FactLine:
    return FactLine("fact.her2", f"her2.{facts.her2.category}", facts.her2.current.evidence)


def coded_diagnosis_lines(facts: PatientFacts) -> tuple[FactLine, ...]:
    """A diagnosis coded HER2-positive/-negative: shown, never used as a result."""
    return tuple(FactLine("fact.her2_diagnosis", f"her2.{status}", (e,)) for status, e in facts.her2_diagnosis)


def _specimen_line(status: SpecimenStatus) -> FactLine:
    return FactLine("fact.her2_earlier", f"her2.{status.category}", status.evidence)


def context_lines(facts: PatientFacts) -> tuple[FactLine, ...]:
    """The short patient summary every HER2 card repeats: diagnosis, HR status, setting, stage, line."""
    # The consensus is about breast cancer: a chart without the diagnosis says so rather than assume it.
    lines = [
        FactLine(
            "fact.diagnosis", "value.breast_cancer" if facts.breast_cancer else "value.unknown", facts.breast_cancer[:2]
        )
    ]
    lines.append(FactLine("fact.hr", hr_value(facts), facts.hr_basis))
    stage = facts.staging.stage
    lines.append(
        FactLine(
            "fact.setting",
            f"setting.{facts.setting}" if facts.setting else "value.unknown",
            facts.staging.setting_basis,
        )
    )
    if stage:
        lines.append(FactLine("fact.stage", stage.staging.value, (stage.evidence,)))
    for other in facts.staging.disagreeing:
        lines.append(FactLine("fact.stage_disagrees", other.staging.value, (other.evidence,)))
    if facts.setting == "metastatic" and facts.her2.category == "positive":
        line = facts.therapy.next_metastatic_line
        lines.append(FactLine("fact.line", str(line) if line else "value.unknown"))
    current = facts.therapy.current_anti_her2
    if current:
        lines.append(FactLine("fact.current", _drug_list(current), tuple(e.evidence for e in current)))
    return tuple(lines)


def _given_in_metastatic_lines(facts: PatientFacts) -> frozenset[str]:
    """Every drug given for metastatic disease so far, the running regimen included."""
    since = facts.staging.metastatic_since
    if not since or facts.therapy.metastatic_regimens is None:
        return frozenset()
    return frozenset(d for e in facts.therapy.exposures if e.start and e.start >= since for d in e.contains)


def _offers_nothing_new(entry: Recommendation, given: frozenset[str], terminology: Terminology) -> bool:
    """Every regimen of the row repeats, drug for drug, what was already given for metastatic disease.

    Rows about continuing what was given (their `when` names received drugs: M5, R2 ...) stay, and so
    does a regimen that keeps an anti-HER2 drug with new partners (HER2 blockade across lines, M16)."""
    if not given or entry.when is None or not entry.regimens:
        return False
    if entry.when.received_any or entry.when.received_metastatic_any or entry.when.on_any:
        return False
    return all(set(r.drugs) <= given and any(terminology.is_anti_her2(d) for d in r.drugs) for r in entry.regimens)


def _drug_list(exposures: Sequence[Exposure]) -> str:
    """Drug ids for the renderer, which names them in the reader's language (the record's own wording
    stays in the evidence)."""
    return ", ".join(dict.fromkeys(f"drug:{e.drug}" for e in exposures))


@dataclass(frozen=True)
class Ranked:
    """A matching recommendation row and why it sits where it does among the patient's options."""

    entry: Recommendation
    facts: PatientFacts = field(repr=False, compare=False)
    situation: str | None = None  # brain | continue: the patient's situation puts the row first
    checked: tuple[tuple[int, str], ...] = ()
    outside_limit: bool = False  # a checked qualifier without an alternative is not met (PHILA age)
    leads: bool = False  # its `leads_when` holds
    read: tuple[FactLine, ...] = ()  # the facts its checked qualifiers read
    # The lines already built for this patient's rows, by the condition that shows them (see lines_of).
    lines: dict[object, FactLine] = field(default_factory=dict, repr=False, compare=False)

    def used(self) -> tuple[FactLine, ...]:
        """The facts its card shows: the row's conditions, what makes it lead, what its checked qualifiers
        read. Built only for the rows that are shown (rank orders every matching row), once each."""
        assert self.entry.when is not None
        lines = self.lines
        why = lines_of(self.entry.leads_when, self.facts, lines) if self.leads and self.entry.leads_when else ()
        return tuple(dict.fromkeys((*lines_of(self.entry.when, self.facts, lines), *why, *self.read)))


# Which qualifiers of a row the record can decide (a handful of rows have one), found once per row: rank asks
# of every matching row on every call. By identity, the row kept beside its id (as conditions._COMPILED).
_CHECKABLE: dict[int, tuple[Recommendation, tuple[tuple[int, Qualifier, When], ...]]] = {}
_NONE_CHECKED: tuple[tuple[tuple[int, str], ...], tuple[FactLine, ...], bool] = ((), (), False)


def _checkable(entry: Recommendation) -> tuple[tuple[int, Qualifier, When], ...]:
    known = _CHECKABLE.get(id(entry))
    if known is not None and known[0] is entry:
        return known[1]
    checkable = tuple((i, q, q.checked_by) for i, q in enumerate(entry.qualifiers) if q.checked_by is not None)
    if len(_CHECKABLE) >= 4096:  # knowledge has a few hundred rows; ad hoc ones (tests) must not pile up
        _CHECKABLE.clear()
    _CHECKABLE[id(entry)] = (entry, checkable)
    return checkable


def checked_qualifiers(
    entry: Recommendation, facts: PatientFacts
) -> tuple[tuple[tuple[int, str], ...], tuple[FactLine, ...], bool]:
    """Qualifiers the record decides (age, ...): met or not, the facts read, and whether a hard limit fails.
    A qualifier whose fact is unknown stays "confirm"."""
    checkable = _checkable(entry)
    if not checkable:
        return _NONE_CHECKED
    checked: list[tuple[int, str]] = []
    lines: list[FactLine] = []
    outside = False
    for index, qualifier, checked_by in checkable:
        ok, used = matches(checked_by, facts)
        # Not met only when every fact that stops it is on record (an option of `any_of` left unknown
        # could still hold): otherwise it stays "confirm".
        if not ok and any(line.value == "value.unknown" for line in (*used, *blocking(checked_by, facts))):
            continue
        checked.append((index, "met" if ok else "not-met"))
        lines += used
        outside = outside or (not ok and qualifier.otherwise is None)
    return tuple(checked), tuple(dict.fromkeys(lines)), outside


def _running_drugs(facts: PatientFacts) -> frozenset[str]:
    return frozenset(d for e in facts.therapy.current_anti_her2 for d in e.contains)


def _continues_running(
    entry: Recommendation, facts: PatientFacts, terminology: Terminology, running: frozenset[str]
) -> bool:
    """The row is what the patient is receiving now: a maintenance row (its `on_any` holds) or, before or
    after surgery, a regimen whose anti-HER2 drugs (`running`: _running_drugs) are all running. It is shown
    as "continue", not as a regimen to start."""
    if not running or entry.when is None:
        return False
    if entry.when.on_any:
        return True
    if facts.setting == "metastatic":
        return False
    # Its anti-HER2 drugs are running and its partners were given (THP running is N3, not TCbHP's N2).
    for regimen in entry.regimens:
        anti = {d for d in regimen.drugs if terminology.is_anti_her2(d)}
        if anti and anti <= running and set(regimen.drugs) - anti <= facts.therapy.received:
            return True
    return False


def _brain_metastases_new(facts: PatientFacts) -> bool:
    """Brain metastases on record that are newer than the start of the last metastatic line (or undated,
    or with no metastatic line yet): local therapy and CNS-active options come first."""
    if not facts.brain_metastases:
        return False
    regimens = facts.therapy.metastatic_regimens or ()
    starts = [e.start for e in regimens[-1] if e.start] if regimens else []
    if not starts:
        return True
    return any(e.date is None or e.date > min(starts) for e in facts.brain_metastases)


def rank(knowledge: Knowledge, terminology: Terminology, facts: PatientFacts) -> list[Ranked]:
    """Matching rows in the order the patient's situation calls for: rows the situation puts first (new
    brain metastases: B1, B2; a running regimen or maintenance: continue it), then rows whose checked
    limits hold, unconditional before conditional (M4 "if pertuzumab unavailable"), the row's own
    selection criterion (N3: age >60), preferred, level, provenance, and the order of the table."""
    given = _given_in_metastatic_lines(facts) if facts.setting == "metastatic" else frozenset()
    brain_new = _brain_metastases_new(facts)
    running = _running_drugs(facts)
    lines: dict[object, FactLine] = {}  # the facts' lines the rows share (HER2, setting ...), built once
    found = []
    for position, entry, rest in candidates(knowledge, "recommendation", facts):
        assert entry.when is not None
        if not rest(facts) or (given and _offers_nothing_new(entry, given, terminology)):
            continue
        leads = entry.leads_when is not None and holds(entry.leads_when, facts)
        checked, read, outside = checked_qualifiers(entry, facts)
        situation = (
            "brain"
            if brain_new and entry.when.brain_metastases
            else "continue"
            if _continues_running(entry, facts, terminology, running)
            else None
        )
        key = (
            _SITUATION_RANK[situation],
            position if situation == "brain" else 0,  # local therapy (B1) before the CNS-active drugs (B2)
            outside,
            entry.conditional,
            not leads,
            not entry.preferred,
            _LEVEL_RANK[entry.level],
            _PROVENANCE_RANK[entry.level_provenance],
            position,
        )
        found.append((key, Ranked(entry, facts, situation, checked, outside, leads, read, lines)))
    found.sort(key=lambda item: item[0])
    return [ranked for _, ranked in found]


def _status_finding(facts: PatientFacts) -> Finding:
    her2 = facts.her2
    category = her2.category
    indicator = "info" if category in _SETTLED else "warning"
    # A settled category takes its deciding row as topic (T1, T3 ... T10); T2 and T11 belong to the gap cards.
    settled = category in _SETTLED
    decided = her2.current.rules[-1] if her2.current.rules and settled else "her2-status"
    return Finding(
        rule=decided,
        lead=True,
        indicator=indicator,
        summary="status.summary" if her2.current.date else "status.summary_undated",
        args={
            "her2": f"her2.{category}",
            "hr": hr_value(facts),
            "setting": f"setting.{facts.setting}" if facts.setting else "setting.unknown",
            "date": her2.current.date or "value.undated",
        },
        details=(
            *(("problem.specimens-disagree",) if her2.discordant else ()),
            *(f"problem.{p}" for p in her2.current.problems),
        ),
        basis=(
            her2_line(facts),
            *(
                (FactLine("fact.her2_latest", f"her2.{her2.current.category}", her2.current.evidence),)
                if her2.discordant
                else ()
            ),
            *(_specimen_line(s) for s in her2.earlier),
        ),
        basis_facts=(*context_lines(facts), *_profile_lines(facts)),
        cites=tuple(r for r in her2.current.rules if r.startswith("T")),
    )


def _after(later: str | None, earlier: str | None, days: int) -> bool:
    """`later` is more than `days` after `earlier` (both dates known)."""
    a, b = day_of(later), day_of(earlier)
    return bool(a and b and (a - b).days > days)


def _retest_findings(facts: PatientFacts, window_days: int) -> list[Finding]:
    """T11: retest HER2 on the new lesion. A metastasis recorded after the latest HER2 result, or residual
    disease after neoadjuvant therapy, is new tissue; the card names it. Results within the specimen window
    (her2_specimen_window_days) of the lesion belong to the same diagnostic work-up: a metastasis found a
    day after the HER2 result of a de-novo diagnosis needs no retest."""
    current = facts.her2.current
    if current.category == "unknown" or not current.date:
        return []
    found: list[Finding] = []
    lesions = [
        e
        for e in facts.staging.setting_basis
        if facts.setting == "metastatic" and _after(e.date, current.date, window_days)
    ]
    if lesions:
        lesion = max(lesions, key=lambda e: e.date or "")
        found.append(
            Finding(
                "T11",
                "warning",
                "gap.retest_lesion",
                args={"lesion": lesion.label, "since": lesion.date or "value.undated", "date": current.date},
                details=("gap.retest_metastasis.why",),
                basis=(her2_line(facts), FactLine("fact.new_lesion", lesion.label, tuple(lesions))),
                cites=("T11",),
                suggestion="order-ihc",
                overrides=("biopsy-not-feasible", "test-pending"),
            )
        )
    if facts.staging.early_phase == "after-neoadjuvant" and facts.staging.pcr is False:
        specimen = [e for e in facts.staging.pcr_basis if e.date]
        surgery = min((e.date for e in specimen if e.date), default=None)
        if surgery and (_after(surgery, current.date, window_days)):
            found.append(
                Finding(
                    "T11",
                    "warning",
                    "gap.retest_residual",
                    args={"date": surgery, "her2_date": current.date},
                    details=("gap.retest_residual.why",),
                    basis=(her2_line(facts), FactLine("fact.residual", "value.residual", tuple(specimen))),
                    cites=("T11",),
                    suggestion="order-ihc",
                    overrides=("test-pending", "result-elsewhere"),
                )
            )
    return found


def _testing_findings(facts: PatientFacts, window_days: int = 30) -> list[Finding]:
    her2, found = facts.her2, []
    current = her2.current
    if "no-result" in current.problems or "serum-only" in current.problems:
        found.append(
            Finding(
                "her2-missing",
                "warning",
                "gap.no_result",
                details=("gap.no_result.why", *(("gap.coded_diagnosis.why",) if facts.her2_diagnosis else ())),
                cites=("T1", "T2"),
                basis=(her2_line(facts), *coded_diagnosis_lines(facts)),
                suggestion="order-ihc",
                overrides=("result-elsewhere", "test-pending"),
            )
        )
    if her2.not_understood:
        found.append(
            Finding(
                "her2-not-understood",
                "warning",
                "gap.not_understood",
                args={"count": str(len(her2.not_understood))},
                details=("gap.not_understood.why",),
                basis=(FactLine("fact.not_understood", "value.see", her2.not_understood),),
            )
        )
    if her2.unreadable:
        found.append(
            Finding(
                "her2-unreadable",
                "warning",
                "gap.unreadable",
                args={"count": str(len(her2.unreadable))},
                details=("gap.unreadable.why",),
                basis=(FactLine("fact.unreadable", "value.see", her2.unreadable),),
            )
        )
    if "ish-group-needs-ihc" in current.problems:
        group_rule = current.rules[-1] if current.rules else "T4"
        found.append(
            Finding(
                group_rule,
                "warning",
                "gap.ihc_needed",
                args={"group": str(current.ish_group), "date": current.date or "value.undated"},
                details=("gap.ihc_needed.why",),
                basis=(her2_line(facts),),
                cites=(group_rule,),
                suggestion="order-ihc-same-specimen",  # ISH is done: what is missing is the IHC
                overrides=("test-pending", "result-elsewhere"),
            )
        )
    if "ish-missing" in current.problems:
        found.append(
            Finding(
                "T2",
                "warning",
                "gap.ish_missing",
                args={"date": current.date or "value.undated"},
                details=("gap.ish_missing.why",),
                basis=(her2_line(facts),),
                cites=("T2",),
                suggestion="order-ish",
                overrides=("test-pending", "result-elsewhere"),
            )
        )
    if current.category == "conflicting":
        found.append(
            Finding(
                "T11",
                "warning",
                "gap.conflicting",
                details=("gap.conflicting.why",),
                basis=(her2_line(facts),),
                cites=("T11",),
                suggestion="order-ihc",
                overrides=("mdt-reviewed",),
            )
        )
    for earlier in her2.discordant:
        found.append(
            Finding(
                "T11",
                "warning",
                "gap.discordant",
                args={
                    "before": f"her2.{earlier.category}",
                    "when": earlier.date or "value.undated",
                    "now": f"her2.{current.category}",
                    "date": current.date or "value.undated",
                },
                details=("gap.discordant.why",),
                basis=(her2_line(facts), _specimen_line(earlier)),
                cites=("T11",),
                overrides=("mdt-reviewed",),
            )
        )
        break  # one card: the most recent disagreement; the rest are in its basis
    found += _retest_findings(facts, window_days)
    stage = facts.staging.stage
    differing = [
        o
        for o in facts.staging.disagreeing
        if stage and _stage_class(o.staging.value) != _stage_class(stage.staging.value)
    ]
    if stage and differing:
        found.append(
            Finding(
                "stage-conflict",
                "warning",
                "gap.stage_conflict",
                args={"stage": stage.staging.value, "other": differing[0].staging.value},
                details=("gap.stage_conflict.why",),
                basis=(
                    FactLine("fact.stage", stage.staging.value, (stage.evidence,)),
                    *(FactLine("fact.stage_disagrees", o.staging.value, (o.evidence,)) for o in differing),
                    FactLine(
                        "fact.setting",
                        f"setting.{facts.setting}" if facts.setting else "value.unknown",
                        facts.staging.setting_basis,
                    ),
                ),
                overrides=("mdt-reviewed",),
            )
        )
    if current.category == "negative" and facts.setting in ("metastatic", None):
        indicator = "warning" if facts.setting == "metastatic" else "info"
        found.append(
            Finding(
                "T8",
                indicator,
                "gap.score_missing",
                details=("gap.score_missing.why",),
                basis=(her2_line(facts),),
                cites=("T8", "T9", "T10"),
                overrides=("result-elsewhere",),
            )
        )
    if "ultralow-not-stated" in current.problems and facts.setting == "metastatic" and facts.hr == "positive":
        found.append(
            Finding(
                "T9",
                "info",
                "gap.ultralow_unstated",
                details=("gap.ultralow_unstated.why",),
                basis=(her2_line(facts), FactLine("fact.hr", "hr.positive", facts.hr_basis)),
                cites=("T9", "L2"),
            )
        )
    if her2.serum:
        found.append(
            Finding(
                "T12",
                "info",
                "gap.serum",
                details=("gap.serum.why",),
                basis=(FactLine("fact.serum", "value.see", her2.serum),),
                cites=("T12",),
            )
        )
    return found


def _recommendation_findings(knowledge: Knowledge, terminology: Terminology, facts: PatientFacts) -> list[Finding]:
    found: list[Finding] = []
    her2 = facts.her2.category
    for candidate in candidates(knowledge, "caution", facts):
        entry = candidate.entry
        assert entry.when is not None
        if candidate.rest(facts):
            used = lines_of(entry.when, facts)
            indicator = "warning" if facts.therapy.current_anti_her2 else "info"
            found.append(Finding(entry.id, indicator, "rec.summary", basis=used, cites=(entry.id,)))
    everything = rank(knowledge, terminology, facts)
    # A row that restates part of another matching row (N1, A12) is shown inside that row's card.
    matched = {r.entry.id for r in everything}
    restating: list[Ranked] = []
    ranked: list[Ranked] = []
    for r in everything:
        (ranked if matched.isdisjoint(r.entry.within) else restating).append(r)
    shown = ranked[:MAX_RECOMMENDATION_CARDS]
    rest = tuple(r.entry.id for r in ranked[MAX_RECOMMENDATION_CARDS:])
    running = [e for e in facts.therapy.current_anti_her2] if facts.setting == "metastatic" else []
    line = facts.therapy.next_metastatic_line
    args = {"line": str(line) if line else "value.unknown", "current": _drug_list(running)}
    inside: dict[str, list[Finding]] = {}
    for row in restating:
        parent = next((r.entry.id for r in ranked if r.entry.id in row.entry.within), None)
        if parent:
            inside.setdefault(parent, []).append(
                Finding(row.entry.id, "info", "rec.summary", basis=row.used(), cites=(row.entry.id,))
            )
    for i, ranked_row in enumerate(shown):
        entry = ranked_row.entry
        notes = inside.get(entry.id, [])
        continuing = ranked_row.situation == "continue"
        details: tuple[str, ...] = ()
        if continuing:
            details = ("rec.running",)
        elif running:
            # On a running metastatic regimen the other options are for the next line, at progression.
            details = ("rec.next_line",)
        if ranked_row.situation == "brain":
            details = ("rec.brain_first", *details)
        if ranked_row.outside_limit:
            details = ("rec.outside_limit", *details)
        found.append(
            Finding(
                entry.id,
                "info",
                "rec.summary_running" if continuing else "rec.summary",
                args=args | {"current": _drug_list(facts.therapy.current_anti_her2)} if continuing else args,
                details=details,
                basis=tuple(dict.fromkeys([*ranked_row.used(), *(line for n in notes for line in n.basis)]))
                if notes
                else ranked_row.used(),  # rank's lines are distinct already
                cites=(entry.id, *(n.rule for n in notes)),
                more=rest if i == 0 else (),
                checked=ranked_row.checked,
                notes=tuple(notes),
            )
        )
    if her2 == "positive":
        placement = _placement_finding(knowledge, facts, everything)
        if placement:
            found.append(placement)
    if not ranked and her2 == "positive" and facts.setting == "metastatic" and line is None:
        found.append(
            Finding(
                "line-unknown",
                "info",
                "gap.line_unknown",
                details=tuple(f"note.{n}" for n in facts.therapy.notes) or ("gap.line_unknown.why",),
                basis=(her2_line(facts), *context_lines(facts)),
            )
        )
    return found


def _placement_finding(knowledge: Knowledge, facts: PatientFacts, ranked: list[Ranked]) -> Finding | None:
    """HER2-positive, not metastatic, and no treatment step matched: say exactly which staging fact is
    missing and what depends on it (neoadjuvant vs upfront surgery, the adjuvant regimen ...)."""
    if facts.setting == "metastatic":
        return None
    phase = facts.staging.early_phase
    if facts.setting is None:
        missing = missing_for_setting(facts.staging)
        # Nothing says surgery happened: the decision at hand is neoadjuvant therapy vs upfront surgery.
        why = f"gap.place.why.{phase or 'before-surgery'}"
    else:
        if any(r.entry.when is not None and r.entry.when.early_phase for r in ranked):
            return None
        # The rows of this phase, and the facts the record lacks that stopped them (cT, pN, pCR ...).
        rows = [
            e
            for e in knowledge.of_kind("recommendation")
            if e.when is not None and e.when.early_phase and (phase is None or phase in e.when.early_phase)
        ]
        names = [line.name for e in rows if e.when for line in blocking(e.when, facts) if line.value == "value.unknown"]
        missing = tuple(dict.fromkeys(n for n in names if n != "fact.setting"))
        if not missing:
            # Placed, and every fact known, yet no treatment step fits (pT1mi pN0): say so, for the MDT.
            stage = [line for line in context_lines(facts) if line.name in ("fact.setting", "fact.stage")]
            tnm = [
                FactLine(f"fact.{p}{k}", f"{p}{c.staging.value}", (c.evidence,))
                for p in ("c", "p")
                for k, c in (("T", facts.staging.t.get(p)), ("N", facts.staging.n.get(p)))
                if c
            ]
            return Finding(
                "plan-unmatched",
                "info",
                "gap.plan_unmatched",
                args={"phase": f"phase.{phase}" if phase else "value.unknown"},
                details=("gap.plan_unmatched.why",),
                basis=(her2_line(facts), *stage, *tnm),
                overrides=("mdt-reviewed",),
            )
        why = f"gap.place.why.{phase}" if phase else "gap.place.why.phase"
    summary = "gap.place.missing" if missing else "gap.place.none"
    return Finding(
        "setting-unknown",
        "warning",
        summary,
        args={"facts": ", ".join(missing), "why": why} if missing else {"why": why},
        details=("gap.setting_unknown.why",),
        basis=(her2_line(facts), *context_lines(facts)),
    )


# -- safety -------------------------------------------------------------------------------------


def _days_since(value: str | None, today: date) -> int | None:
    day = day_of(value)
    return (today - day).days if day else None


def lvef_findings(knowledge: Knowledge, facts: PatientFacts, drugs: set[str], *, ordering: bool) -> list[Finding]:
    """S1–S5 for the anti-HER2 drugs given or ordered. `ordering`: before a (new) order is signed."""
    p = knowledge.entries
    on_s1 = drugs & set(p["S1"].drugs)
    if not on_s1:
        return []
    latest = facts.lvef[0] if facts.lvef else None
    baseline = facts.lvef_baseline()
    lines = tuple(FactLine("fact.lvef", f"{v.percent:g} %", (v.evidence,)) for v in facts.lvef[:4])
    if facts.lv_dysfunction:  # heart failure / LV dysfunction on the problem list belongs beside the LVEF
        lines += (FactLine("fact.lv_dysfunction", "value.yes", facts.lv_dysfunction),)
    lvef_min = knowledge.parameter("S1", "lvef_min")
    interval = knowledge.parameter("S1", "lvef_interval_days")
    if latest is None:
        return [
            Finding(
                "S1",
                "warning",
                "safety.lvef_missing",
                cites=("S1",),
                basis=lines,
                suggestion="order-echo",
                overrides=("echo-elsewhere", "echo-booked"),
            )
        ]
    found: list[Finding] = []
    age = _days_since(latest.evidence.date, facts.today)
    starting = ordering and not (on_s1 & {d for e in facts.therapy.current_anti_her2 for d in e.contains | {e.drug}})
    if age is None or age > interval:
        found.append(
            Finding(
                "S1",
                "warning",
                # Before a first dose the old value is a baseline to repeat; on therapy it is a check that is due.
                "safety.lvef_baseline_old" if starting else "safety.lvef_overdue",
                args={"date": latest.evidence.date or "value.undated", "days": str(int(interval))},
                cites=("S1",),
                basis=lines,
                suggestion="order-echo",
                overrides=("echo-elsewhere", "echo-booked"),
            )
        )
    drop = baseline.percent - latest.percent if baseline and baseline is not latest else 0.0
    args = {"lvef": f"{latest.percent:g}", "drop": f"{drop:g}", "date": latest.evidence.date or "value.undated"}
    if "trastuzumab-deruxtecan" in drugs and _s5(knowledge, latest, drop):
        found.append(
            Finding(
                "S5",
                "critical" if ordering else "warning",  # an order at the label's interruption threshold
                "safety.tdxd_lvef",
                args=args,
                cites=("S5",),
                basis=lines,
                suggestion="order-echo",
                overrides=("cardiology-reviewed",),
            )
        )
    elif drugs & set(p["S2"].drugs) and _s2(knowledge, latest.percent, drop):
        persisting = _s4(knowledge, facts)
        rule = "S4" if persisting else "S2"
        found.append(
            Finding(
                rule,
                "critical" if persisting or ordering else "warning",  # an order at the label's hold threshold
                f"safety.{rule.lower()}",
                args=args,
                cites=(rule,),
                basis=lines,
                suggestion="order-echo",
                overrides=("cardiology-reviewed",),
            )
        )
    elif latest.percent < lvef_min:
        found.append(
            Finding(
                "S1",
                "warning",
                # Before a first dose it argues against starting; a patient already on the drug is reviewed.
                "safety.lvef_low" if starting else "safety.lvef_low_on_therapy",
                args=args | {"min": f"{lvef_min:g}"},
                cites=("S1",),
                basis=lines,
                suggestion="order-echo",
                overrides=("cardiology-reviewed",),
            )
        )
    elif drugs & set(p["S3"].drugs) and len(facts.lvef) > 1 and _recovered(knowledge, facts, drop):
        found.append(Finding("S3", "info", "safety.s3", args=args, cites=("S3",), basis=lines))
    return found


def _s2(knowledge: Knowledge, lvef: float, drop: float) -> bool:
    return drop >= knowledge.parameter("S2", "drop_hold") or (
        lvef < knowledge.parameter("S2", "lln") and drop >= knowledge.parameter("S2", "drop_below_lln")
    )


def _s4(knowledge: Knowledge, facts: PatientFacts) -> bool:
    """The latest readings, back to the last one that did not meet S2, all meet S2 and span `persist_days`:
    a decline that persisted, with no recovery in between."""
    baseline = facts.lvef_baseline()
    if not baseline:
        return False
    run = []
    for reading in facts.lvef:  # newest first
        if reading is baseline or not _s2(knowledge, reading.percent, baseline.percent - reading.percent):
            break
        run.append(reading)
    if len(run) < 2:
        return False
    first, last = day_of(run[-1].evidence.date), day_of(run[0].evidence.date)
    if first is None or last is None:
        return False
    return (last - first).days >= knowledge.parameter("S4", "persist_days")


def _recovered(knowledge: Knowledge, facts: PatientFacts, drop: float) -> bool:
    previous, latest = facts.lvef[1], facts.lvef[0]
    baseline = facts.lvef_baseline()
    if not baseline or previous is baseline:
        return False
    was_low = _s2(knowledge, previous.percent, baseline.percent - previous.percent)
    return (
        was_low
        and latest.percent >= knowledge.parameter("S3", "lln")
        and drop <= knowledge.parameter("S3", "drop_resume_max")
    )


def _s5(knowledge: Knowledge, latest: Lvef, drop: float) -> bool:
    low, high = knowledge.parameter("S5", "lvef_interrupt_low"), knowledge.parameter("S5", "lvef_interrupt_high")
    return (
        latest.percent < low
        or drop > knowledge.parameter("S5", "drop_high")
        or (low <= latest.percent <= high and drop >= knowledge.parameter("S5", "drop_low"))
    )


def pregnancy_findings(knowledge: Knowledge, facts: PatientFacts, drugs: set[str], *, ordering: bool) -> list[Finding]:
    s7 = drugs & set(knowledge.entries["S7"].drugs)
    if not s7:
        return []
    basis = (
        FactLine(
            "fact.pregnancy",
            f"pregnancy.{facts.pregnancy}" if facts.pregnancy else "value.unknown",
            facts.pregnancy_basis,
        ),
    )
    months = f"{knowledge.parameter('S7', 'contraception_months'):g}"
    if facts.pregnancy == "pregnant":
        return [
            Finding(
                "S7",
                "critical",
                "safety.pregnant",
                args={"months": months},
                cites=("S7",),
                basis=basis,
                overrides=("pregnancy-excluded", "benefit-outweighs-risk"),
            )
        ]
    childbearing = facts.female is not False and (facts.age is None or facts.age < 55)
    given = {d for e in facts.therapy.current_anti_her2 for d in e.contains | {e.drug}}
    starting = bool(s7 - given)  # verification belongs before a first dose, not to every continuing order
    if ordering and starting and facts.pregnancy is None and childbearing:
        return [Finding("S7", "info", "safety.pregnancy_unknown", args={"months": months}, cites=("S7",), basis=basis)]
    return []


def ild_findings(facts: PatientFacts, drugs: set[str], *, ordering: bool) -> list[Finding]:
    if "trastuzumab-deruxtecan" not in drugs:
        return []
    basis = (FactLine("fact.ild", "value.yes" if facts.ild else "value.none_recorded", facts.ild),)
    if facts.ild and "trastuzumab-deruxtecan" not in facts.therapy.received:
        # ILD/pneumonitis history before a first T-DXd dose: pre-treatment work-up (S9), not S6's grading.
        return [
            Finding(
                "S9",
                "critical",
                "safety.ild_before_first",
                cites=("S9",),
                basis=basis,
                details=("safety.ild_before_first.why",),
                overrides=("pulmonary-reviewed", "benefit-outweighs-risk"),
            )
        ]
    if facts.ild:
        return [
            Finding(
                "S6",
                "critical",
                "safety.ild_history",
                cites=("S6",),
                basis=basis,
                overrides=("ild-resolved-grade1", "benefit-outweighs-risk"),
            )
        ]
    return [Finding("S6", "info", "safety.ild_monitoring", cites=("S6",), basis=basis)] if ordering else []


def scope_finding(facts: PatientFacts, *, order: bool) -> Finding:
    """The chart has no invasive breast cancer: another primary, DCIS alone, or no cancer diagnosis at all.
    This service's recommendations are for invasive breast cancer; it says so instead of recommending."""
    if facts.other_primary:
        kind, indicator, evidence = "other_primary", "info", facts.other_primary
    elif facts.dcis:
        kind, indicator, evidence = "dcis", "warning" if order else "info", facts.dcis
    else:
        kind, indicator, evidence = "no_diagnosis", "info", ()
    return Finding(
        "scope-diagnosis",
        indicator,
        f"scope.{'order_' if order else ''}{kind}",
        args={"primary": evidence[0].label if evidence else "value.unknown"},
        details=(f"scope.{kind}.why",),
        basis=(
            her2_line(facts),
            FactLine(f"scope.fact.{kind}", "value.yes" if evidence else "value.none_recorded", evidence[:3]),
        ),
    )


def _contraindications(
    knowledge: Knowledge,
    terminology: Terminology,
    facts: PatientFacts,
    entry_id: str,
    lvef_to_start: Callable[[frozenset[str]], list[Finding]],
) -> tuple[str, ...]:
    """Why a recommended regimen cannot start now (pregnancy, ILD before T-DXd, LVEF): phrase keys."""
    drugs = frozenset(d for r in knowledge.entries[entry_id].regimens for d in r.drugs if terminology.is_anti_her2(d))
    reasons = []
    if facts.pregnancy == "pregnant" and drugs & set(knowledge.entries["S7"].drugs):
        reasons.append("rec.contra.pregnancy")
    if facts.ild and "trastuzumab-deruxtecan" in drugs:
        reasons.append("rec.contra.ild")
    if any(f.indicator == "critical" or f.summary == "safety.lvef_low" for f in lvef_to_start(drugs)):
        reasons.append("rec.contra.lvef")
    return tuple(reasons)


def patient_view_findings(knowledge: Knowledge, terminology: Terminology, facts: PatientFacts) -> list[Finding]:
    if not facts.relevant:
        return []
    if not facts.breast_cancer and (facts.other_primary or facts.dcis):
        # Not a breast-cancer chart (or DCIS alone): one card saying so; only a critical safety finding
        # about a drug the patient is receiving still shows (labels apply whatever the diagnosis).
        current = {d for e in facts.therapy.current_anti_her2 for d in e.contains | {e.drug}}
        critical = [
            f
            for f in (
                *pregnancy_findings(knowledge, facts, current, ordering=False),
                *ild_findings(facts, current, ordering=False),
                *lvef_findings(knowledge, facts, current, ordering=False),
            )
            if f.indicator == "critical"
        ]
        return [scope_finding(facts, order=False), *critical]

    # The LVEF checks before a first dose, per set of drugs: the options' regimens mostly share theirs.
    started: dict[frozenset[str], list[Finding]] = {}

    def lvef_to_start(drugs: frozenset[str]) -> list[Finding]:
        found = started.get(drugs)
        if found is None:
            found = started[drugs] = lvef_findings(knowledge, facts, set(drugs), ordering=True)
        return found

    # Treatment options need invasive breast cancer; a regimen that cannot start now says so first.
    recommendations = [
        dataclasses.replace(f, indicator="warning", details=(*why, *f.details))
        if f.summary in ("rec.summary", "rec.summary_running")
        and (why := _contraindications(knowledge, terminology, facts, f.cites[0], lvef_to_start))
        else f
        for f in (_recommendation_findings(knowledge, terminology, facts) if facts.breast_cancer else [])
    ]
    found = [
        _status_finding(facts),
        *_testing_findings(facts, int(knowledge.definition("her2_specimen_window_days"))),
        *recommendations,
        *(() if facts.breast_cancer else (scope_finding(facts, order=False),)),
    ]
    current = {d for e in facts.therapy.current_anti_her2 for d in e.contains | {e.drug}}
    safety = [
        *pregnancy_findings(knowledge, facts, current, ordering=False),
        *ild_findings(facts, current, ordering=False),
        *lvef_findings(knowledge, facts, current, ordering=False),
    ]
    # The anti-HER2 drugs the recommendation cards propose: a contraindication on record must show
    # next to them (pregnancy, ILD before T-DXd, LVEF below the start threshold), not only once ordered.
    proposed = {
        d
        for f in found
        if f.summary in ("rec.summary", "rec.summary_running")
        for r in knowledge.entries[f.cites[0]].regimens
        for d in r.drugs
        if terminology.is_anti_her2(d)
    } - current
    if proposed:
        safety += pregnancy_findings(knowledge, facts, proposed, ordering=False)
        safety += ild_findings(facts, proposed, ordering=False)
        safety += [f for f in lvef_to_start(frozenset(proposed)) if f.summary == "safety.lvef_low"]
    seen: set[tuple[str, str]] = set()
    for finding in safety:
        if (finding.rule, finding.summary) not in seen:
            seen.add((finding.rule, finding.summary))
            found.append(finding)
    return found
