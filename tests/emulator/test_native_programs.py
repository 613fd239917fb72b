"""The emulator's fast path reads native programs exactly as the general path does, and accepts nothing else.

For every program the fast path takes, the circuit (operation names, qubits, clbits, angles bit for
bit) and the layout equal what ``parse_program`` → ``lower_circuit`` give (the path of a program that
keeps its qubits, ``Tket(Empty)``). Any program the general path refuses, or rewrites, is left to it.
"""

from __future__ import annotations

import math

import pytest
from pytket import Circuit, OpType
from pytket.qasm import circuit_to_qasm_str
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, transpile
from qiskit.circuit.random import random_circuit

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO
from oqc_provider.emulator.lowering import lower_circuit
from oqc_provider.emulator.native_programs import parse_native
from oqc_provider.emulator.programs import ProgramError, parse_program
from oqc_provider.qiskit.native_qasm import native_program


def _general(text: str, spec=LUCY_SIMULATOR):  # type: ignore[no-untyped-def]
    return lower_circuit(parse_program(text), spec)


def _ops(circuit: QuantumCircuit) -> list[tuple[object, ...]]:
    return [
        (
            i.operation.name,
            tuple(circuit.find_bit(q).index for q in i.qubits),
            tuple(circuit.find_bit(c).index for c in i.clbits),
            tuple(i.operation.params),
        )
        for i in circuit.data
    ]


def assert_same(text: str, spec=LUCY_SIMULATOR) -> None:  # type: ignore[no-untyped-def]
    fast = parse_native(text, spec)
    assert fast is not None, text
    circuit, layout = _general(text, spec)
    assert _ops(fast[0]) == _ops(circuit)  # angles compared with ==: bit for bit
    assert [(r.name, r.size) for r in fast[0].cregs] == [(r.name, r.size) for r in circuit.cregs]
    assert fast[0].num_qubits == circuit.num_qubits
    assert fast[1] == layout


def _transpiled(count: int) -> list[QuantumCircuit]:
    circuits = [random_circuit(8, 3, max_operands=2, measure=True, seed=seed) for seed in range(count)]
    coupling = [list(edge) for edge in LUCY_SIMULATOR.couplings]
    return transpile(circuits, basis_gates=["rz", "sx", "x", "ecr"], coupling_map=coupling, seed_transpiler=0)


def test_programs_written_by_both_qiskit_writers() -> None:
    for circuit in _transpiled(8):
        assert_same(qasm2.dumps(circuit))
        registers = [(creg.name, creg.size) for creg in circuit.cregs]
        names = {
            circuit.find_bit(bit).index: f"{creg.name}[{j}]"
            for creg in circuit.cregs
            for j, bit in enumerate(creg)
        }
        program = native_program(circuit, names, registers)
        assert program is not None
        assert_same(program)


def test_programs_written_by_pytket() -> None:
    circuit = Circuit(3, 3).Rz(0.25, 0).SX(1).X(2).Rz(-1.5, 1).Rz(1e-20, 2)
    circuit.add_gate(OpType.ECR, [0, 1]).add_barrier([0, 2]).Measure(0, 0).Measure(2, 1).Measure(1, 2)
    assert_same(circuit_to_qasm_str(circuit, header="qelib1"))


def test_every_operation_and_angle_spelling() -> None:
    qc = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    for value in (math.pi / 2, -3 * math.pi / 4, math.pi, -math.pi, 1e-20, 2.5e30, 0.1 + 0.2, 7):
        qc.rz(value, 1)
    qc.sx(0)
    qc.x(2)
    qc.ecr(0, 1)
    qc.barrier()
    qc.measure(0, 0)
    qc.measure(1, 2)
    qc.measure(2, 1)
    assert_same(qasm2.dumps(qc))
    assert_same(qasm2.dumps(qc).replace("rz(pi/2)", "rz(0.5*pi)").replace("rz(-pi)", "rz(-1.0*pi)"))


@pytest.mark.parametrize(
    "body",
    [
        "ecr q[1],q[0];",  # wrong direction: the general path turns it (QAT runs it)
        "id q[0];",  # no body: QAT refuses it, the general path explains why
        "ecr q[0],q[2];",  # not coupled
        "h q[0];",  # not native: the general path compiles it
        "measure q[0] -> c[0];\nx q[0];",  # used after measurement
        "reset q[0];",
        "x q[0];\nreset q[0];\nmeasure q[0] -> c[1];",
        "rz(theta) q[0];",
        "x q[9];",
        "U(0,0,0) q[0];",
        "// a comment\nx q[0];",
    ],
)
def test_anything_else_takes_the_general_path(body: str) -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\ngate ecr q0,q1 { s q0; sx q1; cx q0,q1; x q0; }\n'
    text = f"{header}qreg q[8];\ncreg c[2];\n{body}\n"
    for spec in (LUCY_SIMULATOR, LUCY, TOSHIKO):
        try:
            _general(text, spec)
        except ProgramError:
            assert parse_native(text, spec) is None  # refused, with its message, by the general path
            continue
        if parse_native(text, spec) is not None:
            assert_same(text, spec)


def test_devices_with_reset_and_wider_programs() -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
    text = f"{header}qreg q[2];\ncreg c[1];\nreset q[1];\nx q[1];\nmeasure q[1] -> c[0];\n"
    assert_same(text, LUCY_SIMULATOR)
    assert parse_native(text, LUCY) is None  # Lucy has no reset: the general path says so
    assert parse_native(text.replace("qreg q[2]", "qreg q[40]"), LUCY_SIMULATOR) is None
    assert parse_native("OPENQASM 3.0;\nqubit[1] q;\n", LUCY_SIMULATOR) is None
