"""The fast OpenQASM 2 writer says what pytket's ``circuit_to_qasm_str`` says, for every circuit it takes.

Both programs are parsed back with ``qiskit.qasm2.loads`` and compared operation by operation.
"""

from __future__ import annotations

import math

import pytest
from pytket import Bit, Circuit, OpType, Qubit
from qiskit import qasm2
from qiskit.circuit.library import ECRGate
from sympy import Symbol

from oqc_provider.devices import LUCY_SIMULATOR
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.pytket.native_qasm import half_turns, native_program
from oqc_provider.pytket.programs import physical_qubits, to_program

_INSTRUCTIONS = (
    *qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
    qasm2.CustomInstruction("ecr", 0, 2, ECRGate, builtin=True),
)


def _operations(program: str) -> tuple[int, int, list[tuple[object, ...]]]:
    circuit = qasm2.loads(program, custom_instructions=_INSTRUCTIONS)
    operations = [
        (
            instruction.operation.name,
            tuple(circuit.find_bit(q).index for q in instruction.qubits),
            tuple(circuit.find_bit(c).index for c in instruction.clbits),
            tuple(float(p) for p in instruction.operation.params),
        )
        for instruction in circuit.data
    ]
    return circuit.num_qubits, circuit.num_clbits, operations


def assert_same_program(circuit: Circuit) -> bool:
    """Compare the fast and pytket's programs of ``circuit``; return whether the fast path ran."""
    fast, slow = to_program(circuit, LUCY_SIMULATOR), to_program(circuit, LUCY_SIMULATOR, native=False)
    assert fast.bits == slow.bits
    *fast_sizes, fast_ops = _operations(fast.qasm)
    *slow_sizes, slow_ops = _operations(slow.qasm)
    assert fast_sizes == slow_sizes
    assert len(fast_ops) == len(slow_ops)
    for ours, theirs in zip(fast_ops, slow_ops, strict=True):
        assert ours[:3] == theirs[:3]
        assert all(
            math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) for a, b in zip(ours[3], theirs[3], strict=True)
        )
    qubits = physical_qubits(circuit, LUCY_SIMULATOR)
    return native_program(circuit, qubits, tuple(circuit.bits), "q", "c") is not None


@pytest.mark.slow
def test_compiled_circuits_are_written_as_pytket_writes_them(lucy_sim: OQCTketBackend) -> None:
    circuits = []
    for seed in range(6):
        circuit = Circuit(5)
        for layer in range(4):
            for qubit in range(5):
                circuit.Rx(0.1 * (seed + 1) * (layer + qubit + 1), qubit).Rz(
                    0.37 * seed + 0.01 * qubit, qubit
                )
            for qubit in range(layer % 2, 4, 2):
                circuit.CX(qubit, qubit + 1)
        circuits.append(circuit.measure_all())
    for circuit in lucy_sim.get_compiled_circuits(circuits):
        assert assert_same_program(circuit), "the fast path should have run"


def test_bits_of_several_registers_and_sparse_qubits() -> None:
    circuit = Circuit()
    for index in (2, 3, 6):
        circuit.add_qubit(Qubit("node", index))
    bits = [Bit("flag", 0), Bit("c", 1), Bit("c", 0)]
    for bit in bits:
        circuit.add_bit(bit)
    circuit.Rz(1e-20, Qubit("node", 2)).Rz(-2.75, Qubit("node", 3)).SX(Qubit("node", 6)).X(Qubit("node", 2))
    circuit.add_gate(OpType.ECR, [Qubit("node", 2), Qubit("node", 3)])
    circuit.add_barrier([Qubit("node", 2), Qubit("node", 6)])
    circuit.Measure(Qubit("node", 3), Bit("flag", 0)).Measure(Qubit("node", 6), Bit("c", 0))
    assert assert_same_program(circuit)


def test_half_turns_are_exact() -> None:
    assert half_turns(0.5) == "0.5*pi"
    assert half_turns(1e-20) == "1.0e-20*pi"
    assert half_turns(Symbol("a")) is None and half_turns(float("inf")) is None


def test_anything_else_falls_back_to_pytket() -> None:
    circuit = Circuit(2).H(0).CX(0, 1).measure_all()
    assert not assert_same_program(circuit)
