"""Qiskit circuits on their way to a QPU: checked against the Target, then written as OpenQASM 2.

:func:`check_circuit` refuses what the QPU cannot run *before* anything is sent, with a message
that names the circuit, the gate and the qubits and says to transpile. :func:`to_wire` writes the
program the service receives: one quantum register ``q`` (``q[i]`` is physical qubit ``i``), the
circuit's classical registers under their own names, and any clbits outside a register gathered in
one more register. It also records which of the circuit's clbits each register bit is, so results
map back onto the circuit exactly (see :mod:`oqc_provider.qiskit.results`).

Example:
    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(2, 2, name="tiny")
    >>> _ = qc.x(0)
    >>> _ = qc.measure([0, 1], [0, 1])
    >>> wire = to_wire(qc, dt=0.5e-9)
    >>> wire.registers
    (('c', (0, 1)),)
    >>> print(wire.program.splitlines()[2:4])
    ['qreg q[2];', 'creg c[2];']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qiskit import qasm2
from qiskit.circuit import ClassicalRegister, Clbit, Delay, QuantumCircuit, QuantumRegister
from qiskit.transpiler import Target

from oqc_provider.devices import DeviceSpec
from oqc_provider.qcaas.errors import OqcProviderError

#: Operations that are bookkeeping, never checked against the Target.
_BOOKKEEPING = frozenset({"barrier"})
_IDENTIFIER = re.compile(r"^[a-z][A-Za-z0-9_]*$")
#: Names a register may not take in OpenQASM 2 (keywords, qelib1 and device gates).
_RESERVED_WORDS = (
    "OPENQASM include qreg creg gate opaque measure reset barrier if U CX pi sin cos tan exp ln sqrt q "
    "ecr delay id u0 u1 u2 u3 u p x y z h s sdg t tdg rx ry rz sx sxdg cx cy cz ch swap ccx cswap crx cry "
    "crz cu1 cp cu3 csx cu rxx rzz rccx rc3x c3x c3sqrtx c4x"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


class CircuitValidationError(OqcProviderError, ValueError):
    """A circuit the QPU cannot run as it stands; the message says what to change."""


@dataclass(frozen=True)
class WireProgram:
    """A circuit as the service receives it.

    Attributes:
        program: OpenQASM 2 text.
        registers: each classical register of the program, with the index (in the original
            circuit) of the clbit behind each of its bits, in register order.
    """

    program: str
    registers: tuple[tuple[str, tuple[int, ...]], ...]


def circuit_label(circuit: QuantumCircuit, index: int) -> str:
    """How messages refer to a circuit: its name and its place in the batch."""
    return f"circuit {index} ({circuit.name!r})"


def check_circuit(circuit: QuantumCircuit, target: Target, spec: DeviceSpec, index: int = 0) -> None:
    """Raise :class:`CircuitValidationError` unless ``circuit`` runs on the QPU as it stands.

    Checks the qubit count, unbound parameters, each operation against the Target (gate and
    qubits, ECR direction included) and, on devices without mid-circuit measurement, that no
    qubit is used after it was measured.
    """
    label = circuit_label(circuit, index)
    fix = "Transpile it for this backend first: qiskit.transpile(circuit, backend)."
    if circuit.num_qubits > target.num_qubits:
        raise CircuitValidationError(
            f"{label} has {circuit.num_qubits} qubits but {spec.name} has {target.num_qubits}. {fix}"
        )
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters))
        raise CircuitValidationError(
            f"{label} has unbound parameters ({names}). Bind them first: circuit.assign_parameters(...)."
        )
    measured: set[int] = set()
    for instruction in circuit.data:
        operation = instruction.operation
        name = operation.name
        if name in _BOOKKEEPING:
            continue
        qubits = tuple(circuit.find_bit(q).index for q in instruction.qubits)
        if name not in target.operation_names:
            extra = " This QPU does not support reset." if name == "reset" else ""
            raise CircuitValidationError(
                f"{label}: gate {name!r} on qubits {qubits} is not supported by {spec.name}.{extra} "
                f"Its operations are {sorted(target.operation_names)}. {fix}"
            )
        if not target.instruction_supported(name, qubits):
            if name == "ecr" and target.instruction_supported("ecr", qubits[::-1]):
                problem = (
                    f"ecr on qubits {qubits} runs in the wrong direction: {spec.name} only has "
                    f"ecr with control {qubits[1]} and target {qubits[0]}"
                )
            else:
                problem = f"gate {name!r} cannot act on qubits {qubits} of {spec.name}"
                if len(qubits) == 2:
                    problem += " (they are not coupled)"
            raise CircuitValidationError(f"{label}: {problem}. {fix}")
        if not spec.supports_mid_circuit_measurement:
            reused = [q for q in qubits if q in measured]
            if reused:
                raise CircuitValidationError(
                    f"{label}: {name!r} uses qubit {reused[0]} after it was measured, but {spec.name} "
                    "does not support mid-circuit measurement. Move every measurement to the end."
                )
        if name == "measure":
            measured.update(qubits)


def _register_name(wanted: str, taken: set[str], fallback: str) -> str:
    name = wanted if _IDENTIFIER.match(wanted) and wanted not in _RESERVED else fallback
    base, suffix = name, 1
    while name in taken or name in _RESERVED:
        name = f"{base}_{suffix}"
        suffix += 1
    taken.add(name)
    return name


def _delay_in_dt(delay: Delay, dt: float | None, label: str) -> Delay:
    """The same idle with its duration in ``dt`` (OpenQASM 2 has no units: the service reads dt)."""
    duration = delay.params[0]
    if not isinstance(duration, int | float):
        raise CircuitValidationError(f"{label}: a delay has an unbound duration ({duration}). Bind it first.")
    if delay.unit == "dt":
        return Delay(round(duration), "dt")
    if delay.unit not in _TIME_UNITS or not dt:
        raise CircuitValidationError(f"{label}: cannot convert a delay in {delay.unit!r} to dt.")
    return Delay(round(duration * _TIME_UNITS[delay.unit] / dt), "dt")


def to_wire(circuit: QuantumCircuit, dt: float | None, index: int = 0) -> WireProgram:
    """Write ``circuit`` as the OpenQASM 2 program the service runs, with its register layout."""
    label = circuit_label(circuit, index)
    qreg = QuantumRegister(circuit.num_qubits, "q")
    wire = QuantumCircuit(qreg, name=circuit.name)
    taken: set[str] = set()
    covered: set[int] = set()
    clbit_of: dict[int, Clbit] = {}
    registers: list[tuple[str, tuple[int, ...]]] = []

    def add(wanted: str, indices: tuple[int, ...], fallback: str) -> None:
        creg = ClassicalRegister(len(indices), _register_name(wanted, taken, fallback))
        wire.add_register(creg)
        clbit_of.update(zip(indices, creg, strict=True))
        covered.update(indices)
        registers.append((creg.name, indices))

    for number, creg in enumerate(circuit.cregs):
        indices = tuple(circuit.find_bit(bit).index for bit in creg)
        if indices and not covered.intersection(indices):  # overlapping registers: bits go once
            add(creg.name, indices, f"c{number}")
    loose = tuple(i for i in range(circuit.num_clbits) if i not in covered)
    if loose:
        add("loose_bits", loose, "loose_bits")
    for instruction in circuit.data:
        operation = instruction.operation
        if isinstance(operation, Delay):
            operation = _delay_in_dt(operation, dt, label)
        wire.append(
            operation,
            [qreg[circuit.find_bit(q).index] for q in instruction.qubits],
            [clbit_of[circuit.find_bit(c).index] for c in instruction.clbits],
            copy=False,
        )
    try:
        program = qasm2.dumps(wire)
    except qasm2.QASM2ExportError as exc:
        raise CircuitValidationError(f"{label} cannot be written as OpenQASM 2: {exc}") from exc
    for name, indices in registers:  # the exporter must not have renamed a register we map back by
        if f"creg {name}[{len(indices)}];" not in program:
            raise CircuitValidationError(f"{label}: the register {name!r} did not survive OpenQASM export.")
    return WireProgram(program, tuple(registers))
