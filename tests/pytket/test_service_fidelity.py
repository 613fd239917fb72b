"""What the pytket front end tells the service, and how it reads the answer (issue 12).

* Shots come from QAT's ``raw()`` shape (per-bit lists of per-shot readout values, 0 when > 0),
  by default, so ``get_shots()`` works as on AerBackend and counts are made from the same shots.
* Compiled circuits go with ``Tket(Empty)`` so the service keeps the nodes pytket chose; the config
  is read back from the emulator's task over HTTP.
* Seeds go to simulators only; classically controlled circuits fail the backend's predicates.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import pytest
from pytket import Bit, Circuit, OpType, Qubit
from pytket.backends import ResultHandle
from pytket.circuit import Node
from pytket.predicates import NoClassicalControlPredicate

from oqc_provider.pytket import InvalidCircuitError, OQCTketBackend
from oqc_provider.pytket.handles import HandleData
from oqc_provider.pytket.results import backend_result
from oqc_provider.qcaas.compiler_config import CompilerConfig, Tket, TketOptimizations
from oqc_provider.qcaas.errors import ProtocolError
from oqc_provider.run_options import KEEP_LAYOUT, RunOptions
from tests.pytket.conftest import make_backend


def _stored_configs(backend: OQCTketBackend, handles: list[ResultHandle]) -> list[CompilerConfig]:
    """Each handle's task config as the emulator stored it, read over HTTP."""
    session = backend._session

    async def read() -> list[CompilerConfig]:
        client = await session.sdk.client()
        out = []
        for handle in handles:
            data = HandleData.from_handle(handle)
            info = await client.get_task(data.qpu_id, data.task_id)
            out.append(CompilerConfig.from_json(info.config))
        return out

    return session.run(read())


def _placed_on_6_and_5() -> Circuit:
    """A circuit placed by hand on Lucy's nodes 6 -> 5 (a directed ECR coupling)."""
    circuit = Circuit(8, 2).X(6).ECR(6, 5).Measure(Qubit(6), Bit(0)).Measure(Qubit(5), Bit(1))
    circuit.rename_units({Qubit(i): Node(i) for i in range(8)})
    return circuit


# --- decoding QAT's raw shape ------------------------------------------------------------------


def test_raw_readout_values_decode_by_sign() -> None:
    bits = [Bit("c", 0), Bit("flag", 0)]
    result = backend_result({"c": [[1.0, -1.0, 0.25, 0.0], [-0.5, -1.0, 1.0, 3.0]]}, bits)
    assert result.get_shots().tolist() == [[0, 1], [1, 1], [0, 0], [1, 0]]
    assert result.get_counts() == Counter({(0, 1): 1, (1, 1): 1, (0, 0): 1, (1, 0): 1})
    assert result.get_counts([Bit("flag", 0)]) == Counter({(1,): 2, (0,): 2})


def test_unmeasured_bits_and_single_shots_as_qat_writes_them() -> None:
    bits = [Bit("c", 0), Bit("c", 1)]
    assert backend_result({"c": [0, [-1.0, 1.0]]}, bits).get_shots().tolist() == [[0, 1], [0, 0]]
    assert backend_result({"c": [-1.0, 0]}, bits).get_shots().tolist() == [[1, 0]]
    assert backend_result({"c": [0, 0]}, bits, shots=2).get_counts() == Counter({(0, 0): 2})


def test_zero_one_integers_are_not_bits() -> None:
    """No special case for the old emulator-only 0/1 shape: 1 > 0 reads as outcome 0."""
    result = backend_result({"c": [[1, 0]]}, [Bit("c", 0)])
    assert result.get_shots().tolist() == [[0], [1]]


@pytest.mark.parametrize(
    "register",
    [[1.0, [-1.0, 1.0]], [[1.0, -1.0]], [[1.0], [1.0, -1.0]], [["1"], ["0"]], [[None], [1.0]]],
    ids=["mixed-shot-counts", "too-few-bits", "ragged", "strings", "null"],
)
def test_documents_not_in_the_raw_shape_are_refused(register: Any) -> None:
    with pytest.raises(ProtocolError):
        backend_result({"c": register}, [Bit("c", 0), Bit("c", 1)])


# --- shots by default --------------------------------------------------------------------------


def test_generic_shot_code_runs_unchanged(lucy_sim: OQCTketBackend) -> None:
    """What qermit's gen_shot_split_MitRes does with any backend that supports shots: submit without
    backend-specific keywords, then read ``get_shots()`` and rebuild counts from them."""
    assert lucy_sim.supports_shots
    circuit = Circuit(3).H(0).CX(0, 1).X(2).measure_all()
    compiled = lucy_sim.get_compiled_circuits([circuit, circuit.copy()])
    handles = lucy_sim.process_circuits(compiled, n_shots=[200, 100])
    results = lucy_sim.get_results(handles)
    for result, shots in zip(results, (200, 100), strict=True):
        table = result.get_shots(circuit.bits)
        assert table.shape == (shots, 3)
        assert Counter(map(tuple, table.tolist())) == result.get_counts(circuit.bits)
        assert set(result.get_counts(circuit.bits)) <= {(0, 0, 1), (1, 1, 1)}


