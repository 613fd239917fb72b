"""A fast OpenQASM 2 writer for circuits already in the QPU's native gates.

``qiskit.qasm2.dumps`` is general: it rebuilds the circuit's gate definitions, formats every angle as a
multiple of pi and copies the circuit, which costs about 1.7 ms for a 130-gate circuit, as much as Aer
takes to run it. A transpiled circuit holds only ``rz``, ``sx``, ``x``, ``ecr``, ``measure``,
``barrier``, ``id`` and ``reset``, so its program is one line per instruction, written here in a single
pass; delays are written in seconds (the unit the service reads every duration in) under the ``opaque
delay(param0) q0;`` declaration the service requires. The text is the program ``dumps`` writes for the
same circuit, up to spelling: angles are written exactly (``repr`` of the float, always with a decimal
point as OpenQASM 2 requires) instead of rounded to a fraction of pi. Tests parse both with
``qasm2.loads`` and compare every operation.

Anything else (conditionals, custom gates, unbound or non-finite angles, delays that cannot be
converted to seconds) returns ``None`` and the caller falls back to ``dumps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from qiskit.circuit import CircuitInstruction, Delay, QuantumCircuit

from oqc_provider.openqasm import qasm2_real

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
#: How ``dumps`` defines ``ecr`` (not in qelib1.inc); the service runs it as the native ECR.
ECR_DEFINITION = "gate ecr q0,q1 { s q0; sx q1; cx q0,q1; x q0; }\n"
#: How the service (QAT's OpenQASM 2 reader) wants ``delay`` declared; without it, it refuses one.
DELAY_DECLARATION = "opaque delay(param0) q0;\n"
#: Seconds per unit of a Qiskit Delay (``dt`` is the device's).
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}
#: Parameterless operations written as ``name q[i], q[j];``.
_PLAIN = frozenset({"sx", "x", "ecr", "id", "reset"})


def native_program(
    circuit: QuantumCircuit,
    clbit_names: Mapping[int, str],
    registers: Sequence[tuple[str, int]],
    data: Iterable[CircuitInstruction] | None = None,
    *,
    dt: float | None = None,
) -> str | None:
    """The OpenQASM 2 program of ``circuit``, or ``None`` if it is not in the native gate set.

    Args:
        circuit: the circuit; qubit ``i`` is written ``q[i]`` (physical qubit ``i``).
        clbit_names: each clbit index -> its name in the program, e.g. ``"c[3]"``.
        registers: each classical register of the program: name and size, in declaration order.
        data: the circuit's instructions, if the caller has them as a list already.
        dt: the device's sample time, for delays given in ``dt``.
    """
    if not circuit.num_qubits:
        return None
    qubit_names = {bit: f"q[{index}]" for index, bit in enumerate(circuit.qubits)}
    clbit_of = {bit: clbit_names[index] for index, bit in enumerate(circuit.clbits) if index in clbit_names}
    body: list[str] = []
    uses_ecr = uses_delay = False
    for instruction in circuit.data if data is None else data:
        operation = instruction.operation
        name = operation.name
        qubits = instruction.qubits
        if getattr(operation, "_condition", None) is not None:  # Qiskit 1.x c_if
            return None
        if name == "rz":
            text = qasm2_real(operation.params[0])
            if text is None:
                return None
            body.append(f"rz({text}) {qubit_names[qubits[0]]};\n")
        elif name in _PLAIN:
            if operation.params:
                return None
            uses_ecr = uses_ecr or name == "ecr"
            body.append(f"{name} {','.join(qubit_names[q] for q in qubits)};\n")
        elif name == "measure":
            clbit = clbit_of.get(instruction.clbits[0])
            if clbit is None:
                return None
            body.append(f"measure {qubit_names[qubits[0]]} -> {clbit};\n")
        elif name == "delay":
            text = qasm2_real(seconds_of(operation, dt))
            if text is None:
                return None
            uses_delay = True
            body.append(f"delay({text}) {qubit_names[qubits[0]]};\n")
        elif name == "barrier":
            if qubits:
                body.append(f"barrier {','.join(qubit_names[q] for q in qubits)};\n")
        else:
            return None
    declarations = [HEADER]
    if uses_delay:
        declarations.append(DELAY_DECLARATION)
    if uses_ecr:
        declarations.append(ECR_DEFINITION)
    declarations.append(f"qreg q[{circuit.num_qubits}];\n")
    declarations.extend(f"creg {name}[{size}];\n" for name, size in registers)
    return "".join(declarations) + "".join(body)


def seconds_of(operation: object, dt: float | None) -> float | None:
    """A Delay's duration in seconds, or ``None`` when it cannot be known here."""
    if not isinstance(operation, Delay):
        return None
    duration = operation.params[0]
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        return None
    scale = dt if operation.unit == "dt" else TIME_UNITS.get(operation.unit)
    if not scale:
        return None
    # 12 significant digits: 400 ns is written 4e-07, not 4.0000000000000003e-07 (a picosecond
    # is far below any pulse the hardware schedules).
    return float(f"{float(duration) * scale:.12g}")
