"""`make bench` and the memory run in miniature: they run end to end and print their ratios (no timing asserted)."""

import os
import re
import subprocess
import sys

from cds_service.config import REPO_ROOT

TINY = {
    "BENCH_SIZES": "10",
    "BENCH_HOOKS": "her2-patient-view",
    "BENCH_WORKERS": "1",
    "BENCH_ROUNDS": "1",
    "BENCH_SECONDS": "1",
    "BENCH_SEQ_SECONDS": "0",
}


def _run(module: str, extra: dict[str, str]) -> str:
    env = {**os.environ, **extra}
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_bench_compares_the_service_with_the_floor_and_prints_ratios() -> None:
    out = _run("benchmarks.throughput", TINY)

    assert "floor rps" in out and "service" in out and "ratio" in out
    rows = [line for line in out.splitlines() if line.startswith("1 worker") and "patient-view" in line]
    assert rows, out
    # floor rps, service rps, ratio | floor p50 / p95, service p50 / p95, p95 ratio | floor and service CPU ms per
    # call, CPU ratio: all numbers, all positive (this machine has /proc)
    numbers = [float(n) for n in re.findall(r"\d+\.\d+|\d+", rows[-1].split("patient-view", 1)[1])]
    assert len(numbers) == 13 and all(n > 0 for n in numbers), rows[-1]


def test_the_ceiling_bench_compares_floor_rules_free_and_service() -> None:
    out = _run("benchmarks.ceiling", TINY)

    rows = [line for line in out.splitlines() if line.lstrip().startswith("1 patient-view")]
    assert [row.split("│")[1].split()[0] for row in rows] == ["floor", "rules-free", "service"], out
    for row in rows:  # rps, its ratio to the floor, CPU ms per call, its ratio: all numbers, all positive
        numbers = [float(n) for n in re.findall(r"\d+\.\d+|\d+", row.split("│", 1)[1])]
        assert len(numbers) == 4 and all(n > 0 for n in numbers), row
    assert rows[0].split()[-1] == "1.00"  # the floor against itself


def test_the_memory_run_samples_the_servers_rss() -> None:
    out = _run("benchmarks.memory", {"MEMORY_CALLS": "40"})

    assert re.search(r"RSS after warm-up \(4 calls\) \d+\.\d MB, at the end \d+\.\d MB", out), out
