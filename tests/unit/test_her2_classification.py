"""HER2 classification table: every IHC score × ISH result and group, and the conflict cases.

Expected categories follow ASCO/CAP 2018/2023 and the 2025 consensus (rows T1–T12 of cards/testing.yaml)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical.evidence import Evidence
from cds_service.clinical.her2 import Thresholds, classify_her2
from cds_service.clinical.readings import Reading

T = Thresholds(ratio=2.0, copy_number=4.0, copy_number_high=6.0, window_days=30)
IHC = {
    "0": "ihc-0",
    "null": "ihc-null",
    "ultralow": "ihc-ultralow",
    "1+": "ihc-1",
    "2+": "ihc-2",
    "3+": "ihc-3",
    "indeterminate": "indeterminate",
    None: None,
}


def _reading(
    concept: str,
    *,
    value: str | None = None,
    number: float | None = None,
    when: str = "2026-03-01",
    specimen: str | None = None,
) -> Reading:
    evidence = Evidence(f"Observation/{concept}-{when}", when, concept, value or str(number))
    return Reading(concept, evidence, value, number, None, specimen)


def specimen(
    ihc: str | None = None,
    ish: str | None = None,
    ratio: float | None = None,
    copies: float | None = None,
    interpretation: str | None = None,
    when: str = "2026-03-01",
) -> list[Reading]:
    found = []
    if ihc:
        found.append(_reading("her2-ihc", value=IHC[ihc], when=when))
    if ish:
        found.append(_reading("her2-ish", value=ish, when=when))
    if ratio is not None:
        found.append(_reading("her2-ish-ratio", number=ratio, when=when))
    if copies is not None:
        found.append(_reading("her2-ish-copy-number", number=copies, when=when))
    if interpretation:
        found.append(_reading("her2-interpretation", value=interpretation, when=when))
    return found


@pytest.mark.parametrize(
    ("ihc", "ish", "category", "rule"),
    [
        ("3+", None, "positive", "T1"),
        ("3+", "positive", "positive", "T1"),
        ("2+", "positive", "positive", "T3"),
        ("2+", "negative", "low", "T8"),
        ("2+", "equivocal", "equivocal", "T2"),
        ("2+", None, "equivocal", "T2"),
        ("1+", None, "low", "T8"),
        ("1+", "negative", "low", "T8"),
        ("1+", "positive", "positive", "T3"),  # amplified wins over a low IHC score (ISH group 1)
        ("ultralow", None, "ultralow", "T9"),
        ("0", None, "zero-unspecified", "T10"),  # ultralow or no staining: the report does not say
        ("null", None, "zero", "T10"),
        ("0", "positive", "positive", "T3"),
        ("indeterminate", "positive", "positive", "T3"),
        ("indeterminate", "negative", "negative", None),
        ("indeterminate", None, "unknown", None),
        (None, "positive", "positive", "T3"),
        (None, "negative", "negative", None),  # ISH-negative without IHC: low, ultralow and 0 undecided
        (None, "equivocal", "equivocal", "T2"),
    ],
)
def test_ihc_and_ish_results(ihc: str | None, ish: str | None, category: str, rule: str | None) -> None:
    status = classify_her2(specimen(ihc, ish), T).current
    assert status.category == category
    assert (status.rules[-1] if status.rules else None) == rule


@pytest.mark.parametrize(
    ("ihc", "ratio", "copies", "category", "group", "rule"),
    [
        ("2+", 2.5, 5.0, "positive", 1, "T3"),
        ("1+", 2.2, 4.5, "positive", 1, "T3"),
        ("3+", 2.1, 3.0, "positive", 2, "T1"),
        ("2+", 2.1, 3.0, "low", 2, "T8"),  # group 2 with IHC 2+: negative, then HER2-low
        ("1+", 2.1, 3.0, "low", 2, "T8"),
        ("0", 2.1, 3.0, "zero-unspecified", 2, "T10"),
        ("2+", 1.5, 6.5, "positive", 3, "T5"),
        ("3+", 1.5, 6.5, "positive", 3, "T1"),
        ("1+", 1.5, 6.5, "low", 3, "T8"),
        ("0", 1.5, 6.5, "zero-unspecified", 3, "T10"),
        ("3+", 1.5, 4.5, "positive", 4, "T1"),
        ("2+", 1.5, 4.5, "low", 4, "T8"),
        ("2+", 1.2, 2.0, "low", 5, "T8"),
        ("null", 1.2, 2.0, "zero", 5, "T10"),
        (None, 2.1, 3.0, "equivocal", 2, "T4"),  # group 2 needs concurrent IHC
        (None, 1.5, 6.5, "equivocal", 3, "T5"),
        (None, 1.5, 4.5, "equivocal", 4, "T6"),
        (None, 1.2, 2.0, "negative", 5, "T7"),
    ],
)
def test_ish_groups_resolved_with_concurrent_ihc(
    ihc: str | None, ratio: float, copies: float, category: str, group: int, rule: str
) -> None:
    status = classify_her2(specimen(ihc, ratio=ratio, copies=copies), T).current
    assert (status.category, status.ish_group, status.rules[-1]) == (category, group, rule)


def test_group_needing_ihc_says_so() -> None:
    status = classify_her2(specimen(None, ratio=2.1, copies=3.0), T).current
    assert "ish-group-needs-ihc" in status.problems


def test_ihc_2_without_ish_stays_equivocal_and_names_the_gap() -> None:
    status = classify_her2(specimen("2+"), T).current
    assert status.category == "equivocal"
    assert "ish-missing" in status.problems


def test_plain_ihc_0_notes_that_ultralow_was_not_stated() -> None:
    assert "ultralow-not-stated" in classify_her2(specimen("0"), T).current.problems
    assert "ultralow-not-stated" not in classify_her2(specimen("null"), T).current.problems


def test_interpretation_only() -> None:
    assert classify_her2(specimen(interpretation="positive"), T).category == "positive"
    negative = classify_her2(specimen(interpretation="negative"), T).current
    assert negative.category == "negative" and "ihc-score-missing" in negative.problems
    assert classify_her2(specimen(interpretation="equivocal"), T).category == "equivocal"


@pytest.mark.parametrize(
    ("readings", "problem"),
    [
        (specimen("3+") + specimen("1+"), "results-disagree"),
        (specimen("2+", ish="negative", ratio=2.6, copies=6.0), "ish-numbers-disagree"),
        (specimen("3+", interpretation="negative"), "interpretation-disagrees"),
        (specimen("1+", interpretation="positive"), "interpretation-disagrees"),
        (specimen(ish="positive") + specimen(ish="negative"), "results-disagree"),
    ],
    ids=["two-ihc-scores", "ish-vs-numbers", "ihc3-vs-negative", "ihc1-vs-positive", "two-ish"],
)
def test_conflicts_within_a_specimen_are_never_resolved_by_guessing(readings: list[Reading], problem: str) -> None:
    status = classify_her2(readings, T).current
    assert status.category == "conflicting"
    assert problem in status.problems
    assert status.rules == ("T11",)


def test_specimens_that_lead_to_other_treatment_make_the_status_conflicting() -> None:
    """T11: newest tissue and most actionable status are an MDT decision; the service picks neither."""
    readings = specimen("3+", when="2026-05-01") + specimen("1+", when="2024-01-10")
    status = classify_her2(readings, T)
    assert status.current.category == "positive"
    assert [s.category for s in status.discordant] == ["low"]
    assert status.category == "conflicting"


@pytest.mark.parametrize(
    ("earlier", "latest", "conflicting"),
    [
        ("3+", "1+", True),  # residual disease after neoadjuvant therapy retested HER2-low
        ("3+", "null", True),
        ("1+", "null", True),  # HER2-low then HER2-0: T-DXd eligibility differs
        ("1+", "0", True),
        ("ultralow", "null", True),
        ("ultralow", "0", False),  # a plain IHC 0 may be ultralow
        ("null", "0", False),
        ("3+", "3+", False),
        ("1+", "2+", False),  # IHC 2+ awaiting ISH is not a contradiction yet
    ],
)
def test_which_earlier_specimens_contradict_the_latest(earlier: str, latest: str, conflicting: bool) -> None:
    readings = specimen(latest, when="2026-05-01") + specimen(earlier, when="2024-01-10")
    assert (classify_her2(readings, T).category == "conflicting") is conflicting


def test_positive_then_negative_without_score_is_a_contradiction() -> None:
    readings = specimen(interpretation="negative", when="2026-05-01") + specimen("3+", when="2023-01-10")
    assert classify_her2(readings, T).category == "conflicting"


def test_ihc_and_ish_weeks_apart_pair_as_one_specimen() -> None:
    readings = specimen(ish="positive", when="2026-03-20") + specimen("2+", when="2026-03-01")
    status = classify_her2(readings, T)
    assert status.category == "positive" and status.earlier == ()


def test_specimen_reference_keeps_two_same_day_biopsies_apart() -> None:
    a = _reading("her2-ihc", value="ihc-3", specimen="Specimen/breast")
    b = _reading("her2-ihc", value="ihc-1", specimen="Specimen/liver")
    status = classify_her2([a, b], T)
    assert status.current.category == "positive"
    assert [s.category for s in status.earlier] == ["low"]


def test_serum_only_is_not_a_status() -> None:
    serum = _reading("her2-serum", number=20.0)
    status = classify_her2([serum], T)
    assert status.category == "unknown"
    assert status.current.problems == ("serum-only",)
    assert status.serum == (serum.evidence,)


def test_values_not_understood_are_kept_and_never_classified() -> None:
    odd = _reading("her2-ihc", value=None)
    status = classify_her2([odd], T)
    assert status.category == "unknown"
    assert status.not_understood == (odd.evidence,)
    assert status.current.problems == ("value-not-understood",)


def _grouped_pairwise(readings: list[Reading], window_days: int) -> list[list[Reading]]:
    """The specimen grouping as first written (every member's specimen and both dates read at each step): the
    reference the incremental grouping must agree with."""
    from cds_service.clinical.record import day_of

    groups: list[list[Reading]] = []
    for reading in readings:
        for group in groups:
            specimens = {r.specimen for r in group if r.specimen}
            if reading.specimen and specimens:
                joined = reading.specimen in specimens
            else:
                first, second = day_of(reading.date), day_of(group[0].date)
                gap = abs((first - second).days) if first and second else None
                joined = gap is not None and gap <= window_days or (reading.date is None and group[0].date is None)
            if joined:
                group.append(reading)
                break
        else:
            groups.append([reading])
    return groups


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, "2026-01-01", "2026-01-20", "2026-02-15", "2026-05-01", "2026-13-40", "2025"]),
            st.sampled_from([None, "", "Specimen/a", "Specimen/b", "Specimen/c"]),
        ),
        max_size=12,
    )
)
def test_specimen_grouping_agrees_with_the_pairwise_reading(rows: list[tuple[str | None, str | None]]) -> None:
    from cds_service.clinical.her2 import _specimens

    readings = [
        Reading("her2-ihc", Evidence(f"Observation/{i}", when, "HER2", "x"), "ihc-1", None, None, specimen)
        for i, (when, specimen) in enumerate(rows)
    ]
    assert _specimens(readings, 30) == _grouped_pairwise(readings, 30)
