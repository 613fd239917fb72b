"""The fast OpenQASM 2 writer says exactly what ``qiskit.qasm2.dumps`` says, for every circuit it takes.

Both programs are parsed back with ``qasm2.loads`` and compared operation by operation (name,
qubits, classical bits by register and index, angles), along with their register declarations.
"""

from __future__ import annotations

import math

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, transpile
from qiskit.circuit import Clbit, Delay
from qiskit.circuit.library import ECRGate
from qiskit.circuit.random import random_circuit

from oqc_provider.openqasm import qasm2_real
from oqc_provider.qiskit import OQCBackend, native_qasm, translate
from oqc_provider.qiskit.translate import to_wire
from tests.qiskit.circuits import layout_circuits

_INSTRUCTIONS = (
    *(i for i in qasm2.LEGACY_CUSTOM_INSTRUCTIONS if i.name != "delay"),  # that one reads dt
    qasm2.CustomInstruction("ecr", 0, 2, ECRGate, builtin=True),
    qasm2.CustomInstruction("delay", 1, 1, lambda seconds: Delay(seconds, "s")),
)


def _operations(program: str) -> tuple[list[tuple[str, int]], list[tuple[object, ...]]]:
    """A program's registers and its operations in a comparable form."""
    circuit = qasm2.loads(program, custom_instructions=_INSTRUCTIONS)
    registers = [(creg.name, creg.size) for creg in circuit.cregs]
    where = {bit: (creg.name, index) for creg in circuit.cregs for index, bit in enumerate(creg)}
    operations = [
        (
            instruction.operation.name,
            tuple(circuit.find_bit(q).index for q in instruction.qubits),
            tuple(where[c] for c in instruction.clbits),
            tuple(float(p) for p in instruction.operation.params),
        )
        for instruction in circuit.data
    ]
    return registers, operations


def assert_same_program(circuit: QuantumCircuit, dt: float | None) -> bool:
    """Compare the fast and the ``dumps`` programs of ``circuit``; return whether the fast path ran."""
    ran: list[bool] = []

    def spy(*args: object, **kwargs: object) -> str | None:
        program = native_qasm.native_program(*args, **kwargs)  # type: ignore[arg-type]
        ran.append(program is not None)
        return program

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(translate, "native_program", spy)
        fast = to_wire(circuit, dt)
    slow = to_wire(circuit, dt, native=False)
    assert fast.registers == slow.registers
    fast_registers, fast_ops = _operations(fast.program)
    slow_registers, slow_ops = _operations(slow.program)
    assert fast_registers == slow_registers
    assert len(fast_ops) == len(slow_ops)
    for ours, theirs in zip(fast_ops, slow_ops, strict=True):
        assert ours[:3] == theirs[:3]
        # dumps rounds angles to fractions of pi (and tiny ones to 0); the fast path writes them exactly.
        assert all(
            math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) for a, b in zip(ours[3], theirs[3], strict=True)
        )
    return ran == [True]


def test_transpiled_random_circuits_are_written_as_dumps_writes_them(lucy_sim: OQCBackend) -> None:
    circuits = [random_circuit(8, 3, max_operands=2, measure=True, seed=seed) for seed in range(12)]
    for circuit in transpile(circuits, lucy_sim, optimization_level=1, seed_transpiler=0):
        assert assert_same_program(circuit, lucy_sim.device.dt), "the fast path should have run"


def test_register_layouts_are_kept(lucy_sim: OQCBackend) -> None:
    """Several registers, loose clbits, unmeasured bits, barriers, reset: same registers, same bits."""
    for circuit in layout_circuits():
        assert_same_program(transpile(circuit, lucy_sim, optimization_level=0), lucy_sim.device.dt)


def test_every_native_operation_and_awkward_angles() -> None:
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    circuit.add_bits([Clbit()])
    for value in (math.pi / 2, -3 * math.pi / 4, 1e-20, 2.5e30, -0.0, 0, 7, 0.1 + 0.2):
        circuit.rz(value, 1)
    circuit.sx(0)
    circuit.x(2)
    circuit.ecr(0, 1)
    circuit.id(2)
    circuit.barrier()
    circuit.barrier([0, 2])
    circuit.reset(2)
    circuit.measure(0, 0)
    circuit.measure(1, 2)
    circuit.measure(2, 3)
    assert assert_same_program(circuit, 0.5e-9)


def test_angles_are_exact_openqasm_reals() -> None:
    angle = qasm2_real
    assert angle(1e-20) == "1.0e-20"
    assert angle(-2.5e30) == "-2.5e+30"
    assert float(angle(0.1 + 0.2) or "") == 0.1 + 0.2
    assert angle(3) == "3.0"
    assert angle(float("nan")) is None and angle(True) is None and angle("pi") is None


def test_delays_are_written_in_seconds_under_the_opaque_declaration() -> None:
    """QAT reads ``delay(x)`` as x seconds and refuses it without ``opaque delay(param0) q0;``."""
    circuit = QuantumCircuit(2, 2)
    circuit.delay(800, 0, "dt")
    circuit.delay(400, 1, "ns")
    circuit.delay(2.5, 0, "us")
    circuit.x(0)
    circuit.measure([0, 1], [0, 1])
    assert assert_same_program(circuit, 0.5e-9), "the fast path should have run"
    program = to_wire(circuit, 0.5e-9).program
    assert program.count("opaque delay(param0) q0;") == 1
    assert "delay(4.0e-07) q[0];" in program and "delay(4.0e-07) q[1];" in program
    assert "delay(2.5e-06) q[0];" in program
    slow = to_wire(circuit, 0.5e-9, native=False).program
    assert slow.count("opaque delay") == 1 and "delay_" not in slow


@pytest.mark.parametrize("kind", ["h", "unitary-free-gate"])
def test_anything_else_falls_back_to_dumps(kind: str) -> None:
    circuit = QuantumCircuit(2, 2)
    if kind == "h":
        circuit.h(0)
    else:
        circuit.append(QuantumCircuit(1, name="mine").to_gate(), [1])
    circuit.measure([0, 1], [0, 1])
    assert not assert_same_program(circuit, 0.5e-9)
