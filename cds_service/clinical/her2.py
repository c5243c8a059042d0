"""HER2 status per ASCO/CAP 2018/2023 and the 2025 consensus (knowledge rows T1–T12).

Results are grouped by specimen (a shared Specimen reference, else results within a few days of
each other). The newest specimen decides; an earlier specimen with another status is reported
(T11), never silently dropped. Nothing is guessed: missing ISH for IHC 2+ stays "equivocal",
a negative result without an IHC score stays "negative" (low, ultralow and 0 cannot be told apart),
and results of one specimen that disagree give "conflicting"."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .readings import Evidence, Reading
from .record import day_of

__all__ = ["HER2_CONCEPTS", "Her2Status", "SpecimenStatus", "classify_her2", "disagree"]

HER2_CONCEPTS = frozenset({"her2-interpretation", "her2-ihc", "her2-ish", "her2-ish-ratio", "her2-ish-copy-number"})
IHC_VALUES = ("ihc-0", "ihc-null", "ihc-ultralow", "ihc-1", "ihc-2", "ihc-3")
# Categories that change what can be given: positive (anti-HER2), low/ultralow (T-DXd), zero (none).
_SCORED = frozenset({"low", "ultralow", "zero"})  # scores that decide T-DXd eligibility (L1, L2, L5)


def disagree(a: str, b: str) -> bool:
    """Two specimens' categories that lead to different treatment: positive against anything scored
    or negative, and HER2-low / ultralow / 0 (no staining) against each other. A plain IHC 0 may be
    ultralow or no staining, so only HER2-low contradicts it."""
    known = {"positive", "negative", "zero-unspecified", *_SCORED}
    if a not in known or b not in known or a == b:
        return False
    if "positive" in (a, b):
        return True
    if a in _SCORED and b in _SCORED:
        return True
    return {a, b} == {"low", "zero-unspecified"}


@dataclass(frozen=True)
class SpecimenStatus:
    # positive | low | ultralow | zero (no staining) | zero-unspecified (IHC 0, ultralow not stated) | negative |
    # equivocal | unknown | conflicting
    category: str
    rules: tuple[str, ...]  # knowledge rows that decided it (T1 ... T10)
    date: str | None
    evidence: tuple[Evidence, ...]
    ihc: str | None = None
    ish: str | None = None  # positive | negative | equivocal (after ISH group resolution)
    ish_group: int | None = None
    problems: tuple[str, ...] = ()  # phrase keys explaining what is missing or inconsistent


@dataclass(frozen=True)
class Her2Status:
    current: SpecimenStatus
    earlier: tuple[SpecimenStatus, ...] = ()
    not_understood: tuple[Evidence, ...] = ()  # HER2 results whose value the mappings do not know
    unreadable: tuple[Evidence, ...] = ()  # HER2 resources that are not valid FHIR
    serum: tuple[Evidence, ...] = ()  # serum / liquid HER2: never used for decisions (T12)

    # Both read from the frozen fields alone, and the rules ask for them dozens of times a call: computed once.
    @cached_property
    def category(self) -> str:
        """The current specimen's category, unless an earlier specimen contradicts it (T11): then the
        status is conflicting until the MDT decides, never silently the newest nor the most actionable."""
        return "conflicting" if self.discordant else self.current.category

    @cached_property
    def discordant(self) -> tuple[SpecimenStatus, ...]:
        """Earlier specimens whose category leads to other treatment than the current one (T11)."""
        return tuple(s for s in self.earlier if disagree(s.category, self.current.category))


@dataclass(frozen=True)
class Thresholds:
    ratio: float  # T3 ratio_min (2.0)
    copy_number: float  # T3 copy_number_min (4.0)
    copy_number_high: float  # T5 copy_number_min (6.0)
    window_days: int


def _specimens(readings: Sequence[Reading], window_days: int) -> list[list[Reading]]:
    """Newest first. A shared Specimen reference joins results; otherwise dates within the window do.

    Each group keeps its specimen references and its first result's day as it grows: a chart with many HER2
    results compared every result with every group's members, parsing both dates each time."""
    groups: list[tuple[list[Reading], set[str], date | None, bool]] = []  # members, specimens, day, undated
    for reading in readings:
        day = day_of(reading.date)
        for members, specimens, first_day, undated in groups:
            if reading.specimen and specimens:
                joined = reading.specimen in specimens
            elif day is not None and first_day is not None:
                joined = abs((day - first_day).days) <= window_days
            else:
                joined = reading.date is None and undated
            if joined:
                members.append(reading)
                if reading.specimen:
                    specimens.add(reading.specimen)
                break
        else:
            groups.append(([reading], {reading.specimen} if reading.specimen else set(), day, reading.date is None))
    return [members for members, *_ in groups]


def _ish_group(ratio: float, copies: float, t: Thresholds) -> int:
    if ratio >= t.ratio:
        return 1 if copies >= t.copy_number else 2
    if copies >= t.copy_number_high:
        return 3
    return 4 if copies >= t.copy_number else 5


def _resolve_group(group: int, ihc: str | None) -> tuple[str, str]:
    """ISH group → (ish result, rule), resolved with concurrent IHC as ASCO/CAP 2018 asks."""
    if group == 1:
        return "positive", "T3"
    if group == 5:
        return "negative", "T7"
    if ihc is None or ihc == "indeterminate":
        return "equivocal", {2: "T4", 3: "T5", 4: "T6"}[group]
    if group == 3:
        return ("positive" if ihc in ("ihc-2", "ihc-3") else "negative"), "T5"
    return ("positive" if ihc == "ihc-3" else "negative"), {2: "T4", 4: "T6"}[group]


