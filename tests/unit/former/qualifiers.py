"""A frozen copy of rules.checked_qualifiers before it looked up a row's checkable qualifiers once per row: the
oracle of tests/unit/test_prepared_wording.py."""

from cds_service.clinical.conditions import FactLine, blocking, matches
from cds_service.clinical.facts import PatientFacts
from cds_service.knowledge import Recommendation


def checked_qualifiers(
    entry: Recommendation, facts: PatientFacts
) -> tuple[tuple[tuple[int, str], ...], tuple[FactLine, ...], bool]:
    checked: list[tuple[int, str]] = []
    lines: list[FactLine] = []
    outside = False
    for index, qualifier in enumerate(entry.qualifiers):
        if qualifier.checked_by is None:
            continue
        ok, used = matches(qualifier.checked_by, facts)
        if not ok and any(line.value == "value.unknown" for line in (*used, *blocking(qualifier.checked_by, facts))):
            continue
        checked.append((index, "met" if ok else "not-met"))
        lines += used
        outside = outside or (not ok and qualifier.otherwise is None)
    return tuple(checked), tuple(dict.fromkeys(lines)), outside
