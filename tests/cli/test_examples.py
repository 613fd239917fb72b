"""The guides' CLI-free example scripts run against the built-in emulator, as a user would run them.

(``examples/qiskit_*.py`` and ``examples/pytket_*.py`` are run by ``tests/qiskit`` and ``tests/pytket``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("engine_", "emulator_", "benchmark_", "device_")
EXAMPLES = sorted(path for path in (ROOT / "examples").glob("*.py") if path.name.startswith(OURS))


def _run(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQC_")}
    env.update(OQC_PROVIDER_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_guide_has_its_example() -> None:
    assert {path.name for path in EXAMPLES} >= {
        "engine_quickstart.py",
        "engine_save_load.py",
        "engine_batch_progress.py",
        "emulator_served.py",
        "benchmark_swap.py",
        "device_map.py",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
@pytest.mark.slow
def test_example_runs(example: Path, tmp_path: Path) -> None:
    done = _run([str(example)], tmp_path / "home", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "an example says what it did"


@pytest.mark.slow
def test_the_demo_needs_no_matplotlib(tmp_path: Path) -> None:
    """The README's first command runs on the base install, where matplotlib is absent."""
    code = "import sys\nsys.modules['matplotlib'] = None\nfrom oqc_provider.cli import main\nmain(['demo'])\n"
    done = _run(["-c", code], tmp_path / "home", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Jobs are kept in the local job store" in done.stdout
