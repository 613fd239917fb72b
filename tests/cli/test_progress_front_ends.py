"""Progress bars where users wait: engine ``execute``, Qiskit ``result()``, pytket ``get_results``.

``OQC_PROVIDER_PROGRESS=1`` forces the bar on (pytest's captured stderr is not a terminal), so
each test reads what the bar drew: the batch's tasks done out of total.
"""

from __future__ import annotations

import pytest
from pytket import Circuit
from qiskit import QuantumCircuit

from oqc_provider.engine import CompositeJob, OqcSdk
from oqc_provider.engine.progress import PROGRESS_ENV, progress_for

X_QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


@pytest.fixture
def bar_forced_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROGRESS_ENV, "1")


async def test_engine_execute_shows_a_bar_and_a_nested_bar_draws_once(
    bar_forced_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
        batch = sdk.create_job(program=[X_QASM] * 5)
        assert isinstance(batch, CompositeJob)
        await batch.execute(timeout_s=60)
        assert "5/5" in capsys.readouterr().err
        with progress_for(batch, description="outer"):  # execute's own bar stays hidden
            await batch.execute(timeout_s=60)
        drawn = capsys.readouterr().err
        assert "outer" in drawn and drawn.count("5/5") == 1
        await batch.execute(timeout_s=60, progress=False)
        assert capsys.readouterr().err == ""


def test_qiskit_result_shows_a_bar(bar_forced_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    from oqc_provider import OQCProvider

    circuit = QuantumCircuit(1, 1)
    circuit.x(0)
    circuit.measure(0, 0)
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        counts = backend.run([circuit] * 3, shots=50).result().get_counts()
    assert counts == [{"1": 50}] * 3
    drawn = capsys.readouterr().err
    assert "Lucy Simulator" in drawn and "3/3" in drawn


def test_pytket_get_results_shows_a_bar(bar_forced_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    from oqc_provider import OQCTketBackend

    with OQCTketBackend("Lucy Simulator") as backend:
        circuit = backend.get_compiled_circuit(Circuit(1).X(0).measure_all())
        handles = backend.process_circuits([circuit] * 4, n_shots=50)
        results = backend.get_results(handles, timeout=60)
    assert [r.get_counts() for r in results] == [{(1,): 50}] * 4
    drawn = capsys.readouterr().err
    assert "Lucy Simulator" in drawn and "4/4" in drawn
