"""``oqc-provider run`` sends raw programs with the service's default compilation (optimizations
null: the service places and routes them), unless ``--optimizations`` says otherwise; read back
from the engine jobs the CLI recorded in the local job store."""

from __future__ import annotations

import pytest

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO
from oqc_provider.engine.store import JobStore
from oqc_provider.qcaas.compiler_config import CompilerConfig, Tket, TketOptimizations
from oqc_provider.run_options import RunOptions
from tests.cli.conftest import BELL_QASM2


def _sent_configs(job_id: str) -> list[CompilerConfig]:
    snapshot = JobStore().read(job_id)
    return [CompilerConfig.from_json(child.config_json) for child in snapshot.jobs]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("flag", "sent"),
    [
        ((), None),
        (("--optimizations", "service"), None),
        (("--optimizations", "empty"), Tket(tket_optimizations=TketOptimizations.Empty)),
        (("--optimizations", "TWO"), Tket(tket_optimizations=TketOptimizations.Two)),
    ],
    ids=["default", "service", "empty", "two"],
)
def test_run_sends_the_services_default_unless_told(cli, qasm, flag: tuple[str, ...], sent: object) -> None:
    report = cli.json("run", str(qasm("bell.qasm", BELL_QASM2)), "--shots", "20", *flag)
    assert [config.optimizations for config in _sent_configs(report["job_id"])] == [sent]


def test_unknown_optimisation_names_are_refused(cli, qasm) -> None:
    result = cli("run", str(qasm("bell.qasm", BELL_QASM2)), "--optimizations", "max")
    assert result.exit_code != 0 and "max" in result.output


@pytest.mark.slow
def test_seed_is_sent_to_simulators_only(cli, qasm) -> None:
    bell = str(qasm("bell.qasm", BELL_QASM2))
    hardware = cli("run", bell, "--shots", "20", "--seed", "3", "--qpu", "Lucy", "--json")
    assert hardware.exit_code == 0, hardware.output
    assert "not a simulator" in hardware.stderr
    simulator = cli("run", bell, "--shots", "20", "--seed", "3", "--json")
    assert simulator.exit_code == 0 and "not a simulator" not in simulator.stderr
    options = RunOptions(seed=3)
    assert options.external_config(LUCY_SIMULATOR) == {"seed": 3}
    assert options.external_config(LUCY) is None and options.external_config(TOSHIKO) is None
