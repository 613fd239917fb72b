"""Qiskit V2 primitives whose jobs are OQC jobs: Bell statistics, a <ZZ> sweep, and the job found again.

``OQCSamplerV2`` / ``OQCEstimatorV2`` send every PUB and parameter binding of one ``run()`` as one
OQC job, recorded in the local job store: ``OQCProvider().job(job_id)`` finds it in any process.
(Qiskit's ``BackendSamplerV2`` / ``BackendEstimatorV2`` work over the same backend too, with jobs
that live in memory only.)

python examples/qiskit_primitives.py
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from oqc_provider import OQCProvider
from oqc_provider.qiskit import OQCEstimatorV2, OQCSamplerV2


def main() -> tuple[dict[str, int], list[float]]:
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        manager = generate_preset_pass_manager(optimization_level=2, backend=backend)

        bell = QuantumCircuit(2, 2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        sampler = OQCSamplerV2(backend)
        job = sampler.run([manager.run(bell)], shots=2000)
        counts = job.result()[0].data.c.get_counts()
        print(f"sampler job {job.job_id()} counts:", counts)

        theta = Parameter("theta")
        state = QuantumCircuit(2)
        state.ry(theta, 0)
        state.cx(0, 1)
        isa = manager.run(state)
        observable = SparsePauliOp("ZI").apply_layout(isa.layout)  # <Z1> = cos(theta)
        angles = np.linspace(0, np.pi, 5).reshape(5, 1)
        estimator = OQCEstimatorV2(backend)
        sweep = estimator.run([(isa, observable, angles)])  # 5 bindings: one OQC job
        found = provider.job(sweep.job_id())  # what a new process would do with the id
        evs = [round(float(value), 2) for value in found.result()[0].data.evs]
        print(f"estimator job {sweep.job_id()}: <Z1> over theta in [0, pi] =", evs)
        return counts, evs


if __name__ == "__main__":
    main()
