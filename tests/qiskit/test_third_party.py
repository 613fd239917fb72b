"""Generic Qiskit clients over the backend: BackendSamplerV2, BackendEstimatorV2, qiskit-experiments."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from oqc_provider.qiskit import OQCBackend, OQCProvider


def test_backend_sampler_v2_bell_statistics(lucy_sim: OQCBackend, bell: QuantumCircuit) -> None:
    manager = generate_preset_pass_manager(optimization_level=1, backend=lucy_sim, seed_transpiler=5)
    sampler = BackendSamplerV2(backend=lucy_sim, options={"seed_simulator": 12})
    result = sampler.run([manager.run(bell)], shots=4000).result()
    counts = result[0].data.c.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 4000
    assert abs(counts["00"] / 4000 - 0.5) < 0.04
    assert result[0].data.c.num_bits == 2


def test_backend_sampler_v2_keeps_registers_apart(lucy_sim: OQCBackend) -> None:
    from qiskit import ClassicalRegister, QuantumRegister

    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(1, "a"), ClassicalRegister(2, "b"))
    circuit.x(0)
    circuit.measure(0, 0)  # a = 1
    circuit.measure(0, 2)  # b = 10 (b[1] = 1)
    manager = generate_preset_pass_manager(optimization_level=1, backend=lucy_sim)
    result = BackendSamplerV2(backend=lucy_sim).run([manager.run(circuit)], shots=50).result()
    assert result[0].data.a.get_counts() == {"1": 50}
    assert result[0].data.b.get_counts() == {"10": 50}


def test_backend_estimator_v2_on_a_bell_pair(lucy_sim: OQCBackend) -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    manager = generate_preset_pass_manager(optimization_level=1, backend=lucy_sim, seed_transpiler=5)
    isa = manager.run(circuit)
    observables = [SparsePauliOp(label).apply_layout(isa.layout) for label in ("ZZ", "XX", "ZI")]
    estimator = BackendEstimatorV2(backend=lucy_sim, options={"default_precision": 0.02, "seed_simulator": 3})
    values = estimator.run([(isa, observables)]).result()[0].data.evs
    assert values[0] == pytest.approx(1.0, abs=1e-9)  # ZZ: always correlated on a noiseless device
    assert values[1] == pytest.approx(1.0, abs=1e-9)
    assert values[2] == pytest.approx(0.0, abs=0.1)


@pytest.fixture(scope="module")
def noisy_lucy(provider: OQCProvider) -> OQCBackend:
    return provider.get_backend("Lucy")


@pytest.mark.parametrize("backend_run", [False, True], ids=["sampler", "backend_run"])
@pytest.mark.slow
def test_qiskit_experiments_readout_error_matches_the_target(
    noisy_lucy: OQCBackend, backend_run: bool
) -> None:
    """LocalReadoutError prepares |0> and |1> on each qubit; its fitted assignment matrices must
    show the readout errors the Target advertises (the emulator's noise comes from the same figures)."""
    from qiskit_experiments.library import LocalReadoutError

    qubits = [0, 1, 2]
    experiment = LocalReadoutError(physical_qubits=qubits, backend=noisy_lucy)
    experiment.set_run_options(shots=4000, seed_simulator=21)
    data = experiment.run(backend_run=backend_run).block_for_results(timeout=120)
    assert data.analysis_status().name == "DONE", data.analysis_errors()
    mitigator = data.analysis_results("Local Readout Mitigator", dataframe=True).iloc[0].value
    for qubit in qubits:
        matrix = mitigator.assignment_matrix(qubit)
        measured = (matrix[1, 0] + matrix[0, 1]) / 2
        advertised = noisy_lucy.target["measure"][(qubit,)].error
        assert measured == pytest.approx(advertised, abs=0.012), qubit
