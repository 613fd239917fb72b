"""The static checks CI runs, as tests: the README's test command (and `.ci/run`) runs them with the rest.

* ``ruff check`` over the whole tree (the rules, SLF001 included, are in pyproject.toml);
* ``ruff format --check``: the tree is as ``ruff format`` leaves it;
* ``lint-imports``: the layer contracts in pyproject.toml ([tool.importlinter]) -- imports point down only,
  the emulator imports neither the engine nor the front ends, the wire and engine import no Qiskit/pytket/Aer;
* ``mypy``: the whole package type-checks with the config in pyproject.toml ([tool.mypy]: strict on the wire,
  the engine and ``connection.py``). Cold (a fresh clone, as CI) it takes ~14 s of CPU; with the cache it
  leaves in ``.mypy_cache/`` at the repo root (ignored by git: mypy writes a ``.gitignore`` into it), ~1 s.

Each runs as a subprocess of this interpreter's environment, so a failure prints the tool's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _require(tool: str) -> str:
    path = BIN / tool
    if not path.exists():
        pytest.fail(f"{tool} is not installed next to {sys.executable}: pip install -e '.[test]'")
    return str(path)


def test_ruff_check_passes() -> None:
    done = _run(_require("ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_leaves_the_tree_unchanged() -> None:
    done = _run(_require("ruff"), "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_contracts_hold() -> None:
    done = _run(_require("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_package_type_checks() -> None:
    done = _run(_require("mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
