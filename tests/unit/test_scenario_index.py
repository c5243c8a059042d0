"""The static index of scenario tests per knowledge row, on a small test folder and on the real one."""

from pathlib import Path

from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT, Settings
from cds_service.knowledge.scenario_index import scan_scenarios
from tests.scenarios import test_rows

SCENARIOS = '''
import pytest

SCENARIOS = [
    Scenario("M1", "de novo metastatic: THP", record),
    Scenario("M2", "relapse: PHILA", record, xfail="not yet"),
    Scenario("NOT-A-ROW", "ignored", record),
]
OTHER = [("M3", "a tuple, not a Scenario")]


def _params():
    return [pytest.param(s, id=s.row) for s in SCENARIOS]


@pytest.mark.parametrize("scenario", _params())
def test_row_surfaces(scenario):
    """Runs the table."""


def test_order_of_options():
    """M1 leads; M3 is listed inside."""
    assert options[0] == "M1" and "M3" in inside


class TestLabels:
    @pytest.mark.parametrize("row", ["S1"])
    def test_label(self, row):
        pass
'''


def _tests_folder(tmp_path: Path) -> Path:
    (tmp_path / "tests" / "scenarios").mkdir(parents=True)
    (tmp_path / "tests" / "scenarios" / "test_example.py").write_text(SCENARIOS)
    (tmp_path / "tests" / "scenarios" / "helpers.py").write_text('ROWS = ["M4"]\n')  # not a test module
    return tmp_path / "tests"


def test_table_entries_and_literal_mentions_are_found(tmp_path: Path) -> None:
    index = scan_scenarios(_tests_folder(tmp_path), ["M1", "M2", "M3", "M4", "S1"])

    assert index is not None
    assert [(t.node_id, t.description) for t in index["M1"]] == [
        ("tests/scenarios/test_example.py::test_row_surfaces[M1]", "de novo metastatic: THP"),
        ("tests/scenarios/test_example.py::test_order_of_options", "M1 leads; M3 is listed inside."),
    ]
    assert index["M2"][0].expected_failure == "not yet"
    assert [t.test for t in index["M3"]] == ["test_order_of_options"]  # a tuple outside the table is no scenario
    assert [t.test for t in index["S1"]] == ["test_label"]
    assert index["M4"] == []  # named only in a helper module: no scenario test


def test_no_tests_folder_means_no_index(tmp_path: Path) -> None:
    assert scan_scenarios(tmp_path / "tests", ["M1"]) is None


def test_every_knowledge_row_has_a_covering_scenario_test() -> None:
    s = Settings()
    rows = load_engine(s.mappings_dir, s.cards_dir).knowledge.entries
    index = scan_scenarios(REPO_ROOT / "tests", rows)

    assert index is not None
    assert [row for row in rows if not index[row]] == []
    # The one-scenario-per-row table runs under the pytest ids the index names.
    ids = {p.id for p in test_rows._params()}
    for row in rows:
        first = index[row][0]
        assert first.file == "tests/scenarios/test_rows.py"
        assert first.test == f"test_row_surfaces_for_a_patient_who_meets_it[{row}]" and row in ids
