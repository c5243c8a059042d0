"""Knowledge `when` conditions × PatientFacts: does a recommendation apply, and on which facts.

Pure functions. A fact the record does not hold never satisfies a condition (unknown ≠ match). Each `when` is
compiled once into its conditions (a check and the fact line it shows): the rules ask every row on every call."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import NamedTuple

from ..knowledge import When
from .facts import PatientFacts
from .readings import Evidence
from .therapy import Exposure

__all__ = ["FactLine", "blocking", "holds", "lines_of", "matches", "missing_only", "predicate"]


class FactLine(NamedTuple):
    """One patient fact as shown on a card: what (phrase key), its value (phrase key or text), from where.

    A NamedTuple, not a frozen dataclass: the rules build dozens per call and the cards look each up by value
    (dict.fromkeys, the renderer's wording per line); a tuple's hash and equality run in C, a frozen
    dataclass's in Python. Read by field name only."""

    name: str
    value: str
    evidence: tuple[Evidence, ...] = ()


def _her2(f: PatientFacts) -> FactLine:
    return FactLine("fact.her2", f"her2.{f.her2.category}", f.her2.current.evidence)


def _hr(f: PatientFacts) -> FactLine:
    return FactLine("fact.hr", f"hr.{f.hr}" if f.hr else "value.unknown", f.hr_basis)


def _setting(f: PatientFacts) -> FactLine:
    return FactLine("fact.setting", f"setting.{f.setting}" if f.setting else "value.unknown", f.staging.setting_basis)


def _category(f: PatientFacts, kind: str, prefix: str) -> FactLine:
    table = f.staging.t if kind == "T" else f.staging.n
    found = table.get(prefix)
    name = f"fact.{prefix}{kind}"
    return (
        FactLine(name, f"{prefix}{found.staging.value}", (found.evidence,))
        if found
        else FactLine(name, "value.unknown")
    )


def _line(f: PatientFacts) -> FactLine:
    line = f.therapy.next_metastatic_line
    regimens = f.therapy.metastatic_regimens or ()
    evidence = tuple(e.evidence for regimen in regimens for e in regimen)
    return FactLine("fact.line", str(line) if line else "value.unknown", evidence)


def _bool(value: bool | None) -> str:
    return "value.unknown" if value is None else ("value.yes" if value else "value.no")


@dataclass(frozen=True)
class _Condition:
    """One field of a `when`, compiled: whether it holds, and the fact line a card shows for it."""

    holds: Callable[[PatientFacts], bool]
    shown: Callable[[PatientFacts], FactLine]


@dataclass(frozen=True)
class _Compiled:
    conditions: tuple[_Condition, ...]  # all must hold, in the order the card lists their facts
    any_of: tuple["_Compiled", ...]  # and one of these, when given


# The fact a condition reads, by its path in PatientFacts ("staging", "setting"): attrgetter reads it in C, and
# each row is checked on every call.
def _in(wanted: Iterable[str], *path: str) -> Callable[[PatientFacts], bool]:
    chosen, read = frozenset(wanted), attrgetter(".".join(path))
    return lambda f: read(f) in chosen


def _between(low: int, high: int, *path: str) -> Callable[[PatientFacts], bool]:
    read = attrgetter(".".join(path))

    def holds(f: PatientFacts) -> bool:
        n = read(f)
        return n is not None and low <= n <= high

    return holds


def _category_in(kind: str, prefix: str, wanted: Iterable[str]) -> _Condition:
    chosen = frozenset(wanted)

    def holds(f: PatientFacts) -> bool:
        found = (f.staging.t if kind == "T" else f.staging.n).get(prefix)
        return bool(found and found.staging.value in chosen)

    return _Condition(holds, lambda f: _category(f, kind, prefix))


def _n_positive_is(prefix: str, wanted: bool) -> _Condition:
    return _Condition(lambda f: _n_positive(f, prefix) == wanted, lambda f: _category(f, "N", prefix))


def _phase_line(f: PatientFacts) -> FactLine:
    phase = f.staging.early_phase
    return FactLine("fact.phase", f"phase.{phase}" if phase else "value.unknown", f.staging.setting_basis)


def _trastuzumab_line(f: PatientFacts) -> FactLine:
    value = f.therapy.trastuzumab
    return FactLine("fact.trastuzumab", f"h.{value}" if value else "value.unknown", f.therapy.trastuzumab_basis)


def _age_line(f: PatientFacts) -> FactLine:
    return FactLine("fact.age", "value.unknown" if f.age is None else str(f.age))


def _stage_line(f: PatientFacts) -> FactLine:
    stage = f.staging.stage
    return (
        FactLine("fact.stage", stage.staging.value, (stage.evidence,))
        if stage
        else FactLine("fact.stage", "value.unknown")
    )


def _received(drugs: Iterable[str]) -> _Condition:
    wanted = frozenset(drugs)

    def shown(f: PatientFacts) -> FactLine:
        given = sorted(wanted & f.therapy.received)
        evidence = tuple(e.evidence for e in f.therapy.exposures if e.contains & wanted)
        return FactLine("fact.received", _drugs(given), evidence)

    return _Condition(lambda f: bool(wanted & f.therapy.received), shown)


def _exposed(key: str, wanted: frozenset[str], of: Callable[[PatientFacts], list[Exposure]]) -> _Condition:
    """Holds when `of` finds exposures; its fact line names the wanted drugs among them."""

    def shown(f: PatientFacts) -> FactLine:
        exposures = of(f)
        names = sorted({d for e in exposures for d in e.contains & wanted})
        return FactLine(key, _drugs(names), tuple(e.evidence for e in exposures))

    return _Condition(lambda f: bool(of(f)), shown)


def _received_metastatic(drugs: Iterable[str]) -> _Condition:
    wanted = frozenset(drugs)

    def given(f: PatientFacts) -> list[Exposure]:
        since = f.staging.metastatic_since
        return [e for e in f.therapy.exposures if since and e.start and e.start >= since and e.contains & wanted]

    return _exposed("fact.received_metastatic", wanted, given)


def _on(drugs: Iterable[str]) -> _Condition:
    wanted = frozenset(drugs)
    return _exposed("fact.on", wanted, lambda f: [e for e in f.therapy.exposures if e.current and e.contains & wanted])


def _stage_group(groups: Iterable[str]) -> _Condition:
    wanted = frozenset(groups)

    def holds(f: PatientFacts) -> bool:
        stage = f.staging.stage
        # Only when neither cT nor cN is on record: recorded categories say more than the group does.
        no_ctn = "c" not in f.staging.t and "c" not in f.staging.n
        return bool(stage and no_ctn and stage.staging.value in wanted)

    return _Condition(holds, _stage_line)


def _clinical_n_at_least(least: int) -> _Condition:
    def holds(f: PatientFacts) -> bool:
        found = f.staging.n.get("c")
        number = found.staging.value[1:2] if found else ""
        return number.isdigit() and int(number) >= least

    return _Condition(holds, lambda f: _category(f, "N", "c"))


def _conditions(w: When) -> Iterator[_Condition]:
    """The fields `w` sets, each as a condition, in the order cards list their facts."""
    if w.her2 is not None:
        yield _Condition(_in(w.her2, "her2", "category"), _her2)
    if w.hr is not None:
        yield _Condition(_in(w.hr, "hr"), _hr)
    if w.setting is not None:
        yield _Condition(_in(w.setting, "staging", "setting"), _setting)
    if w.early_phase is not None:
        yield _Condition(_in(w.early_phase, "staging", "early_phase"), _phase_line)
    if w.pcr is not None:
        pcr = w.pcr
        yield _Condition(
            lambda f: f.staging.pcr is not None and f.staging.pcr == pcr,
            lambda f: FactLine("fact.pcr", _bool(f.staging.pcr), f.staging.pcr_basis),
        )
    if w.clinical_t is not None:
        yield _category_in("T", "c", w.clinical_t)
    if w.clinical_n_positive is not None:
        yield _n_positive_is("c", w.clinical_n_positive)
    if w.clinical_n_at_least is not None:
        yield _clinical_n_at_least(w.clinical_n_at_least)
    if w.pathologic_t is not None:
        yield _category_in("T", "p", w.pathologic_t)
    if w.pathologic_n_positive is not None:
        yield _n_positive_is("p", w.pathologic_n_positive)
    if w.post_neoadjuvant_n_positive is not None:
        yield _n_positive_is("yp", w.post_neoadjuvant_n_positive)
    if w.metastatic_line_min is not None or w.metastatic_line_max is not None:
        low, high = w.metastatic_line_min or 1, w.metastatic_line_max or 99
        yield _Condition(_between(low, high, "therapy", "next_metastatic_line"), _line)
    if w.trastuzumab is not None:
        yield _Condition(_in(w.trastuzumab, "therapy", "trastuzumab"), _trastuzumab_line)
    if w.brain_metastases is not None:
        brain = w.brain_metastases
        yield _Condition(
            lambda f: bool(f.brain_metastases) == brain,
            lambda f: FactLine("fact.brain", _bool(bool(f.brain_metastases)), f.brain_metastases),
        )
    if w.received_any is not None:
        yield _received(w.received_any)
    if w.received_metastatic_any is not None:
        yield _received_metastatic(w.received_metastatic_any)
    if w.on_any is not None:
        yield _on(w.on_any)
    if w.chemo_lines_metastatic_min is not None or w.chemo_lines_metastatic_max is not None:
        low = w.chemo_lines_metastatic_min or 0
        high = 99 if w.chemo_lines_metastatic_max is None else w.chemo_lines_metastatic_max
        yield _Condition(
            _between(low, high, "therapy", "metastatic_chemo_lines"),
            lambda f: FactLine("fact.chemo_lines", _count(f.therapy.metastatic_chemo_lines)),
        )
    if w.endocrine_lines_metastatic_min is not None:
        least = w.endocrine_lines_metastatic_min
        yield _Condition(
            lambda f: (
                f.therapy.metastatic_endocrine_lines is not None and f.therapy.metastatic_endocrine_lines >= least
            ),
            lambda f: FactLine("fact.endocrine_lines", _count(f.therapy.metastatic_endocrine_lines)),
        )
    if w.age_over is not None:
        over = w.age_over
        yield _Condition(lambda f: f.age is not None and f.age > over, _age_line)
    if w.age_at_most is not None:
        most = w.age_at_most
        yield _Condition(lambda f: f.age is not None and f.age <= most, _age_line)
    if w.stage_group_without_ctn is not None:
        yield _stage_group(w.stage_group_without_ctn)


def _count(n: int | None) -> str:
    return "value.unknown" if n is None else str(n)


def _n_positive(f: PatientFacts, prefix: str) -> bool | None:
    found = f.staging.n.get(prefix)
    if not found or found.staging.value.upper() == "NX":
        return None
    return not found.staging.value.startswith("N0")


# Each `when` compiled once (knowledge rows are checked on every call), by identity: the `when` is kept
# alive beside its id, so the id cannot be reused by another object.
_COMPILED: dict[int, tuple[When, _Compiled]] = {}


def _compiled(when: When) -> _Compiled:
    known = _COMPILED.get(id(when))
    if known is not None and known[0] is when:
        return known[1]
    compiled = _Compiled(tuple(_conditions(when)), tuple(_compiled(option) for option in when.any_of or ()))
    if len(_COMPILED) >= 4096:  # knowledge has a few hundred; ad hoc ones (tests) must not pile up
        _COMPILED.clear()
    _COMPILED[id(when)] = (when, compiled)
    return compiled


def _holds(compiled: _Compiled, facts: PatientFacts) -> bool:
    for condition in compiled.conditions:
        if not condition.holds(facts):
            return False
    if not compiled.any_of:
        return True
    for option in compiled.any_of:  # a loop, not any(...): no generator per row on every call
        if _holds(option, facts):
            return True
    return False


def holds(when: When, facts: PatientFacts) -> bool:
    """`matches(when, facts)[0]` without building the facts' lines: most rows fail, and only the ones that
    hold show their facts."""
    return _holds(_compiled(when), facts)


def _always(facts: PatientFacts) -> bool:
    return True


def predicate(when: When) -> Callable[[PatientFacts], bool]:
    """`holds(when, ·)` as one callable, for a `when` kept alive by its caller (the row index): no look-up of
    the compiled form per call, and a `when` without conditions costs nothing."""
    compiled = _compiled(when)
    if not compiled.conditions and not compiled.any_of:
        return _always
    if not compiled.any_of and len(compiled.conditions) == 1:
        return compiled.conditions[0].holds
    return partial(_holds, compiled)


def _lines(compiled: _Compiled, facts: PatientFacts, built: dict[object, FactLine]) -> tuple[FactLine, ...]:
    """The facts' lines of a `when` that holds: its conditions', then those of its first `any_of` option
    that holds (the options that do not are never shown, so their lines are not built)."""
    used = []
    for condition in compiled.conditions:
        line = built.get(condition.shown)
        if line is None:
            line = built[condition.shown] = condition.shown(facts)
        used.append(line)
    for option in compiled.any_of:
        if _holds(option, facts):
            return tuple(dict.fromkeys((*used, *_lines(option, facts, built))))
    return tuple(used)


def lines_of(when: When, facts: PatientFacts, built: dict[object, FactLine] | None = None) -> tuple[FactLine, ...]:
    """`matches(when, facts)[1]` for a `when` that holds (`holds` said so). `built`: lines already built for
    these facts, by the function that shows them; the rows of one call share most (HER2, setting, phase)."""
    return _lines(_compiled(when), facts, {} if built is None else built)


def _matches(compiled: _Compiled, facts: PatientFacts) -> tuple[bool, tuple[FactLine, ...]]:
    if _holds(compiled, facts):
        return True, _lines(compiled, facts, {})
    used: list[FactLine] = []
    for condition in compiled.conditions:
        used.append(condition.shown(facts))
        if not condition.holds(facts):
            break  # the facts up to the one that fails
    return False, tuple(used)  # or, when every condition holds, no `any_of` option does: all of them


def matches(when: When, facts: PatientFacts) -> tuple[bool, tuple[FactLine, ...]]:
    """Whether every condition holds, and the facts it looked at (in a stable, readable order)."""
    return _matches(_compiled(when), facts)


def _blocking(compiled: _Compiled, facts: PatientFacts) -> tuple[FactLine, ...]:
    if _holds(compiled, facts):
        return ()
    for condition in compiled.conditions:
        if not condition.holds(facts):
            return (condition.shown(facts),)
    return tuple(line for option in compiled.any_of for line in _blocking(option, facts))


def blocking(when: When, facts: PatientFacts) -> tuple[FactLine, ...]:
    """The facts that stop `when` from holding: the failing condition, or each failing `any_of` option's."""
    return _blocking(_compiled(when), facts)


def _missing_only(compiled: _Compiled, facts: PatientFacts) -> tuple[FactLine, ...] | None:
    unknown: list[FactLine] = []
    for condition in compiled.conditions:
        if condition.holds(facts):
            continue
        line = condition.shown(facts)
        if line.value != "value.unknown":
            return None
        unknown.append(line)
    if compiled.any_of:
        options = [_missing_only(option, facts) for option in compiled.any_of]
        possible: list[tuple[FactLine, ...]] = [o for o in options if o is not None]
        if not possible:
            return None
        if () not in possible:
            unknown += sorted(possible, key=len)[0]
    return tuple(dict.fromkeys(unknown))


def missing_only(when: When, facts: PatientFacts) -> tuple[FactLine, ...] | None:
    """The facts the record lacks, when they alone stop `when` from holding: the row would match if they
    were known (and turned out right). None when a known fact already rules the row out; () when it holds."""
    return _missing_only(_compiled(when), facts)


def _drugs(ids: list[str]) -> str:
    """Drug ids the renderer names in the reader's language ("drug:trastuzumab" → 曲妥珠单抗)."""
    return ", ".join(f"drug:{d}" for d in ids) or "value.none"
