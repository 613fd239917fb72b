"""Swap OQC into a benchmark: a GHZ sweep as one run(), results by circuit name, and qiskit-experiments.

    python examples/benchmark_swap.py [BACKEND]      # default "Lucy Simulator"; try "Lucy" or "Toshiko"

A benchmark suite needs one backend object; everything else is the suite's own code. The whole sweep is one
job (one batch of tasks, one polling loop), and every circuit's name and metadata survive into the Result.
"""

from __future__ import annotations

import sys

from qiskit import QuantumCircuit, transpile

from oqc_provider import OQCProvider

SHOTS = 1000


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, n, name=f"ghz_{n}", metadata={"size": n})
    circuit.h(0)
    for qubit in range(n - 1):
        circuit.cx(qubit, qubit + 1)
    circuit.measure(range(n), range(n))
    return circuit


def ghz_sweep(backend, sizes: range) -> dict[str, float]:
    """The benchmark: GHZ 'fidelity' (share of all-0 and all-1 outcomes) for each size, in one run."""
    circuits = [ghz(n) for n in sizes]
    job = backend.run(transpile(circuits, backend, seed_transpiler=1), shots=SHOTS, seed_simulator=11)
    print(f"one job for {len(circuits)} circuits: {job.job_id()}  (oqc-provider jobs show {job.job_id()})")
    result = job.result(timeout=300)
    scores = {}
    for circuit in circuits:
        n = circuit.metadata["size"]
        counts = result.get_counts(circuit.name)  # names survive the round trip
        scores[circuit.name] = (counts.get("0" * n, 0) + counts.get("1" * n, 0)) / SHOTS
        print(f"counts: {circuit.name}: fidelity {scores[circuit.name]:.3f}")
    return scores


def readout_experiment(backend) -> float | None:
    """qiskit-experiments' LocalReadoutError on two qubits, when qiskit-experiments is installed."""
    try:
        from qiskit_experiments.library import LocalReadoutError
    except ImportError:
        print("qiskit-experiments is not installed: skipping the readout experiment")
        return None
    experiment = LocalReadoutError(physical_qubits=[0, 1], backend=backend)
    experiment.set_run_options(shots=SHOTS, seed_simulator=5)
    data = experiment.run(backend_run=True).block_for_results(timeout=300)
    mitigator = data.analysis_results("Local Readout Mitigator", dataframe=True).iloc[0].value
    matrix = mitigator.assignment_matrix(0)
    measured = float(matrix[1, 0] + matrix[0, 1]) / 2
    advertised = backend.target["measure"][(0,)].error
    print(f"readout error of qubit 0: measured {measured:.4f}, Target says {advertised:.4f}")
    return measured


def main(name: str = "Lucy Simulator") -> dict[str, float]:
    with OQCProvider() as provider:
        backend = provider.get_backend(name)
        print(f"benchmarking {backend.name} ({backend.num_qubits} qubits) via {provider}")
        scores = ghz_sweep(backend, range(2, 7))
        readout_experiment(backend)
        return scores


if __name__ == "__main__":
    results = main(sys.argv[1] if len(sys.argv) > 1 else "Lucy Simulator")
    assert list(results) == [f"ghz_{n}" for n in range(2, 7)], results
