"""Knowledge `when` conditions × PatientFacts: does a recommendation apply, and on which facts.

Pure functions. A fact the record does not hold never satisfies a condition (unknown ≠ match)."""

from collections.abc import Callable
from dataclasses import dataclass

from ..knowledge import When
from .facts import PatientFacts
from .readings import Evidence

__all__ = ["FactLine", "blocking", "matches", "missing_only"]


@dataclass(frozen=True)
class FactLine:
    """One patient fact as shown on a card: what (phrase key), its value (phrase key or text), from where."""

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


Check = Callable[[When, PatientFacts], tuple[bool, FactLine] | None]


def _checks() -> list[Check]:
    def her2(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        return None if w.her2 is None else (f.her2.category in w.her2, _her2(f))

    def hr(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        return None if w.hr is None else (f.hr in w.hr, _hr(f))

    def setting(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        return None if w.setting is None else (f.setting in w.setting, _setting(f))

    def phase(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.early_phase is None:
            return None
        phase = f.staging.early_phase
        shown = FactLine("fact.phase", f"phase.{phase}" if phase else "value.unknown", f.staging.setting_basis)
        return phase in w.early_phase, shown

    def pcr(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.pcr is None:
            return None
        return f.staging.pcr is not None and f.staging.pcr == w.pcr, FactLine(
            "fact.pcr", _bool(f.staging.pcr), f.staging.pcr_basis
        )

    def clinical_t(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.clinical_t is None:
            return None
        found = f.staging.t.get("c")
        return bool(found and found.staging.value in w.clinical_t), _category(f, "T", "c")

    def clinical_n(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.clinical_n_positive is None:
            return None
        return _n_positive(f, "c") == w.clinical_n_positive, _category(f, "N", "c")

    def clinical_n_at_least(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.clinical_n_at_least is None:
            return None
        found = f.staging.n.get("c")
        number = found.staging.value[1:2] if found else ""
        return number.isdigit() and int(number) >= w.clinical_n_at_least, _category(f, "N", "c")

    def post_neoadjuvant_n(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.post_neoadjuvant_n_positive is None:
            return None
        return _n_positive(f, "yp") == w.post_neoadjuvant_n_positive, _category(f, "N", "yp")

    def pathologic_t(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.pathologic_t is None:
            return None
        found = f.staging.t.get("p")
        return bool(found and found.staging.value in w.pathologic_t), _category(f, "T", "p")

    def pathologic_n(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.pathologic_n_positive is None:
            return None
        return _n_positive(f, "p") == w.pathologic_n_positive, _category(f, "N", "p")

    def line(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.metastatic_line_min is None and w.metastatic_line_max is None:
            return None
        n = f.therapy.next_metastatic_line
        ok = n is not None and (w.metastatic_line_min or 1) <= n <= (w.metastatic_line_max or 99)
        return ok, _line(f)

    def trastuzumab(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.trastuzumab is None:
            return None
        value = f.therapy.trastuzumab
        shown = FactLine("fact.trastuzumab", f"h.{value}" if value else "value.unknown", f.therapy.trastuzumab_basis)
        return value in w.trastuzumab, shown

    def brain(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.brain_metastases is None:
            return None
        present = bool(f.brain_metastases)
        return present == w.brain_metastases, FactLine("fact.brain", _bool(present), f.brain_metastases)

    def received(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.received_any is None:
            return None
        given = sorted(set(w.received_any) & f.therapy.received)
        evidence = tuple(e.evidence for e in f.therapy.exposures if e.contains & set(w.received_any))
        return bool(given), FactLine("fact.received", _drugs(given), evidence)

    def received_metastatic(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.received_metastatic_any is None:
            return None
        since = f.staging.metastatic_since
        wanted = set(w.received_metastatic_any)
        given = [e for e in f.therapy.exposures if since and e.start and e.start >= since and e.contains & wanted]
        names = sorted({d for e in given for d in e.contains & wanted})
        line = FactLine("fact.received_metastatic", _drugs(names), tuple(e.evidence for e in given))
        return bool(given), line

    def on(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.on_any is None:
            return None
        wanted = set(w.on_any)
        running = [e for e in f.therapy.exposures if e.current and e.contains & wanted]
        names = sorted({d for e in running for d in e.contains & wanted})
        return bool(running), FactLine("fact.on", _drugs(names), tuple(e.evidence for e in running))

    def chemo(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.chemo_lines_metastatic_min is None and w.chemo_lines_metastatic_max is None:
            return None
        n = f.therapy.metastatic_chemo_lines
        ok = n is not None and (w.chemo_lines_metastatic_min or 0) <= n <= (
            99 if w.chemo_lines_metastatic_max is None else w.chemo_lines_metastatic_max
        )
        return ok, FactLine("fact.chemo_lines", "value.unknown" if n is None else str(n))

    def endocrine(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.endocrine_lines_metastatic_min is None:
            return None
        n = f.therapy.metastatic_endocrine_lines
        return n is not None and n >= w.endocrine_lines_metastatic_min, FactLine(
            "fact.endocrine_lines", "value.unknown" if n is None else str(n)
        )

    def age(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.age_over is None:
            return None
        return f.age is not None and f.age > w.age_over, FactLine(
            "fact.age", "value.unknown" if f.age is None else str(f.age)
        )

    def age_at_most(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.age_at_most is None:
            return None
        return f.age is not None and f.age <= w.age_at_most, FactLine(
            "fact.age", "value.unknown" if f.age is None else str(f.age)
        )

    def stage_group(w: When, f: PatientFacts) -> tuple[bool, FactLine] | None:
        if w.stage_group_without_ctn is None:
            return None
        stage = f.staging.stage
        # Only when neither cT nor cN is on record: recorded categories say more than the group does.
        no_ctn = "c" not in f.staging.t and "c" not in f.staging.n
        ok = bool(stage and no_ctn and stage.staging.value in w.stage_group_without_ctn)
        shown = (
            FactLine("fact.stage", stage.staging.value, (stage.evidence,))
            if stage
            else FactLine("fact.stage", "value.unknown")
        )
        return ok, shown

    return [
        her2,
        hr,
        setting,
        phase,
        pcr,
        clinical_t,
        clinical_n,
        clinical_n_at_least,
        pathologic_t,
        pathologic_n,
        post_neoadjuvant_n,
        line,
        trastuzumab,
        brain,
        received,
        received_metastatic,
        on,
        chemo,
        endocrine,
        age,
        age_at_most,
        stage_group,
    ]


_CHECKS = _checks()


def _n_positive(f: PatientFacts, prefix: str) -> bool | None:
    found = f.staging.n.get(prefix)
    if not found or found.staging.value.upper() == "NX":
        return None
    return not found.staging.value.startswith("N0")


# Which checks a `when` sets, by the `when` (every check answers None from the `when` alone: a field it does
# not set). Knowledge rows are checked on every call; most set two or three of the checks.
_RELEVANT: dict[int, tuple[When, tuple[Check, ...]]] = {}


def _relevant(when: When, facts: PatientFacts) -> tuple[Check, ...]:
    known = _RELEVANT.get(id(when))
    if known is not None and known[0] is when:
        return known[1]
    relevant = tuple(check for check in _CHECKS if check(when, facts) is not None)
    if len(_RELEVANT) >= 4096:  # knowledge has a few hundred; ad hoc ones (tests) must not pile up
        _RELEVANT.clear()
    _RELEVANT[id(when)] = (when, relevant)  # the `when` kept alive with its id: the id cannot be reused
    return relevant


def matches(when: When, facts: PatientFacts) -> tuple[bool, tuple[FactLine, ...]]:
    """Whether every condition holds, and the facts it looked at (in a stable, readable order)."""
    used: list[FactLine] = []
    for check in _relevant(when, facts):
        result = check(when, facts)
        if result is None:
            continue
        ok, line = result
        used.append(line)
        if not ok:
            return False, tuple(used)
    if when.any_of:
        for option in when.any_of:
            ok, lines = matches(option, facts)
            if ok:
                return True, tuple(dict.fromkeys((*used, *lines)))
        return False, tuple(used)
    return True, tuple(used)


def blocking(when: When, facts: PatientFacts) -> tuple[FactLine, ...]:
    """The facts that stop `when` from holding: the failing condition, or each failing `any_of` option's."""
    ok, used = matches(when, facts)
    if ok:
        return ()
    for check in _relevant(when, facts):
        result = check(when, facts)
        if result is not None and not result[0]:
            return (result[1],)
    return tuple(line for option in when.any_of or () for line in blocking(option, facts))


def missing_only(when: When, facts: PatientFacts) -> tuple[FactLine, ...] | None:
    """The facts the record lacks, when they alone stop `when` from holding: the row would match if they
    were known (and turned out right). None when a known fact already rules the row out; () when it holds."""
    unknown: list[FactLine] = []
    for check in _relevant(when, facts):
        result = check(when, facts)
        if result is None or result[0]:
            continue
        if result[1].value != "value.unknown":
            return None
        unknown.append(result[1])
    if when.any_of:
        options = [missing_only(option, facts) for option in when.any_of]
        possible: list[tuple[FactLine, ...]] = [o for o in options if o is not None]
        if not possible:
            return None
        if () not in possible:
            unknown += sorted(possible, key=len)[0]
    return tuple(dict.fromkeys(unknown))


def _drugs(ids: list[str]) -> str:
    """Drug ids the renderer names in the reader's language ("drug:trastuzumab" → 曲妥珠单抗)."""
    return ", ".join(f"drug:{d}" for d in ids) or "value.none"