def test_readout_mitigation_keeps_to_counts(tmp_path: Any) -> None:
    """Readout mitigation applies to the counts format only: that run asks for counts."""
    from oqc_provider.qcaas.compiler_config import ErrorMitigationConfig

    backend, app = make_backend(tmp_path, seed=1)
    try:
        mitigated = OQCTketBackend(
            "Lucy Simulator",
            session=backend._session,
            job_store=tmp_path,
            options=RunOptions(error_mitigation=ErrorMitigationConfig.LinearMitigation),
        )
        compiled = mitigated.get_compiled_circuit(Circuit(1).X(0).measure_all())
        handle = mitigated.process_circuit(compiled, n_shots=50)
        assert mitigated.get_result(handle, timeout=60).get_counts() == Counter({(1,): 50})
        (config,) = _stored_configs(mitigated, [handle])
        assert config.is_binary_count
    finally:
        backend.close()
        app.state.emulator.close()


# --- what the service is told ------------------------------------------------------------------


def test_compiled_circuits_go_with_tket_empty(lucy_sim: OQCTketBackend) -> None:
    """A circuit placed on 6 -> 5 must run there: the service is told not to move it."""
    circuit = _placed_on_6_and_5()
    handle = lucy_sim.process_circuit(circuit, n_shots=40)
    assert lucy_sim.get_result(handle, timeout=60).get_shots().shape == (40, 2)
    (config,) = _stored_configs(lucy_sim, [handle])
    assert config.optimizations == Tket(tket_optimizations=TketOptimizations.Empty) == KEEP_LAYOUT


@pytest.mark.parametrize(
    ("option", "sent"),
    [("service", None), (None, None), ("two", Tket(tket_optimizations=TketOptimizations.Two))],
)
@pytest.mark.slow
def test_server_side_optimisation_is_opt_in(lucy_sim: OQCTketBackend, option: object, sent: object) -> None:
    compiled = lucy_sim.get_compiled_circuit(Circuit(2).H(0).CX(0, 1).measure_all())
    handle = lucy_sim.process_circuit(compiled, n_shots=20, optimizations=option)
    lucy_sim.get_result(handle, timeout=60)
    assert [c.optimizations for c in _stored_configs(lucy_sim, [handle])] == [sent]


def test_physical_qubits_with_diagnostics(tmp_path: Any) -> None:
    backend, app = make_backend(tmp_path, seed=1)
    try:
        placed = OQCTketBackend(
            "Lucy Simulator",
            session=backend._session,
            job_store=tmp_path,
            options=RunOptions(fetch_diagnostics=True),
        )
        circuit = _placed_on_6_and_5()
        handle = placed.process_circuit(circuit, n_shots=10)
        placed.get_result(handle, timeout=60)
        assert placed.physical_qubits(handle) == [5, 6]
    finally:
        backend.close()
        app.state.emulator.close()


@pytest.mark.slow
def test_seeds_go_to_simulators_only(tmp_path: Any) -> None:
    backend, app = make_backend(tmp_path, seed=1)
    try:
        simulator = OQCTketBackend("Lucy Simulator", session=backend._session, job_store=tmp_path)
        hardware = OQCTketBackend("Lucy", session=backend._session, job_store=tmp_path)
        circuit = Circuit(1).X(0).measure_all()
        handles = simulator.process_circuits(simulator.get_compiled_circuits([circuit] * 2), 10, seed=4)
        jobs = [simulator._locate(h)[1] for h in handles]
        assert [job.external_config for job in jobs] == [{"seed": 4}, {"seed": 5}]
        compiled = hardware.get_compiled_circuits([circuit] * 2)
        with pytest.warns(UserWarning, match="not a simulator") as record:
            handles = hardware.process_circuits(compiled, 10, seed=4)
        assert len(record) == 1
        assert [hardware._locate(h)[1].external_config for h in handles] == [None, None]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per backend
            hardware.get_results(hardware.process_circuits(compiled, 10, seed=4), timeout=60)
    finally:
        backend.close()
        app.state.emulator.close()


def test_classical_control_fails_the_predicates(lucy_sim: OQCTketBackend) -> None:
    assert any(isinstance(p, NoClassicalControlPredicate) for p in lucy_sim.required_predicates)
    circuit = Circuit(2, 2).X(0).Measure(0, 0)
    circuit.X(1, condition_bits=[0], condition_value=1)
    circuit.Measure(1, 1)
    compiled = lucy_sim.get_compiled_circuit(circuit)
    assert any(cmd.op.type == OpType.Conditional for cmd in compiled)
    with pytest.raises(InvalidCircuitError, match="classically controlled") as caught:
        lucy_sim.process_circuit(compiled, n_shots=10)
    assert caught.value.predicate == "NoClassicalControlPredicate"
