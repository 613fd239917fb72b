"""The emulator's own lowering to native gates (no qiskit.transpile) keeps every program's unitary.

Each lowered circuit is compared with Qiskit's unitary of the program it came from (up to a global
phase), and uses only ``rz``/``sx``/``x`` and ``ecr`` in the directions the device has.
"""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit, qasm2
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Operator

from oqc_provider.devices import LUCY_SIMULATOR, DeviceSpec
from oqc_provider.emulator.lowering import NativeBuilder, lower_circuit
from oqc_provider.emulator.programs import ProgramError, parse_program

#: Four qubits, every pair coupled in one direction: any program's gates can stay where they are.
COMPLETE = DeviceSpec(
    qpu_id="test:complete",
    name="Complete",
    qubit_count=4,
    couplings=((0, 1), (2, 0), (1, 2), (3, 0), (1, 3), (3, 2)),
)


def _assert_native(circuit: QuantumCircuit, spec: DeviceSpec) -> None:
    for instruction in circuit.data:
        name = instruction.operation.name
        assert name in {"rz", "sx", "x", "ecr", "barrier", "measure"}, name
        if name == "ecr":
            pair = tuple(circuit.find_bit(q).index for q in instruction.qubits)
            assert pair in spec.couplings, pair


@pytest.mark.parametrize("seed", range(12))
def test_random_standard_circuits_keep_their_unitary(seed: int) -> None:
    program = random_circuit(4, 5, max_operands=3, seed=seed)
    program.data = [i for i in program.data if i.operation.name != "id"]  # QAT refuses id
    lowered, _ = lower_circuit(parse_program(qasm2.dumps(program)), COMPLETE)
    _assert_native(lowered, COMPLETE)
    assert Operator(lowered).equiv(Operator(program))


@pytest.mark.parametrize(("control", "target"), [(0, 1), (1, 0)])
def test_cx_and_ecr_in_both_directions(control: int, target: int) -> None:
    for gate in ("cx", "ecr"):
        builder = NativeBuilder(LUCY_SIMULATOR, 2, [])
        getattr(builder, gate)(control, target)
        lowered, layout = builder.finish()
        _assert_native(lowered, LUCY_SIMULATOR)
        expected = QuantumCircuit(2)
        getattr(expected, gate)(control, target)
        assert Operator(lowered).equiv(Operator(expected)), gate
        assert layout.used_qubits == (0, 1)


@pytest.mark.parametrize("theta", [0.0, math.pi / 2, -math.pi / 2, math.pi, 1.234, 3 * math.pi])
def test_single_qubit_rotations(theta: float) -> None:
    builder = NativeBuilder(LUCY_SIMULATOR, 1, [])
    builder.u3(theta, 0.7, -2.1, 0)
    lowered, _ = builder.finish()
    expected = QuantumCircuit(1)
    expected.u(theta, 0.7, -2.1, 0)
    assert Operator(lowered).equiv(Operator(expected))
    assert sum(i.operation.name == "sx" for i in lowered.data) <= 2


def test_uncoupled_pairs_are_refused_with_their_couplings() -> None:
    program = parse_program('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nccx q[0],q[1],q[2];\n')
    with pytest.raises(ProgramError, match=r"Qubits 0 and 2 are not coupled on Lucy Simulator"):
        lower_circuit(program, LUCY_SIMULATOR)
