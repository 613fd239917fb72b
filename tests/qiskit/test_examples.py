"""Every ``examples/qiskit_*.py`` runs as a script against the built-in emulator (so CI runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("qiskit_*.py"))


def test_there_are_examples() -> None:
    assert {path.name for path in EXAMPLES} >= {"qiskit_bell.py", "qiskit_primitives.py", "qiskit_jobs.py"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
@pytest.mark.slow
def test_example_runs(script: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example says what it did"
