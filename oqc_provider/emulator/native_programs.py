"""A fast path for the programs front ends send: OpenQASM 2 already in the device's native gates.

Reading such a program with ``qiskit.qasm2.loads`` and then checking it (``validate``) costs about
1.4 ms for a 130-gate circuit, most of Aer's own time to run it. A transpiled program is one
``rz``/``sx``/``x``/``ecr``/``measure``/``barrier`` per line on one quantum register, so it is
read here line by line, and checked *while* it is read (native gate, ECR direction, width,
mid-circuit measurement) instead of in a second pass over the circuit just built.

The fast path only ever accepts: any line it does not recognise, and any program that breaks a
rule, returns ``None`` and the task takes the general path (``parse_program`` →
``lowering.lower_circuit``), which gives the same circuit for valid programs (tests compare them operation by
operation, angles bit for bit) and the explanatory error (or the turned ECR) for the others.
It is only taken when QCaaS would not move the program's qubits (``Tket(Empty)``, as front ends send).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.programs import ECR_DEFINITIONS, Layout

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

_PREAMBLE = frozenset({"OPENQASM 2.0;", 'include "qelib1.inc";', ""})
_QREG = re.compile(r"qreg ([a-z][A-Za-z0-9_]*)\[(\d+)\];")
_CREG = re.compile(r"creg ([a-z][A-Za-z0-9_]*)\[(\d+)\];")
_REAL = r"[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+"
_RZ = re.compile(rf"rz\((-?)(?:({_REAL})\*pi|({_REAL})|(?:([0-9]+)\*)?pi(?:/([0-9]+))?)\) (\w+)\[(\d+)\];")
_ONE = re.compile(r"(sx|x|id|reset) (\w+)\[(\d+)\];")
_ECR = re.compile(r"ecr (\w+)\[(\d+)\],(\w+)\[(\d+)\];")
_MEASURE = re.compile(r"measure (\w+)\[(\d+)\] -> (\w+)\[(\d+)\];")
_BARRIER = re.compile(r"barrier ((?:\w+\[\d+\],)*\w+\[\d+\]);")
_INDEX = re.compile(r"(\w+)\[(\d+)\]")


def _angle(match: re.Match[str]) -> float:
    """The value ``qasm2.loads`` computes for the angle: the same float operations, in its order."""
    negative, times_pi, plain, factor, divisor = match.group(1, 2, 3, 4, 5)
    if times_pi is not None:
        value = float(times_pi) * math.pi
    elif plain is not None:
        value = float(plain)
    else:
        value = math.pi if factor is None else float(factor) * math.pi
        if divisor is not None:
            value = value / float(divisor)
    return -value if negative else value


def parse_native(text: str, spec: DeviceSpec) -> tuple[QuantumCircuit, Layout] | None:
    """The circuit and layout of a valid native program for ``spec``; ``None`` to take the general path."""
    from qiskit.circuit import (
        Barrier,
        CircuitInstruction,
        ClassicalRegister,
        Measure,
        QuantumCircuit,
        QuantumRegister,
        Qubit,
        Reset,
    )
    from qiskit.circuit.library import ECRGate, IGate, RZGate, SXGate, XGate

    for definition in ECR_DEFINITIONS:
        text = text.replace(definition, "", 1)
    lines = text.split("\n")
    position = 0
    while position < len(lines) and lines[position].strip() in _PREAMBLE:
        position += 1
    if position >= len(lines) or not text.lstrip().startswith("OPENQASM 2.0;"):
        return None
    qreg_match = _QREG.fullmatch(lines[position].strip())
    if qreg_match is None:
        return None
    qreg_name, width = qreg_match.group(1), int(qreg_match.group(2))
    if width < 1 or width > spec.qubit_count:
        return None
    position += 1
    qreg = QuantumRegister(width, qreg_name)
    cregs: dict[str, ClassicalRegister] = {}
    while position < len(lines) and (creg_match := _CREG.fullmatch(lines[position].strip())):
        name, size = creg_match.group(1), int(creg_match.group(2))
        if name in cregs or name == qreg_name or size < 1:
            return None
        cregs[name] = ClassicalRegister(size, name)
        position += 1
    circuit = QuantumCircuit(qreg, *cregs.values())
    qubits = list(qreg)
    native = set(spec.native_gates)
    # ``id`` has no body QCaaS can run (QAT refuses it): the general path explains that.
    allowed = {"sx": "sx" in native, "x": "x" in native, "id": False, "reset": spec.supports_reset}
    couplings = set(spec.couplings)
    no_reuse = not spec.supports_mid_circuit_measurement
    gates = {"sx": SXGate(), "x": XGate(), "id": IGate()}
    ecr, measure, reset = ECRGate(), Measure(), Reset()
    clbit_index = {bit: index for index, bit in enumerate(circuit.clbits)}
    measured: set[int] = set()
    used: set[int] = set()
    clbit_qubits: dict[int, int] = {}
    count = 0
    append = circuit._append
    try:  # Qiskit's own fast path for standard gates (what circuit.rz uses): no Python gate object
        from qiskit._accelerate.circuit import StandardGate

        def rz(theta: float, target: Qubit) -> CircuitInstruction:
            return CircuitInstruction.from_standard(StandardGate.RZ, (target,), (theta,))

    except ImportError:  # pragma: no cover - a Qiskit without it

        def rz(theta: float, target: Qubit) -> CircuitInstruction:
            return CircuitInstruction(RZGate(theta), (target,), ())

    def qubit(name: str, index: str) -> int | None:
        value = int(index)
        if name != qreg_name or value >= width or (no_reuse and value in measured):
            return None
        return value

    for raw in lines[position:]:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("rz("):
            match = _RZ.fullmatch(line)
            if match is None or "rz" not in native:
                return None
            target = qubit(match.group(6), match.group(7))
            if target is None:
                return None
            append(rz(_angle(match), qubits[target]))
            used.add(target)
        elif line.startswith("ecr "):
            match = _ECR.fullmatch(line)
            if match is None or "ecr" not in native:
                return None
            control, target = qubit(*match.group(1, 2)), qubit(*match.group(3, 4))
            if control is None or target is None or (control, target) not in couplings:
                return None
            append(CircuitInstruction(ecr, (qubits[control], qubits[target]), ()))
            used.update((control, target))
        elif line.startswith("measure "):
            match = _MEASURE.fullmatch(line)
            if match is None or match.group(3) not in cregs:
                return None
            source = qubit(*match.group(1, 2))
            creg = cregs[match.group(3)]
            if source is None or int(match.group(4)) >= creg.size:
                return None
            clbit = creg[int(match.group(4))]
            append(CircuitInstruction(measure, (qubits[source],), (clbit,)))
            measured.add(source)
            used.add(source)
            clbit_qubits[clbit_index[clbit]] = source
        elif line.startswith("barrier "):
            match = _BARRIER.fullmatch(line)
            if match is None:
                return None
            indices = []
            for name, index in _INDEX.findall(match.group(1)):
                if name != qreg_name or int(index) >= width:
                    return None
                indices.append(int(index))
            append(CircuitInstruction(Barrier(len(indices)), tuple(qubits[i] for i in indices), ()))
            continue  # barriers are not counted and use no qubit
        else:
            match = _ONE.fullmatch(line)
            if match is None or not allowed[match.group(1)]:
                return None
            target = qubit(*match.group(2, 3))
            if target is None:
                return None
            operation = reset if match.group(1) == "reset" else gates[match.group(1)]
            append(CircuitInstruction(operation, (qubits[target],), ()))
            used.add(target)
        count += 1
    registers = tuple((creg.name, tuple(clbit_index[bit] for bit in creg)) for creg in cregs.values())
    return circuit, Layout(registers, clbit_qubits, tuple(sorted(used)), count)
