"""What the Qiskit front end tells the service, and how it reads the answer (issue 12).

* Per-shot results are decoded from QAT's ``raw()`` shape: one list per register bit of per-shot
  readout values, 0 when the value is above zero, else 1 (contract §1).
* Circuits compiled for the Target go with ``Tket(Empty)``, so the service keeps their qubits; the
  config is read back from the emulator's task over HTTP (contract §3).
* Seeds go to simulators only; conditionals are refused before anything is sent.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile

from oqc_provider.qcaas.compiler_config import CompilerConfig, Tket, TketOptimizations
from oqc_provider.qcaas.errors import ProtocolError
from oqc_provider.qiskit import ConditionalOperationError, OQCBackend, OQCJob, OQCProvider
from oqc_provider.qiskit.results import CircuitRecord, experiment_data, shot_values
from oqc_provider.run_options import KEEP_LAYOUT
from tests.qiskit.conftest import _provider


@pytest.fixture
def own_provider(tmp_path: Path) -> Iterator[OQCProvider]:
    """A provider of its own, for tests that change backend state (options, the seed warning):
    backends are shared per provider, so the session's must not be changed."""
    provider, app = _provider(tmp_path, seed=1)
    yield provider
    provider.close()
    app.state.emulator.close()  # type: ignore[attr-defined]


def _stored_config(provider: OQCProvider, job: OQCJob) -> list[CompilerConfig]:
    """Each task's config as the emulator stored it, read over HTTP."""
    session = provider.session

    async def read() -> list[CompilerConfig]:
        client = await session.sdk.client()
        infos = [await client.get_task(child.qpu_id, child.task_id) for child in job.composite.jobs]
        return [CompilerConfig.from_json(info.config) for info in infos]

    return session.run(read())


# --- decoding QAT's raw shape ------------------------------------------------------------------


def _two_registers() -> CircuitRecord:
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    return CircuitRecord.of(circuit, registers=(("a", (0, 1)), ("b", (2,))), raw=True)


def test_raw_values_are_read_by_their_sign() -> None:
    """Readout values, not bits: > 0 is outcome 0, anything else (0.0 included) outcome 1."""
    record = _two_registers()
    document = {"a": [[1.0, -1.0, 0.37, 0.0], [-1.0, -1.0, 2.5, -0.01]], "b": [[1.0, 1.0, -3.0, 1.0]]}
    assert shot_values(document, record.registers) == [0b010, 0b011, 0b100, 0b011]
    data = experiment_data(document, record, memory=True)
    assert data.memory == ["0x2", "0x3", "0x4", "0x3"]
    assert data.counts == {"0x2": 1, "0x3": 2, "0x4": 1}


def test_unmeasured_bits_and_single_shots_as_qat_writes_them() -> None:
    """QAT writes the integer 0 for a bit never measured (it reads 0, as in Aer), and collapses each
    bit's list to its value when there is one shot."""
    record = _two_registers()
    assert shot_values({"a": [0, [-1.0, 1.0]], "b": [[-1.0, -1.0]]}, record.registers) == [0b110, 0b100]
    assert shot_values({"a": [-1.0, 0], "b": [1.0]}, record.registers) == [0b001]
    assert shot_values({"a": [0, 0], "b": [0]}, record.registers, shots=3) == [0, 0, 0]


def test_zero_one_integers_are_not_bits() -> None:
    """The old emulator-only shape (0/1 ints) is not special-cased: 1 > 0 reads as outcome 0."""
    record = _two_registers()
    assert shot_values({"a": [[1, 0], [1, 0]], "b": [[1, 0]]}, record.registers) == [0b000, 0b111]


