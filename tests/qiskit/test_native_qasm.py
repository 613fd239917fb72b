"""The fast OpenQASM writer says exactly what ``qiskit.qasm2.dumps`` (``qasm3.dumps`` for circuits with
delays) says, for every circuit it takes.

Both programs are parsed back with ``qasm2.loads`` / ``qasm3.loads`` and compared operation by
operation (name, qubits, classical bits by register and index, angles, delay units), along with
their register declarations.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, qasm3, transpile
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
    if program.startswith("OPENQASM 3"):  # ``ecr`` is the service's own gate, not in stdgates.inc
        circuit = qasm3.loads(program.replace("\n", "\ngate ecr a, b { }\n", 1))
    else:
        circuit = qasm2.loads(program, custom_instructions=_INSTRUCTIONS)
    registers = [(creg.name, creg.size) for creg in circuit.cregs]
    where = {bit: (creg.name, index) for creg in circuit.cregs for index, bit in enumerate(creg)}
    operations = [
        (
            instruction.operation.name,
            tuple(circuit.find_bit(q).index for q in instruction.qubits),
            tuple(where[c] for c in instruction.clbits),
            tuple(float(p) for p in instruction.operation.params),
            getattr(instruction.operation, "unit", None),
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
        assert ours[:3] == theirs[:3] and ours[4] == theirs[4]
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


def test_circuits_with_delays_are_written_as_openqasm3_in_nanoseconds() -> None:
    """QAT 3.5's OpenQASM 2 reader takes only whole seconds in ``delay(x)``; its OpenQASM 3 reader takes
    ``delay[400.0ns]``. Every unit is converted exactly (decimal arithmetic), never written in dt."""
    circuit = QuantumCircuit(2, 2)
    circuit.delay(800, 0, "dt")
    circuit.delay(400, 1, "ns")
    circuit.delay(2.5, 0, "us")
    circuit.delay(1e-7, 1, "s")
    circuit.delay(3, 1, "ps")
    circuit.x(0)
    circuit.ecr(0, 1)
    circuit.measure([0, 1], [0, 1])
    assert assert_same_program(circuit, 0.5e-9), "the fast path should have run"
    wire = to_wire(circuit, 0.5e-9)
    assert wire.openqasm == 3 and wire.per_shot
    lines = wire.program.splitlines()
    assert lines[:4] == ["OPENQASM 3.0;", 'include "stdgates.inc";', "qubit[2] q;", "bit[2] c;"]
    delays = [line for line in lines if line.startswith("delay")]
    assert delays == [
        "delay[400.0ns] q[0];",
        "delay[400.0ns] q[1];",
        "delay[2500.0ns] q[0];",
        "delay[100.0ns] q[1];",
        "delay[0.003ns] q[1];",
    ]
    assert "c[1] = measure q[1];" in lines and "ecr q[0],q[1];" in lines
    assert "dt" not in wire.program and "gate ecr" not in wire.program and "opaque" not in wire.program
    slow = to_wire(circuit, 0.5e-9, native=False)
    assert slow.openqasm == 3 and "gate ecr" not in slow.program and "dt]" not in slow.program


def test_circuits_without_delays_stay_openqasm2() -> None:
    circuit = QuantumCircuit(1, 1)
    circuit.x(0)
    circuit.measure(0, 0)
    wire = to_wire(circuit, 0.5e-9)
    assert wire.openqasm == 2 and not wire.per_shot and wire.program.startswith("OPENQASM 2.0;")


def test_delay_durations_are_exact_decimals() -> None:
    assert native_qasm.qasm3_nanoseconds(Decimal("400")) == "400.0ns"
    assert native_qasm.qasm3_nanoseconds(Decimal("0.5")) == "0.5ns"
    assert native_qasm.nanoseconds_of(Delay(3, "dt"), 0.5e-9) == Decimal("1.5")
    assert native_qasm.nanoseconds_of(Delay(0.1, "us"), None) == Decimal("100")
    assert native_qasm.nanoseconds_of(Delay(7, "dt"), None) is None


@pytest.mark.parametrize("kind", ["h", "unitary-free-gate"])
def test_anything_else_falls_back_to_dumps(kind: str) -> None:
    circuit = QuantumCircuit(2, 2)
    if kind == "h":
        circuit.h(0)
    else:
        circuit.append(QuantumCircuit(1, name="mine").to_gate(), [1])
    circuit.measure([0, 1], [0, 1])
    assert not assert_same_program(circuit, 0.5e-9)


def test_openqasm3_register_names_avoid_its_keywords() -> None:
    circuit = QuantumCircuit(
        QuantumRegister(1, "q"), ClassicalRegister(1, "box"), ClassicalRegister(1, "input")
    )
    circuit.delay(10, 0, "ns")
    circuit.measure(0, 0)
    circuit.measure(0, 1)
    wire = to_wire(circuit, 0.5e-9)
    assert [name for name, _ in wire.registers] == ["c0", "c1"]
    assert assert_same_program(circuit, 0.5e-9)
    plain = QuantumCircuit(QuantumRegister(1, "q"), ClassicalRegister(1, "box"))
    plain.measure(0, 0)
    assert to_wire(plain, 0.5e-9).registers[0][0] == "box"  # a fine OpenQASM 2 name
