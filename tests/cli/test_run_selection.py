"""``oqc-provider run --pre-selection/--post-selection/--driven-reset/--passive-reset-time``: sent in the
config, recorded in the local job store, and the shots kept reported (QAT drops the shots that fail)."""

from __future__ import annotations

import pytest

from oqc_provider.engine.store import JobStore
from oqc_provider.qcaas.compiler_config import CompilerConfig
from tests.cli.conftest import BELL_QASM2, assert_one_line_error


def _sent_config(job_id: str) -> CompilerConfig:
    (child,) = JobStore().read(job_id).jobs  # type: ignore[attr-defined]
    return CompilerConfig.from_json(child.config_json)


@pytest.mark.slow
def test_pre_selection_is_sent_and_the_kept_shots_are_reported(cli, qasm) -> None:
    bell = str(qasm("bell.qasm", BELL_QASM2))
    report = cli.json(
        "run", bell, "--qpu", "Lucy", "--shots", "2000", "--pre-selection", "--passive-reset-time", "2e-4"
    )
    config = _sent_config(report["job_id"])
    assert config.pre_selection and not config.post_selection and config.passive_reset_time == 2e-4
    (circuit,) = report["circuits"]
    kept = sum(circuit["counts"]["c"].values())
    assert circuit["shots_kept"] == kept < 2000  # Lucy's readout errors fail some heralds


def test_the_table_says_how_many_shots_were_kept(cli, qasm) -> None:
    result = cli("run", str(qasm("bell.qasm", BELL_QASM2)), "--shots", "30", "--post-selection")
    assert result.exit_code == 0, result.output
    assert "Selection kept 30 of 30 shots." in result.output  # two-level qubits: nothing dropped


def test_driven_reset_is_refused_before_sending(cli, qasm) -> None:
    result = cli("run", str(qasm("bell.qasm", BELL_QASM2)), "--driven-reset")
    assert_one_line_error(result, "driven_reset", "DDROP")
