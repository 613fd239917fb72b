"""Jobs outlive the process: save a job, then find it again by id or from the file.

    python examples/qiskit_jobs.py

Every job is recorded in the local job store (under OQC_PROVIDER_HOME, or the platform's user data
folder) before it is sent, so ``backend.retrieve_job(job_id)`` works in a new Python session too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from qiskit import QuantumCircuit, transpile

from oqc_provider import OQCJob, OQCProvider


def main() -> dict[str, int]:
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        circuit = QuantumCircuit(3, 3, name="ghz")
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.cx(1, 2)
        circuit.measure(range(3), range(3))
        job = backend.run(transpile(circuit, backend), shots=500)
        path = Path(tempfile.mkdtemp()) / "ghz-job.json"
        job.save(path)
        print(f"saved job {job.job_id()} to {path}; status {job.status().name}")

        again = backend.retrieve_job(job.job_id())
        counts = again.result(timeout=120).get_counts("ghz")
        print("retrieved by id:", counts)
        from_file = OQCJob.load(path, provider).result(timeout=120).get_counts("ghz")
        print("loaded from file:", from_file)
        for entry in provider.jobs()[:3]:
            print(f"  {entry.job_id}  {entry.backend}  {entry.state}  circuits={entry.circuits}")
        return counts


if __name__ == "__main__":
    main()
