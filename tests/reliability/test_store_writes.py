"""How often the local job store writes a batch: once per real change, whatever the batch size.

The store counts the entries it writes (``JobStore.writes``: each an atomic replacement of one
file); the front ends run over HTTP against an in-process emulator. A run is written

1. when it is submitted, before any request leaves (the write-ahead: the batch, no ids yet);
2. with its task ids, before the submit request leaves (so nothing on the server is ever unknown);
3. once submitted (the tasks are on the server) - merged into 4 when the same call goes on waiting;
4. once it has ended (every result), however many polling rounds that took.

Before the events (issue 23) ``backend.run`` + ``result()`` wrote 4 times and ``execute()`` 4 times,
the CLI's ``run`` 5 times, and pytket's saves were hand-placed around every call.
"""

from __future__ import annotations

import httpx
import pytest
from pytket import Circuit
from qiskit import QuantumCircuit, transpile

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.engine import CompositeJob
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qiskit import OQCProvider
from tests.reliability.helpers import SHOTS, InProcess, program

#: Write-ahead (before the first request) + ids (before the submit request) + submitted + ended.
SUBMIT_THEN_WAIT = 4
#: The same when one call submits and waits (execute): "submitted" is recorded with the end.
EXECUTE = 3


@pytest.fixture
def app():
    app = create_app(EmulatorSettings(seed=5))
    yield app
    app.state.emulator.close()


@pytest.mark.parametrize("circuits", [1, 100])
def test_qiskit_run_of_a_batch_writes_it_four_times_whatever_its_size(app, tmp_path, circuits: int) -> None:
    store = JobStore(tmp_path / "jobs")
    transport = httpx.ASGITransport(app=app)
    with OQCProvider(url="http://emulator.test", transport=transport, job_store=store) as provider:
        backend = provider.get_backend("Lucy Simulator")
        bit = QuantumCircuit(1, 1)
        bit.x(0)
        bit.measure(0, 0)
        job = backend.run([transpile(bit, backend)] * circuits, shots=10)
        assert store.writes >= 1 and store.path_for(job.job_id()).is_file()  # on disk when run() returns
        result = job.result(timeout=120)
    assert result.success and len(result.results) == circuits
    assert store.writes == SUBMIT_THEN_WAIT
    assert store.read(job.job_id()).jobs[-1].state == "COMPLETED"
    job.result()  # a finished job's result is read from memory: no write
    job.status()
    assert store.writes == SUBMIT_THEN_WAIT


def test_pytket_process_circuits_then_get_results_writes_the_batch_four_times(app, tmp_path) -> None:
    store = JobStore(tmp_path / "jobs")
    transport = httpx.ASGITransport(app=app)
    backend = OQCTketBackend(
        "Lucy Simulator", url="http://emulator.test", transport=transport, job_store=store
    )
    with backend:
        circuit = Circuit(1, 1).X(0).Measure(0, 0)
        handles = backend.process_circuits(backend.get_compiled_circuits([circuit] * 100), n_shots=10)
        results = backend.get_results(handles, timeout=120)
        assert all(result.get_counts() == {(1,): 10} for result in results)
        assert store.writes == SUBMIT_THEN_WAIT
        for handle in handles[:3]:  # finished circuits: nothing changes, nothing is written
            backend.circuit_status(handle)
        assert store.writes == SUBMIT_THEN_WAIT


async def test_execute_of_a_batch_writes_it_three_times(tmp_path) -> None:
    emulator = InProcess(seed=3)
    try:
        store = JobStore(tmp_path / "jobs")
        async with emulator.sdk(job_store=store) as sdk:
            batch = sdk.create_job(program=[program(i) for i in range(100)], config=SHOTS)
            assert isinstance(batch, CompositeJob)
            await batch.execute(timeout_s=120)
            assert batch.completed and store.writes == EXECUTE
            await batch.refresh()  # nothing left to read: no change, no write
            assert store.writes == EXECUTE
            await batch.execute(timeout_s=120)  # a fresh run of every child: written as often
            assert batch.completed and store.writes == 2 * EXECUTE
        saved = store.read(job_id_of(batch))
        assert [child.state for child in saved.jobs] == ["COMPLETED"] * 100
    finally:
        emulator.close()
