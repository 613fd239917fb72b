"""The progress bar (on in a terminal, off elsewhere, a setting to turn it off) and optional matplotlib."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from oqc_provider.engine import CompositeJob, OqcSdk
from oqc_provider.engine.progress import PROGRESS_ENV, progress_enabled, progress_for

ROOT = Path(__file__).resolve().parents[2]
X_QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_in_a_terminal_off_elsewhere_and_the_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_enabled(stream=Terminal()) is True
    assert progress_enabled(stream=io.StringIO()) is False
    monkeypatch.setenv(PROGRESS_ENV, "0")
    assert progress_enabled(stream=Terminal()) is False
    assert progress_enabled(True, stream=Terminal()) is True  # the argument beats the setting
    monkeypatch.setenv(PROGRESS_ENV, "1")
    assert progress_enabled(stream=io.StringIO()) is True
    assert progress_enabled(False, stream=io.StringIO()) is False


async def test_the_bar_counts_tasks_done_out_of_total() -> None:
    screen = Terminal()
    console = Console(file=screen, force_terminal=True, width=100)
    async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
        batch = sdk.create_job(program=[X_QASM] * 4)
        assert isinstance(batch, CompositeJob)
        with progress_for(batch, enabled=True, description="batch", console=console) as bar:
            await batch.execute(timeout_s=60)
        late = batch.progress  # calls after the bar stopped are ignored
        bar._on_change(batch, late)
    assert bar.enabled
    assert "batch" in screen.getvalue() and "4/4" in screen.getvalue()


async def test_a_disabled_bar_draws_nothing() -> None:
    screen = Terminal()
    console = Console(file=screen, force_terminal=True)
    async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
        batch = sdk.create_job(program=[X_QASM] * 2)
        assert isinstance(batch, CompositeJob)
        with progress_for(batch, enabled=False, console=console) as bar:
            await batch.execute(timeout_s=60)
    assert not bar.enabled and screen.getvalue() == ""


def _python(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQC_")}
    env.update(OQC_PROVIDER_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_importing_the_package_and_its_cli_does_not_import_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys, oqc_provider, oqc_provider.cli, oqc_provider.plots, oqc_provider.engine.progress\n"
        "assert not [m for m in sys.modules if m.startswith('matplotlib')], 'matplotlib imported'\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr


def test_without_matplotlib_a_typed_error_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "from oqc_provider.plots import PlotDependencyError, plot_counts\n"
        "try:\n"
        "    plot_counts({'0': 1})\n"
        "except PlotDependencyError as exc:\n"
        "    assert isinstance(exc, ImportError)\n"
        "    print(exc)\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'pip install "oqc-provider[plots]"' in done.stdout


@pytest.mark.slow
def test_plot_without_matplotlib_is_a_one_line_error_before_anything_runs(tmp_path: Path) -> None:
    program = tmp_path / "x.qasm"
    program.write_text(X_QASM)
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "from oqc_provider.cli import main\n"
        f"main(['run', {str(program)!r}, '--plot', 'counts.png'])\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        'Error: Drawing needs matplotlib: pip install "oqc-provider[plots]"'
    ]
    assert not (tmp_path / "jobs").exists() or not list((tmp_path / "jobs").iterdir())
