"""A Bell pair on OQC's Lucy Simulator through Qiskit: transpile, run, read counts.

    python examples/qiskit_bell.py

With nothing configured this runs on the built-in emulator (no account, no network). Set OQC_URL and
OQC_AUTHENTICATION_TOKEN and the same script runs on OQC's cloud.
"""

from __future__ import annotations

from qiskit import QuantumCircuit, transpile

from oqc_provider import OQCProvider


def main() -> dict[str, int]:
    with OQCProvider() as provider:
        print(provider)
        backend = provider.get_backend("Lucy Simulator")
        bell = QuantumCircuit(2, 2, name="bell")
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        circuit = transpile(bell, backend)  # rz, sx, x and ECR on Lucy's directed couplings
        job = backend.run(circuit, shots=1000, seed_simulator=42)
        print("job id:", job.job_id())
        counts = job.result(timeout=120).get_counts("bell")
        print("counts:", counts)
        assert set(counts) <= {"00", "11"}, counts
        return counts


if __name__ == "__main__":
    main()