@pytest.mark.parametrize(
    "document",
    [
        {"a": [1.0, [-1.0, 1.0]], "b": [[1.0, 1.0]]},  # one shot for a bit, two for another
        {"a": [[1.0], [-1.0], [1.0]], "b": [[1.0]]},  # three bits for a two-bit register
        {"a": [[1.0, 1.0], [-1.0]], "b": [[1.0, 1.0]]},  # bits with different shot counts
        {"a": [["0", "1"], ["1", "1"]], "b": [["1", "0"]]},  # strings are not readout values
    ],
)
def test_documents_not_in_the_raw_shape_are_refused(document: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        shot_values(document, _two_registers().registers)


def test_memory_and_joint_counts_agree_end_to_end(lucy_sim: OQCBackend) -> None:
    """Two registers and memory=True both come from the raw format; counts are made from the shots."""
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    circuit.x(0)
    circuit.h(2)
    circuit.measure([0, 1, 2], [0, 1, 2])
    result = lucy_sim.run(transpile(circuit, lucy_sim), shots=300, memory=True).result(timeout=60)
    memory = result.get_memory()
    counts = result.get_counts()
    assert set(counts) == {"0 01", "1 01"} and sum(counts.values()) == 300
    assert {key: memory.count(key) for key in counts} == counts


# --- what the service is told ------------------------------------------------------------------


def test_transpiled_circuits_go_with_tket_empty(provider: OQCProvider, lucy_sim: OQCBackend) -> None:
    """The service must not re-place a circuit the user transpiled onto qubits 4 and 5."""
    circuit = QuantumCircuit(2, 2, name="pair")
    circuit.x(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    placed = transpile(circuit, lucy_sim, initial_layout=[5, 4], seed_transpiler=1)
    job = lucy_sim.run(placed, shots=50)
    assert job.result(timeout=60).get_counts() == {"11": 50}
    (config,) = _stored_config(provider, job)
    assert config.optimizations == Tket(tket_optimizations=TketOptimizations.Empty) == KEEP_LAYOUT
    assert "q[4]" in job.composite.jobs[0].program and "q[5]" in job.composite.jobs[0].program


@pytest.mark.parametrize(
    ("option", "sent"),
    [
        ("service", None),
        ("two", Tket(tket_optimizations=TketOptimizations.Two)),
        (TketOptimizations.One, Tket(tket_optimizations=TketOptimizations.One)),
    ],
)
@pytest.mark.slow
def test_server_side_optimisation_is_opt_in(
    provider: OQCProvider, lucy_sim: OQCBackend, bell: QuantumCircuit, option: object, sent: object
) -> None:
    job = lucy_sim.run(transpile(bell, lucy_sim), shots=20, optimizations=option)
    job.result(timeout=60)
    assert [config.optimizations for config in _stored_config(provider, job)] == [sent]


def test_set_options_changes_the_default_for_later_runs(
    own_provider: OQCProvider, bell: QuantumCircuit
) -> None:
    backend = own_provider.get_backend("Lucy Simulator")
    backend.set_options(optimizations="service")
    job = backend.run(transpile(bell, backend), shots=20)
    job.result(timeout=60)
    assert _stored_config(own_provider, job)[0].optimizations is None


def test_physical_qubits_are_reported_with_diagnostics(lucy_sim: OQCBackend, bell: QuantumCircuit) -> None:
    placed = transpile(bell, lucy_sim, initial_layout=[6, 5], seed_transpiler=1)
    result = lucy_sim.run(placed, shots=20, fetch_diagnostics=True).result(timeout=60)
    assert result.results[0].header["physical_qubits"] == [5, 6]
    plain = lucy_sim.run(placed, shots=20).result(timeout=60)
    assert "physical_qubits" not in plain.results[0].header


@pytest.mark.slow
def test_seeds_go_to_simulators_only(own_provider: OQCProvider, bell: QuantumCircuit) -> None:
    provider = own_provider
    simulator = provider.get_backend("Lucy Simulator")
    job = simulator.run(transpile(bell, simulator), shots=10, seed_simulator=3)
    assert [child.external_config for child in job.composite.jobs] == [{"seed": 3}]
    hardware = provider.get_backend("Lucy")
    circuits = transpile([bell, bell], hardware)
    with pytest.warns(UserWarning, match="not a simulator") as record:
        job = hardware.run(circuits, shots=10, seed_simulator=3)
    assert len(record) == 1
    assert [child.external_config for child in job.composite.jobs] == [None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per backend: the second run is quiet
        hardware.run(circuits, shots=10, seed_simulator=3).result(timeout=60)
    job.result(timeout=60)


def test_classical_control_is_refused_before_sending(lucy_sim: OQCBackend) -> None:
    offered = lucy_sim.target.operation_names
    assert not {"if_else", "while_loop", "for_loop", "switch_case"} & set(offered)
    circuit = QuantumCircuit(2, 2, name="feedback")
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    before = {entry.job_id for entry in lucy_sim.provider.job_store.list()}
    with pytest.raises(ConditionalOperationError, match=r"classically controlled.*If's"):
        lucy_sim.run(circuit)
    assert {entry.job_id for entry in lucy_sim.provider.job_store.list()} == before
