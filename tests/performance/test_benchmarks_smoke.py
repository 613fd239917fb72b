"""Every benchmark script runs from a checkout with one command and prints its ratios.

Tiny sizes, no timing assertions: CI proves the scripts still work against the current code
(figures come from running them at their default sizes, see docs/performance.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

CASES = [
    pytest.param(["qiskit_vs_aer.py", "--circuits", "4", "--repeats", "1"], None, id="qiskit_vs_aer"),
    pytest.param(
        ["pytket_vs_aer.py", "--circuits", "3", "--repeats", "1"],
        "pytket.extensions.qiskit",
        id="pytket_vs_aer",
    ),
    pytest.param(
        ["engine_vs_sdk.py", "--circuits", "4", "--repeats", "1"],
        "oqc_qcaas_sdk",
        id="engine_vs_sdk",
        marks=pytest.mark.external,
    ),
    pytest.param(["scale.py", "--sizes", "4", "8"], None, id="scale"),
    pytest.param(["import_time.py", "--repeats", "1"], None, id="import_time"),
    pytest.param(["tracker_overhead.py", "--n", "4", "--repeat", "1"], None, id="tracker_overhead"),
    pytest.param(["preflight_cost.py", "--repeats", "5"], None, id="preflight_cost"),
    pytest.param(
        ["simulator_overhead.py", "--circuits", "4", "--repeats", "1"], None, id="simulator_overhead"
    ),
    pytest.param(
        ["caller_instructions.py", "--circuits", "4"],
        None,
        id="caller_instructions",
        marks=pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
    ),
]


@pytest.mark.parametrize(("command", "needs"), CASES)
def test_benchmark_runs_and_prints_its_ratio(command: list[str], needs: str | None, tmp_path: Path) -> None:
    if needs is not None:  # installed by the test extra; a bare install skips these
        pytest.importorskip(needs)
    environment = {**os.environ, "TMPDIR": str(tmp_path)}  # the scripts' private job stores go here
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / command[0]), *command[1:]],
        capture_output=True,
        text=True,
        timeout=600 if command[0] == "caller_instructions.py" else 120,  # valgrind: ~45 s idle
        env=environment,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = completed.stdout
    assert "ratio" in printed or "varies by" in printed or "instructions" in printed, printed
