"""Every ``examples/pytket_*.py`` runs as a script against the built-in emulator (so CI runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("pytket_*.py"))


def _run(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQC_")}
    env.update(OQC_PROVIDER_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def test_there_are_examples() -> None:
    assert {path.name for path in EXAMPLES} >= {"pytket_bell.py", "pytket_handles.py"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
@pytest.mark.slow
def test_example_runs(example: Path, tmp_path: Path) -> None:
    done = _run([str(example)], tmp_path / "home", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "counts" in done.stdout


@pytest.mark.slow
def test_handles_example_collects_in_a_later_process(tmp_path: Path) -> None:
    script = str(ROOT / "examples" / "pytket_handles.py")
    submitted = _run([script, "submit", "h.txt"], tmp_path / "home", tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    collected = _run([script, "collect", "h.txt"], tmp_path / "home", tmp_path)
    assert collected.returncode == 0, collected.stderr
    assert "ghz " in collected.stdout and "(1, 1, 1): 100" in collected.stdout  # toffoli: all 111


def test_importing_the_package_does_not_import_pytket(tmp_path: Path) -> None:
    code = "import sys, oqc_provider; assert not any(m.startswith('pytket') for m in sys.modules)"
    done = _run(["-c", code], tmp_path / "home", tmp_path)
    assert done.returncode == 0, done.stderr
