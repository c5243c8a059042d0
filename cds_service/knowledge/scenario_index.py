"""Which scenario tests cover a knowledge row, read statically from tests/scenarios (nothing is imported or run).

Two ways a test names a row:
- a table entry `Scenario("M1", "situation", ...)` (tests/scenarios/test_rows.py: one per row), run by the
  parametrized test whose decorator reaches the table (directly or through a helper function);
- a row id written as a string literal ("M5") in a test function or its decorators.
A mention is all the scan can see; whether the test expects the row shown or absent is in its text."""

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CoveringTest", "scan_scenarios"]

TABLE_CALL = "Scenario"


@dataclass(frozen=True)
class CoveringTest:
    file: str  # relative to the folder above tests/, e.g. tests/scenarios/test_rows.py
    test: str  # test function, with [row] for a table entry: test_row_surfaces_for_a_patient_who_meets_it[M1]
    description: str  # the situation of a table entry, or the first line of the test's docstring
    expected_failure: str | None = None  # a table entry marked xfail: its reason

    @property
    def node_id(self) -> str:
        return f"{self.file}::{self.test}"


def scan_scenarios(tests_dir: Path, row_ids: Iterable[str]) -> dict[str, list[CoveringTest]] | None:
    """Row id -> covering tests (table scenario first), for every id in row_ids; None without tests_dir/scenarios."""
    folder = tests_dir / "scenarios"
    if not folder.is_dir():
        return None
    rows = set(row_ids)
    found: dict[str, list[CoveringTest]] = {row: [] for row in rows}
    for path in sorted(folder.rglob("test_*.py")):
        relative = path.relative_to(tests_dir.parent).as_posix()
        for row, test in _scan_module(ast.parse(path.read_text(encoding="utf-8")), relative, rows):
            if test not in found[row]:
                found[row].append(test)
    for tests in found.values():
        tests.sort(key=lambda t: "[" not in t.test)  # table scenarios first; otherwise file order
    return found


def _scan_module(module: ast.Module, file: str, rows: set[str]) -> Iterator[tuple[str, CoveringTest]]:
    functions = {n.name: n for n in module.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    tables = dict(_tables(module, rows))
    tests = [
        *(n for n in functions.values() if n.name.startswith("test")),
        *(
            m
            for c in module.body
            if isinstance(c, ast.ClassDef) and c.name.startswith("Test")
            for m in c.body
            if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name.startswith("test")
        ),
    ]
    for test in tests:
        reached = _names_reached(test.decorator_list, functions)
        for table, entries in tables.items():
            if table in reached:
                for row, situation, xfail in entries:
                    yield row, CoveringTest(file, f"{test.name}[{row}]", situation, xfail)
        summary = (ast.get_docstring(test) or "").strip().splitlines()
        for row in sorted(_row_literals([*test.decorator_list, *test.body], rows)):
            yield row, CoveringTest(file, test.name, summary[0] if summary else "")


def _tables(module: ast.Module, rows: set[str]) -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    """Module-level `NAME = [Scenario("M1", "situation", ...), ...]` (annotated or not)."""
    for node in module.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        if target is None or not isinstance(value, ast.List | ast.Tuple):
            continue
        entries = [entry for item in value.elts if (entry := _table_entry(item, rows))]
        if entries:
            yield target, entries


def _table_entry(node: ast.expr, rows: set[str]) -> tuple[str, str, str | None] | None:
    if not (isinstance(node, ast.Call) and _called(node) == TABLE_CALL and node.args):
        return None
    row = _string(node.args[0])
    if row not in rows:
        return None
    situation = _string(node.args[1]) if len(node.args) > 1 else None
    xfail = next((_string(k.value) for k in node.keywords if k.arg == "xfail"), None)
    return row, situation or "", xfail


def _names_reached(nodes: list[ast.expr], functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]) -> set[str]:
    """Names used in the decorators, and in the bodies of module functions they call (one level: `_params()`)."""
    names = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
    for name in list(names):
        if name in functions:
            names |= {n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)}
    return names


def _row_literals(nodes: list[ast.stmt | ast.expr], rows: set[str]) -> set[str]:
    return {n.value for node in nodes for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in rows}


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
