"""Generic pytket tools that accept any Backend work with OQCTketBackend."""

from __future__ import annotations

import pytest
from pytket import Circuit, Qubit
from pytket.pauli import Pauli, QubitPauliString
from pytket.utils import QubitPauliOperator
from pytket.utils.expectations import get_operator_expectation_value

from oqc_provider.pytket import OQCTketBackend

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def test_pytket_expectation_utilities(lucy_sim: OQCTketBackend) -> None:
    zz = QubitPauliOperator({QubitPauliString({Qubit(0): Pauli.Z, Qubit(1): Pauli.Z}): 1.0})
    value = get_operator_expectation_value(Circuit(2).H(0).CX(0, 1), zz, lucy_sim, n_shots=200, seed=4)
    assert value == pytest.approx(1.0)


def test_pytket_qiskit_tket_backend_wrapper(lucy_sim: OQCTketBackend) -> None:
    qiskit = pytest.importorskip("qiskit")
    from pytket.extensions.qiskit.tket_backend import TketBackend

    wrapped = TketBackend(lucy_sim, lucy_sim.default_compilation_pass())
    circuit = qiskit.QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    counts = wrapped.run(circuit, shots=100).result().get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 100
