"""OQCTketBackend end to end against the emulator: batches, results, cache, status, cancel, errors."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from pytket import Bit, Circuit, Qubit
from pytket.backends import CircuitNotValidError, ResultHandle
from pytket.backends.status import StatusEnum
from sympy import Symbol

from oqc_provider.engine import JobFailed
from oqc_provider.pytket import (
    CircuitCancelledError,
    HandleError,
    InvalidCircuitError,
    OQCTketBackend,
)
from oqc_provider.qcaas.errors import ConfigurationError, OqcProviderError, UnknownQpuError
from tests.pytket.conftest import bell_circuit


@pytest.mark.slow
def test_ccx_compiled_at_every_level_runs_and_is_right(lucy_sim: OQCTketBackend) -> None:
    circuit = Circuit(3, name="toffoli").X(0).X(1).CCX(0, 1, 2).measure_all()
    compiled = [lucy_sim.get_compiled_circuit(circuit, level) for level in range(4)]
    assert all(lucy_sim.valid_circuit(c) for c in compiled)
    results = lucy_sim.run_circuits(compiled, n_shots=50)
    for result in results:
        assert result.get_counts(circuit.bits) == Counter({(1, 1, 1): 50})


def test_per_circuit_shot_counts(lucy_sim: OQCTketBackend) -> None:
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    handles = lucy_sim.process_circuits([circuit] * 3, n_shots=[10, 200, 1234], seed=5)
    totals = [sum(lucy_sim.get_result(h, timeout=60).get_counts().values()) for h in handles]
    assert totals == [10, 200, 1234]


def test_results_are_keyed_by_the_circuits_own_bits(lucy_sim: OQCTketBackend) -> None:
    circuit = Circuit(3, name="registers")
    flags, data = circuit.add_c_register("flags", 2), circuit.add_c_register("data", 1)
    circuit.X(0).X(2)
    circuit.Measure(Qubit(0), flags[1]).Measure(Qubit(1), flags[0]).Measure(Qubit(2), data[0])
    compiled = lucy_sim.get_compiled_circuit(circuit)
    assert compiled.bits == circuit.bits
    result = lucy_sim.run_circuit(compiled, n_shots=20)
    assert result.get_counts(circuit.bits) == Counter({(1, 0, 1): 20})  # data[0], flags[0], flags[1]
    assert result.get_counts([Bit("flags", 1), Bit("flags", 0)]) == Counter({(1, 0): 20})
    assert result.get_counts([Bit("data", 0)]) == Counter({(1,): 20})


def test_shots_come_by_default_consistent_with_counts(lucy_sim: OQCTketBackend) -> None:
    """``get_shots()`` works without ``memory=True``, as on AerBackend (generic code relies on it)."""
    circuit = Circuit(2, name="bell-regs").H(0).CX(0, 1)
    a, b = circuit.add_c_register("a", 1), circuit.add_c_register("b", 1)
    circuit.Measure(Qubit(0), a[0]).Measure(Qubit(1), b[0])
    compiled = lucy_sim.get_compiled_circuit(circuit)
    assert lucy_sim.supports_shots and lucy_sim.supports_counts
    result = lucy_sim.run_circuit(compiled, n_shots=300, seed=3)
    shots = result.get_shots([a[0], b[0]])
    assert shots.shape == (300, 2)
    assert all(row[0] == row[1] for row in shots.tolist())  # the correlation survives two registers
    counts = Counter(tuple(row) for row in shots.tolist())
    assert counts == result.get_counts([a[0], b[0]])
    assert 100 < counts[(0, 0)] < 200


def test_seeds_make_runs_reproducible(lucy_sim: OQCTketBackend) -> None:
    circuit = lucy_sim.get_compiled_circuit(Circuit(3).H(0).H(1).Ry(0.3, 2).measure_all())
    first = lucy_sim.run_circuit(circuit, n_shots=500, seed=99).get_counts()
    second = lucy_sim.run_circuit(circuit, n_shots=500, seed=99).get_counts()
    assert first == second


def test_run_circuit_pop_result_and_empty_cache(lucy_sim: OQCTketBackend) -> None:
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    before = len(lucy_sim._cache)
    lucy_sim.run_circuit(circuit, n_shots=10)
    assert len(lucy_sim._cache) == before  # run_circuits pops what it added
    handle = lucy_sim.process_circuit(circuit, n_shots=10)
    result = lucy_sim.get_result(handle, timeout=60)
    entry = lucy_sim.pop_result(handle)
    assert entry is not None and entry["result"] is result
    assert lucy_sim.pop_result(handle) is None
    # Handles are persistent: after popping, the result is fetched again (from the job store).
    assert lucy_sim.get_result(handle).get_counts() == result.get_counts()
    lucy_sim.empty_cache()
    assert lucy_sim._cache == {}
    assert lucy_sim.get_result(handle).get_counts() == result.get_counts()


def test_status_of_a_completed_circuit(lucy_sim: OQCTketBackend) -> None:
    handle = lucy_sim.process_circuit(lucy_sim.get_compiled_circuit(bell_circuit()), n_shots=10)
    lucy_sim.get_result(handle, timeout=60)
    status = lucy_sim.circuit_status(handle)
    assert status.status is StatusEnum.COMPLETED and status.completed_time is not None


def test_queued_circuit_can_be_cancelled(slow_lucy: OQCTketBackend) -> None:
    handle = slow_lucy.process_circuit(slow_lucy.get_compiled_circuit(bell_circuit()), n_shots=10)
    assert slow_lucy.circuit_status(handle).status is StatusEnum.QUEUED
    slow_lucy.cancel(handle)
    assert slow_lucy.circuit_status(handle).status is StatusEnum.CANCELLED
    with pytest.raises(CircuitCancelledError):
        slow_lucy.get_result(handle, timeout=30)


@pytest.mark.slow
def test_get_result_waits_with_a_polling_interval(slow_lucy: OQCTketBackend) -> None:
    handle = slow_lucy.process_circuit(slow_lucy.get_compiled_circuit(bell_circuit()), n_shots=10)
    started = time.monotonic()
    result = slow_lucy.get_result(handle, timeout=60, wait=0.2)
    assert sum(result.get_counts().values()) == 10 and time.monotonic() - started < 30


@pytest.mark.slow
def test_result_timeout_leaves_the_handle_usable(slow_lucy: OQCTketBackend) -> None:
    handle = slow_lucy.process_circuit(slow_lucy.get_compiled_circuit(bell_circuit()), n_shots=10)
    with pytest.raises(TimeoutError) as info:
        slow_lucy.get_result(handle, timeout=0.2, wait=0.05)
    assert isinstance(info.value, OqcProviderError)
    assert sum(slow_lucy.get_result(handle, timeout=60).get_counts().values()) == 10


def test_a_circuit_the_qpu_rejects_reports_the_servers_message(lucy_sim: OQCTketBackend) -> None:
    # Sent with Tket(Empty), as every compiled circuit is: the service keeps the qubits, and an ECR
    # on a pair Lucy does not couple (0, 2) cannot run (with placement allowed it would be routed).
    uncoupled = Circuit(3, 2).ECR(0, 2).Measure(0, 0).Measure(2, 1)
    uncoupled.rename_units({Qubit(i): Qubit("node", i) for i in range(3)})
    handle = lucy_sim.process_circuit(uncoupled, n_shots=10, valid_check=False)
    # QAT's pipeline path refuses it for want of the pair's cross-resonance channel.
    with pytest.raises(JobFailed, match="cross_resonance' not found"):
        lucy_sim.get_result(handle, timeout=60)
    status = lucy_sim.circuit_status(handle)
    assert status.status is StatusEnum.ERROR and "not coupled" in status.message


def test_unknown_device_lists_the_available_ones(lucy_sim: OQCTketBackend) -> None:
    with pytest.raises(UnknownQpuError, match="Lucy Simulator"):
        OQCTketBackend("Lucie", session=lucy_sim._session)


def test_shots_above_the_maximum_are_refused(lucy_sim: OQCTketBackend) -> None:
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    with pytest.raises(ConfigurationError, match="maximum of 100000"):
        lucy_sim.process_circuits([circuit], n_shots=100_001)


def test_unbound_symbols_are_refused_by_name(lucy_sim: OQCTketBackend) -> None:
    circuit = lucy_sim.get_compiled_circuit(Circuit(1).Ry(Symbol("theta"), 0).measure_all())
    with pytest.raises(InvalidCircuitError, match=r"\['theta'\]") as info:
        lucy_sim.process_circuits([circuit], n_shots=10)
    assert info.value.predicate == "NoSymbolsPredicate" and info.value.index == 0


def test_uncompiled_circuit_is_refused_with_the_fix(lucy_sim: OQCTketBackend) -> None:
    compiled = lucy_sim.get_compiled_circuit(bell_circuit())
    with pytest.raises(CircuitNotValidError, match="get_compiled_circuit") as info:
        lucy_sim.process_circuits([compiled, Circuit(2).CX(0, 1).measure_all()], n_shots=10)
    assert isinstance(info.value, OqcProviderError) and info.value.index == 1


def test_handles_of_another_qpu_or_backend_are_refused(lucy_sim: OQCTketBackend) -> None:
    handle = lucy_sim.process_circuit(lucy_sim.get_compiled_circuit(bell_circuit()), n_shots=10)
    foreign = ResultHandle(handle[0], handle[1], "qpu:jp:3:673b1ad43c", handle[3], handle[4])
    with pytest.raises(HandleError, match="OQCTketBackend\\('qpu:jp:3:673b1ad43c'\\)"):
        lucy_sim.get_result(foreign)
    with pytest.raises(HandleError):
        lucy_sim.circuit_status(ResultHandle("job-id", 3))
    damaged = ResultHandle("no-such-job", 0, handle[2], "not-a-task-id", handle[4])
    with pytest.raises(HandleError, match="'not-a-task-id', which is not a task id"):
        lucy_sim.get_result(damaged)


def test_available_devices_and_backend_info(lucy_sim: OQCTketBackend) -> None:
    infos = OQCTketBackend.available_devices(session=lucy_sim._session)
    assert sorted(info.device_name for info in infos) == ["Lucy", "Lucy Simulator", "Toshiko"]
    info = lucy_sim.backend_info
    assert info.device_name == "Lucy Simulator" and len(info.architecture.nodes) == 8
    assert info.supports_reset and info.misc["qpu_id"] == lucy_sim.qpu.qpu_id


def test_batch_is_recorded_before_it_is_sent(tmp_path) -> None:
    """The service refuses the submit request: the batch is already in the store, with its task ids."""
    from starlette.responses import JSONResponse

    from oqc_provider.engine.store import JobStore
    from tests.pytket.conftest import make_backend

    async def refuse_submissions(request, template):
        if request.method == "POST" and template.endswith("/submit"):
            return JSONResponse({"detail": "Submissions are closed"}, status_code=400)
        return None

    backend, app = make_backend(tmp_path / "jobs", fault_injector=refuse_submissions)
    try:
        circuit = backend.get_compiled_circuit(bell_circuit(), 0)
        with pytest.raises(JobFailed, match="Submissions are closed"):
            backend.process_circuits([circuit, circuit], n_shots=10)
        (entry,) = JobStore(tmp_path / "jobs").list()
        snapshot = JobStore(tmp_path / "jobs").read(entry.job_id)
        assert entry.kind == "pytket" and [job.task_id is not None for job in snapshot.jobs] == [True, True]
    finally:
        backend.close()
        app.state.emulator.close()
