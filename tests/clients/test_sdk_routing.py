"""OQC's ``oqc-qcaas-sdk``, unchanged, sends programs that need routing to ``oqc-provider emulator serve``.

``tests/qcaas/test_sdk_compat.py`` covers the SDK's protocol against an emulator in a thread; this is
issue 12's point about routing: what QCaaS places and routes under its default config, the emulator
must run too, with the SDK in both server modes against the CLI-served emulator.
"""

from __future__ import annotations

import pytest

from tests.clients.programs import (
    GHZ4,
    LUCY_SIM,
    TOKEN,
    assert_ghz_counts,
    assert_ran_on_couplings,
    uncoupled,
)

pytestmark = pytest.mark.external

sdk_module = pytest.importorskip("oqc_qcaas_sdk")
cc = pytest.importorskip("compiler_config.config")

SHOTS = 400


@pytest.fixture(params=["legacy", "v4"])
def sdk_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server mode, chosen by environment before the SDK exists, as OQC documents it."""
    if request.param == "v4":
        monkeypatch.setenv("OQC_QCAAS_V4", "1")
    return request.param


@pytest.mark.slow
async def test_sdk_default_config_routes_a_ghz_on_uncoupled_qubits(
    served_cli_emulator, sdk_mode, requests_made
):
    """No config: the SDK sends 1000 shots, BinaryCount, ``optimizations: null`` (the service default)."""
    assert uncoupled(0, 2) and uncoupled(0, 3)
    async with sdk_module.OqcSdk(served_cli_emulator, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=GHZ4, qpu_id=LUCY_SIM)
        await job.execute(timeout_s=120)
        assert job.completed, job.error
        assert_ghz_counts(job.result.data["c"], 4, 1000)
    made = requests_made()
    submit = "POST /tasks/submit" if sdk_mode == "v4" else "POST /{qpu_hex}/tasks/submit"
    assert made[submit] == 1, made  # the SDK spoke the mode's layout


@pytest.mark.parametrize("tket", ["One", "Two"])
async def test_sdk_tket_mapping_settings_route_and_report_the_physical_qubits(
    served_cli_emulator, sdk_mode, tket
):
    config = cc.CompilerConfig(
        repeats=SHOTS,
        results_format=cc.QuantumResultsFormat().binary_count(),
        optimizations=cc.Tket(tket_optimization=cc.TketOptimizations[tket]),
        metrics=cc.MetricsType.Experimental,
    )
    async with sdk_module.OqcSdk(served_cli_emulator, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=GHZ4, qpu_id=LUCY_SIM, config=config, fetch_diagnostics=True)
        await job.execute(timeout_s=120)
        assert job.completed, job.error
        assert_ghz_counts(job.result.data["c"], 4, SHOTS)
        assert len(job.metrics["physical_qubit_indices"]) >= 4
        assert_ran_on_couplings(job.metrics, at_least=3)


async def test_sdk_tket_empty_refuses_the_uncoupled_pair(served_cli_emulator, sdk_mode):
    """``Tket(Empty)`` keeps program qubits as physical qubits: QAT refuses ``cx q[0],q[2]`` on the ring."""
    config = cc.CompilerConfig(
        repeats=SHOTS,
        results_format=cc.QuantumResultsFormat().binary_count(),
        optimizations=cc.Tket(tket_optimization=cc.TketOptimizations.Empty),
    )
    async with sdk_module.OqcSdk(served_cli_emulator, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=GHZ4, qpu_id=LUCY_SIM, config=config)
        await job.execute(timeout_s=120)
        assert not job.completed
        assert "coupled" in job.error.error_message.lower(), job.error
