"""A fast OpenQASM writer for circuits already in the QPU's native gates.

``qiskit.qasm2.dumps`` is general: it rebuilds the circuit's gate definitions, formats every angle as a
multiple of pi and copies the circuit, which costs about 1.7 ms for a 130-gate circuit, as much as Aer
takes to run it. A transpiled circuit holds only ``rz``, ``sx``, ``x``, ``ecr``, ``measure``,
``barrier``, ``reset`` and ``delay`` (the Target offers nothing else), so its program is one line per
instruction, written here in a single pass. The text is the program ``dumps`` writes for the same
circuit, up to spelling: angles are written exactly (``repr`` of the float, always with a decimal point
as OpenQASM 2 requires) instead of rounded to a fraction of pi. Tests parse both and compare every
operation.

**Circuits with delays are written as OpenQASM 3.** The service's compiler (QAT 3.5) reads a duration
in seconds, but its OpenQASM 2 reader only takes a whole number in ``delay(x)``: OpenQASM 2 cannot ask
it for 400 ns (``delay(4e-07)`` is refused, ``delay(800)`` would be 800 seconds). Its OpenQASM 3 reader
takes ``delay[400.0ns] q[5];`` with its unit, so such circuits go out as OpenQASM 3 with every delay in
nanoseconds, converted exactly (in decimal) from ``dt`` or whatever unit the circuit used, never in
``dt`` (the service's ``dt`` need not be the Target's). QAT never places or routes OpenQASM 3, so the
qubits stay put whatever the optimisation setting. The caller asks for the per-shot ``raw()`` results
format for them: QAT's counts path refuses a fractional OpenQASM 3 delay, its pulse-level path does not
(:mod:`oqc_provider.qiskit.translate`). Circuits without delays keep the OpenQASM 2 form.

Anything else (conditionals, custom gates, ``id``, unbound or non-finite angles, delays that cannot be
converted) returns ``None`` and the caller falls back to ``dumps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import qiskit
from qiskit.circuit import CircuitInstruction, Delay, QuantumCircuit

from oqc_provider.openqasm import qasm2_real

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
#: OpenQASM 3: ``ecr`` is the device's own gate to QAT's reader, so it needs no definition.
HEADER_QASM3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
#: How ``dumps`` defines ``ecr`` (not in qelib1.inc); the service runs it as the native ECR.
ECR_DEFINITION = "gate ecr q0,q1 { s q0; sx q1; cx q0,q1; x q0; }\n"
#: Nanoseconds per unit of a Qiskit Delay, as exact decimals (``dt`` is the device's).
NANOSECONDS = {
    "s": Decimal(10**9),
    "ms": Decimal(10**6),
    "us": Decimal(1000),
    "ns": Decimal(1),
    "ps": Decimal("0.001"),
}
#: Parameterless operations written as ``name q[i], q[j];`` in both dialects.
_PLAIN = frozenset({"sx", "x", "ecr", "reset"})
#: Only Qiskit 1.x has ``c_if`` conditions; reading ``instruction.operation`` to look for one costs a
#: Python gate object per instruction, which Qiskit 2 circuits never need.
_HAS_C_IF = int(qiskit.__version__.split(".", 1)[0]) < 2
#: Which qubit tuples each operation may act on (None: any), from the Target: see ``check``.
Allowed = Mapping[str, frozenset[tuple[int, ...]] | None]


def native_program(
    circuit: QuantumCircuit,
    clbit_names: Mapping[int, str],
    registers: Sequence[tuple[str, int]],
    data: Iterable[CircuitInstruction] | None = None,
    *,
    dt: float | None = None,
    check: tuple[Allowed, bool] | None = None,
) -> str | None:
    """The program of ``circuit`` (OpenQASM 3 if it has a delay, else 2), or ``None`` if it is not in
    the native gate set.

    Args:
        circuit: the circuit; qubit ``i`` is written ``q[i]`` (physical qubit ``i``).
        clbit_names: each clbit index -> its name in the program, e.g. ``"c[3]"``.
        registers: each classical register of the program: name and size, in declaration order.
        data: the circuit's instructions, if the caller has them as a list already.
        dt: the device's sample time, for delays given in ``dt``.
        check: ``(allowed, no_reuse)``: also check each operation while writing it, and return
            ``None`` at the first doubt: an operation or qubits ``allowed`` (the Target's table)
            does not list, or, with ``no_reuse``, a qubit used after it was measured. The caller
            then runs the full check, which explains the problem (one pass instead of two: this
            is most of the provider's own time per circuit).
    """
    if not circuit.num_qubits:
        return None
    instructions = list(circuit.data if data is None else data)
    qasm3 = has_delay(instructions)
    qubit_names = {bit: f"q[{index}]" for index, bit in enumerate(circuit.qubits)}
    qubit_index = {bit: index for index, bit in enumerate(circuit.qubits)}
    clbit_of = {bit: clbit_names[index] for index, bit in enumerate(circuit.clbits) if index in clbit_names}
    allowed, no_reuse = check if check is not None else (None, False)
    measured: set[object] = set()
    body: list[str] = []
    uses_ecr = False
    for instruction in instructions:
        name = instruction.name
        qubits = instruction.qubits
        if _HAS_C_IF and getattr(instruction.operation, "_condition", None) is not None:
            return None
        if allowed is not None and name != "barrier":
            if name not in allowed:
                return None
            permitted = allowed[name]
            if permitted is not None and tuple(qubit_index[q] for q in qubits) not in permitted:
                return None
            if no_reuse and measured and not measured.isdisjoint(qubits):
                return None
        if name == "rz":
            text = qasm2_real(instruction.params[0])
            if text is None:
                return None
            body.append(f"rz({text}) {qubit_names[qubits[0]]};\n")
        elif name in _PLAIN:
            if instruction.params:
                return None
            uses_ecr = uses_ecr or name == "ecr"
            body.append(f"{name} {','.join(qubit_names[q] for q in qubits)};\n")
        elif name == "measure":
            clbit = clbit_of.get(instruction.clbits[0])
            if clbit is None:
                return None
            qubit = qubit_names[qubits[0]]
            body.append(f"{clbit} = measure {qubit};\n" if qasm3 else f"measure {qubit} -> {clbit};\n")
            measured.add(qubits[0])
        elif name == "delay":
            nanoseconds = nanoseconds_of(instruction.operation, dt)
            if nanoseconds is None:
                return None
            body.append(f"delay[{qasm3_nanoseconds(nanoseconds)}] {qubit_names[qubits[0]]};\n")
        elif name == "barrier":
            if qubits:
                body.append(f"barrier {','.join(qubit_names[q] for q in qubits)};\n")
        else:
            return None
    if qasm3:
        declarations = [HEADER_QASM3, f"qubit[{circuit.num_qubits}] q;\n"]
        declarations.extend(f"bit[{size}] {name};\n" for name, size in registers)
    else:
        declarations = [HEADER, ECR_DEFINITION] if uses_ecr else [HEADER]
        declarations.append(f"qreg q[{circuit.num_qubits}];\n")
        declarations.extend(f"creg {name}[{size}];\n" for name, size in registers)
    return "".join(declarations) + "".join(body)


def has_delay(instructions: Iterable[CircuitInstruction]) -> bool:
    """Whether a circuit waits anywhere: then it is written as OpenQASM 3 (see the module's docstring)."""
    return any(instruction.name == "delay" for instruction in instructions)


def nanoseconds_of(operation: object, dt: float | None) -> Decimal | None:
    """A Delay's duration in nanoseconds, exactly (decimal arithmetic on the numbers as written), or
    ``None`` when it cannot be known here (not a Delay, unbound, negative, ``dt`` without a ``dt``)."""
    if not isinstance(operation, Delay):
        return None
    duration = operation.params[0]
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        return None
    if operation.unit == "dt":
        scale = None if not dt else Decimal(repr(float(dt))) * NANOSECONDS["s"]
    else:
        scale = NANOSECONDS.get(operation.unit)
    amount = Decimal(duration) if isinstance(duration, int) else Decimal(repr(float(duration)))
    if scale is None or not amount.is_finite() or amount < 0:
        return None
    return amount * scale


def qasm3_nanoseconds(nanoseconds: Decimal) -> str:
    """An OpenQASM 3 duration literal in ns, e.g. ``400.0ns``, ``0.5ns`` (always a decimal point, never
    an exponent, as ``qiskit.qasm3.dumps`` writes them)."""
    text = format(nanoseconds.normalize(), "f")
    return f"{text if '.' in text else text + '.0'}ns"
