"""The documentation site builds with ``mkdocs build --strict`` (every warning an error), as CI builds it.

The pages' code runs elsewhere: pytest collects ``docs/*.md`` as doctests (``--doctest-glob``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "mkdocs" / "mkdocs.yml"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (site / "index.html").is_file()
    for page in (
        "quickstart",
        "emulator",
        "qiskit",
        "pytket",
        "service-compilation",
        "engine-jobs",
        "cli",
        "configuration",
        "performance",
    ):
        assert (site / page / "index.html").is_file(), page
    assert (site / "images" / "toshiko-device-map.png").is_file()
    assert not (site / "conftest.py").exists() and not (site / "mkdocs").exists()


def test_the_readme_starts_with_the_demo() -> None:
    readme = (ROOT / "README.md").read_text()
    first_command = readme.split("```bash\n", 1)[1].split("\n", 1)[0]
    assert first_command == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/oqc-provider demo"
    )


def test_the_readme_calls_installed_commands_one_way() -> None:
    """Every command in the README runs from a fresh clone as pasted: through the venv's own path,
    never a bare ``oqc-provider`` / ``pip`` / ``mkdocs`` that the shell would not find (or would
    find outside the venv)."""
    readme = (ROOT / "README.md").read_text()
    blocks = [block.split("```", 1)[0] for block in readme.split("```bash\n")[1:]]
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    commands = [part.strip() for line in lines if line for part in line.split("&&")]
    assert len(commands) >= 8
    for command in commands:
        assert command.startswith((".venv/bin/", "python3 -m venv .venv")), command
    bare = ("pip ", "mkdocs ", "oqc-provider ")
    inline = [span for span in readme.split("`")[1::2] if span.startswith(bare)]
    assert inline == [], inline
