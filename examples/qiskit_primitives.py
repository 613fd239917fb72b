"""Qiskit's reference primitives over an OQC backend: Bell statistics and a <ZZ> expectation value.

python examples/qiskit_primitives.py
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from oqc_provider import OQCProvider


def main() -> tuple[dict[str, int], float]:
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        manager = generate_preset_pass_manager(optimization_level=2, backend=backend)

        bell = QuantumCircuit(2, 2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        sampler = BackendSamplerV2(backend=backend)
        counts = sampler.run([manager.run(bell)], shots=2000).result()[0].data.c.get_counts()
        print("sampler counts:", counts)

        state = QuantumCircuit(2)
        state.h(0)
        state.cx(0, 1)
        isa = manager.run(state)
        observable = SparsePauliOp("ZZ").apply_layout(isa.layout)
        estimator = BackendEstimatorV2(backend=backend)
        zz = float(estimator.run([(isa, observable)]).result()[0].data.evs)
        print("<ZZ> =", zz)
        return counts, zz


if __name__ == "__main__":
    main()