def _classify_specimen(group: list[Reading], t: Thresholds) -> SpecimenStatus:
    ihc_values = {r.value for r in group if r.concept == "her2-ihc" and r.value in (*IHC_VALUES, "indeterminate")}
    ihc_presence = {r.value for r in group if r.concept == "her2-ihc" and r.value in ("positive", "negative")}
    interpretation = {r.value for r in group if r.concept == "her2-interpretation" and r.value}
    ish_reported = {r.value for r in group if r.concept == "her2-ish" and r.value}
    ratio = next((r.number for r in group if r.concept == "her2-ish-ratio" and r.number is not None), None)
    copies = next((r.number for r in group if r.concept == "her2-ish-copy-number" and r.number is not None), None)
    evidence = tuple(r.evidence for r in group)
    newest = max((r.date for r in group if r.date), default=None)
    problems: list[str] = []

    if len(ihc_values) > 1 or len(ish_reported) > 1 or len(interpretation) > 1:
        return SpecimenStatus("conflicting", ("T11",), newest, evidence, problems=("results-disagree",))
    ihc = next(iter(ihc_values), None)

    ish, group_number, group_rule = None, None, None
    if ratio is not None and copies is not None:
        group_number = _ish_group(ratio, copies, t)
        ish, group_rule = _resolve_group(group_number, ihc)
        reported = next(iter(ish_reported), None)
        if reported in ("positive", "negative") and reported != ish and ish != "equivocal":
            return SpecimenStatus(
                "conflicting", ("T11",), newest, evidence, ihc, ish, group_number, ("ish-numbers-disagree",)
            )
        if ish == "equivocal" and reported in ("positive", "negative"):
            ish = reported  # the laboratory resolved group 2-4 with its own IHC work-up
        elif ish == "equivocal":
            problems.append("ish-group-needs-ihc")
    elif ish_reported:
        ish = next(iter(ish_reported))
        if ish not in ("positive", "negative", "equivocal"):
            ish = None
        elif ish == "equivocal":
            problems.append("ish-numbers-missing")

    category, steps = _combine(ihc, ish, ihc_presence, interpretation)
    # The deciding row goes last (it becomes the card's topic); the others explain the path to it.
    if ihc == "ihc-3":
        decisive: str | None = "T1"
    elif category == "positive" and ish == "positive":
        decisive = group_rule or "T3"
    elif category == "equivocal" and "ish-group-needs-ihc" in problems:
        decisive = group_rule
    elif category == "negative" and group_rule == "T7":
        decisive = "T7"
    else:
        decisive = steps[-1] if steps else None
    rules = [r for r in (*steps[:-1], group_rule) if r and r != decisive]
    rules += [decisive] if decisive else []
    if category == "equivocal" and ihc == "ihc-2" and ish is None:
        problems.append("ish-missing")
    if category == "negative":
        problems.append("ihc-score-missing")
    if category == "zero-unspecified":
        problems.append("ultralow-not-stated")
    if category == "unknown" and ihc == "indeterminate":
        problems.append("ihc-indeterminate")

    # A reported interpretation that contradicts the scored results is a conflict, not a choice.
    summary = next(iter(interpretation), None)
    scored = category in ("positive", "low", "ultralow", "zero", "zero-unspecified")
    if summary in ("positive", "negative") and scored and (summary == "positive") != (category == "positive"):
        return SpecimenStatus(
            "conflicting", ("T11",), newest, evidence, ihc, ish, group_number, ("interpretation-disagrees",)
        )
    return SpecimenStatus(
        category, tuple(dict.fromkeys(rules)), newest, evidence, ihc, ish, group_number, tuple(problems)
    )


def _combine(
    ihc: str | None, ish: str | None, presence: set[str], interpretation: set[str]
) -> tuple[str, tuple[str, ...]]:
    if ihc == "ihc-3":
        return "positive", ("T1",)
    if ish == "positive":
        return "positive", ("T2",) if ihc == "ihc-2" else ()
    if ihc == "ihc-2":
        return ("low", ("T2", "T8")) if ish == "negative" else ("equivocal", ("T2",))
    if ihc == "ihc-1":
        return "low", ("T8",)
    if ihc == "ihc-ultralow":
        return "ultralow", ("T9",)
    if ihc == "ihc-null":
        return "zero", ("T10",)
    if ihc == "ihc-0":
        return "zero-unspecified", ("T10",)  # IHC 0 silent on faint staining: ultralow or no staining
    if ish == "negative":
        return "negative", ()
    summary = next(iter(presence | interpretation), None) if len(presence | interpretation) == 1 else None
    if summary == "positive":
        return "positive", ()
    if summary == "negative":
        return "negative", ()
    if summary == "equivocal" or ish == "equivocal":
        return "equivocal", ("T2",)
    if len(presence | interpretation) > 1:
        return "conflicting", ("T11",)
    return "unknown", ()


def classify_her2(readings: Sequence[Reading], thresholds: Thresholds) -> Her2Status:
    """`readings` newest first (HER2 and serum HER2 readings of one patient)."""
    serum = tuple(r.evidence for r in readings if r.concept == "her2-serum")
    tissue = [r for r in readings if r.concept in HER2_CONCEPTS]
    understood = [r for r in tissue if r.understood]
    not_understood = tuple(r.evidence for r in tissue if not r.understood)
    statuses = [_classify_specimen(g, thresholds) for g in _specimens(understood, thresholds.window_days)]
    if not statuses:
        problems = ("value-not-understood",) if not_understood else (("serum-only",) if serum else ("no-result",))
        current = SpecimenStatus(
            "unknown", ("T12",) if serum and not not_understood else (), None, (), problems=problems
        )
        return Her2Status(current, (), not_understood, (), serum)
    return Her2Status(statuses[0], tuple(statuses[1:]), not_understood, (), serum)
