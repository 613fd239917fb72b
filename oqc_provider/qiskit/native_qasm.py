"""A fast OpenQASM writer for circuits already in the QPU's native gates.

``qiskit.qasm2.dumps`` is general: it rebuilds the circuit's gate definitions, formats every angle as a
multiple of pi and copies the circuit, which costs about 1.7 ms for a 130-gate circuit, as much as Aer
takes to run it. A transpiled circuit holds only ``rz``, ``sx``, ``x``, ``ecr``, ``measure``,
``barrier``, ``reset`` and ``delay`` (the Target offers nothing else), so its program is one line per
instruction, written here in a single pass. The text is the program ``dumps`` writes for the same
circuit, up to spelling: angles are written exactly (``repr`` of the float, always with a decimal point
as OpenQASM 2 requires) instead of rounded to a fraction of pi. Tests parse both and compare every
operation, and pin the text byte for byte (``tests/qiskit/test_wire_pinned.py``).

The writer reads each instruction once and builds as little as it can per instruction: the circuit's
operation names come from one ``count_ops`` call (no instruction objects), and each distinct operation on
its qubits (``ecr q[1],q[2];``) is checked against the Target and spelt once, then looked up; so is each
distinct angle. Both are kept between circuits (a batch's circuits share their qubits, lines and many
angles), within bounds.

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

from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

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
#: Operations on one qubit whose line has more than the qubit: an angle, a clbit, a duration.
_ONE_QUBIT_OPERAND = frozenset({"rz", "measure", "delay"})
#: Never checked against the Target (as in :func:`oqc_provider.qiskit.translate.check_circuit`).
BOOKKEEPING = frozenset({"barrier"})
#: Only Qiskit 1.x has ``c_if`` conditions; reading ``instruction.operation`` to look for one costs a
#: Python gate object per instruction, which Qiskit 2 circuits never need.
_HAS_C_IF = int(qiskit.__version__.split(".", 1)[0]) < 2
#: Which qubit tuples each operation may act on (None: any), from the Target: see ``check``.
Allowed = Mapping[str, frozenset[tuple[int, ...]] | None]
#: How many qubit layouts' spellings, and how many angles' spellings, are kept between circuits
#: (a batch shares them; the bounds keep a long-lived process small).
_KEPT_LAYOUTS = 64
_KEPT_ANGLES = 1 << 15
#: How many lines are kept per qubit layout (barriers over ever new sets of qubits are not kept beyond).
_KEPT_LINES = 1 << 12
#: Each non-zero float angle's spelling, learnt by earlier circuits.
_ANGLES: dict[float, str] = {}


def native_program(
    circuit: QuantumCircuit,
    clbit_names: Mapping[int, str],
    registers: Sequence[tuple[str, int]],
    data: Iterable[CircuitInstruction] | None = None,
    *,
    dt: float | None = None,
    check: tuple[Allowed, bool] | None = None,
    names: Collection[str] | None = None,
) -> str | None:
    """The program of ``circuit`` (OpenQASM 3 if it has a delay, else 2), or ``None`` if it is not in
    the native gate set.

    Args:
        circuit: the circuit; qubit ``i`` is written ``q[i]`` (physical qubit ``i``).
        clbit_names: each clbit index -> its name in the program, e.g. ``"c[3]"``.
        registers: each classical register of the program: name and size, in declaration order.
        data: the instructions to write, if not the circuit's own (e.g. with idle delays left out).
        dt: the device's sample time, for delays given in ``dt``.
        check: ``(allowed, no_reuse)``: also check each operation while writing it, and return
            ``None`` at the first doubt: an operation or qubits ``allowed`` (the Target's table)
            does not list, or, with ``no_reuse``, a qubit used after it was measured. The caller
            then runs the full check, which explains the problem (one pass instead of two: this
            is most of the provider's own time per circuit).
        names: the names of the operations written (:func:`operation_names`), if the caller has them.
    """
    if not circuit.num_qubits:
        return None
    if data is None:
        instructions: Iterable[CircuitInstruction] = circuit.data
        names = operation_names(circuit) if names is None else names
    else:
        instructions = data = list(data)
        names = {instruction.name for instruction in data} if names is None else names
    allowed, no_reuse = check if check is not None else (None, False)
    if allowed is not None and any(name not in allowed for name in names if name not in BOOKKEEPING):
        return None
    qasm3 = "delay" in names
    spellings = _Spellings.of(circuit, allowed)
    known, angles = spellings.known, _ANGLES
    clbit_of = {bit: clbit_names[index] for index, bit in enumerate(circuit.clbits) if index in clbit_names}
    measured: set[object] = set()
    body: list[str] = []
    write = body.append
    has_c_if = _HAS_C_IF
    for instruction in instructions:
        name = instruction.name
        qubits = instruction.qubits
        if has_c_if and getattr(instruction.operation, "_condition", None) is not None:
            return None
        text = known.get((name, qubits))
        if text is None:
            text = spellings.learn(name, qubits)
            if text is None:
                return None
        if measured and no_reuse and name != "barrier" and not measured.isdisjoint(qubits):
            return None
        # Most frequent first. Qiskit's own sx, x and ecr have no parameters; a custom gate of the
        # same name with parameters is not native.
        if name in _PLAIN and (instruction.is_standard_gate() or not instruction.params):
            write(text)  # the whole line
        elif name == "rz":
            angle = instruction.params[0]
            written = angles.get(angle) if type(angle) is float and angle else None
            if written is None:
                written = _learn_angle(angle)
                if written is None:
                    return None
            write(f"rz({written}) {text};\n")
        elif name == "measure":
            clbit = clbit_of.get(instruction.clbits[0])
            if clbit is None:
                return None
            write(f"{clbit} = measure {text};\n" if qasm3 else f"measure {text} -> {clbit};\n")
            measured.add(qubits[0])
        elif name == "delay":
            nanoseconds = nanoseconds_of(instruction.operation, dt)
            if nanoseconds is None:
                return None
            write(f"delay[{qasm3_nanoseconds(nanoseconds)}] {text};\n")
        elif name == "barrier":
            write(text)
        else:
            return None  # a custom gate named like a native one, with parameters
    if qasm3:
        declarations = [HEADER_QASM3, f"qubit[{circuit.num_qubits}] q;\n"]
        declarations.extend(f"bit[{size}] {name};\n" for name, size in registers)
    else:
        declarations = [HEADER, ECR_DEFINITION] if "ecr" in names else [HEADER]
        declarations.append(f"qreg q[{circuit.num_qubits}];\n")
        declarations.extend(f"creg {name}[{size}];\n" for name, size in registers)
    return "".join(declarations) + "".join(body)


class _Spellings:
    """Each distinct operation on its qubits, checked and spelled once for every circuit on the same
    qubits (a batch's circuits usually are) against the same Target table.

    Most of a transpiled circuit's lines recur (``sx q[3];``, ``ecr q[1],q[2];``): looking a line up
    costs a fraction of building it. Circuits are told apart by their qubits (equal qubits at equal
    positions give equal spellings) and the table by identity (kept here, so it cannot be reused).
    """

    _kept: ClassVar[dict[tuple[int, tuple[object, ...]], _Spellings]] = {}

    def __init__(self, qubits: Sequence[object], allowed: Allowed | None) -> None:
        self.allowed = allowed
        self.qubit_index = {bit: index for index, bit in enumerate(qubits)}
        #: (operation name, qubits) -> the whole line (``sx``, ``x``, ``ecr``, ``reset``, ``barrier``)
        #: or the qubit operand (``rz``, ``measure``, ``delay``), once allowed.
        self.known: dict[tuple[str, tuple[object, ...]], str] = {}

    @classmethod
    def of(cls, circuit: QuantumCircuit, allowed: Allowed | None) -> _Spellings:
        """The spellings for ``circuit``'s qubits under ``allowed`` (None: unchecked), kept."""
        qubits = tuple(circuit.qubits)
        key = (id(allowed), qubits)
        found = cls._kept.get(key)
        if found is not None and found.allowed is allowed:
            return found
        if len(cls._kept) >= _KEPT_LAYOUTS:  # a long-lived process writing for many layouts
            cls._kept.clear()
        spellings = cls._kept[key] = cls(qubits, allowed)
        return spellings

    def learn(self, name: str, qubits: tuple[object, ...]) -> str | None:
        """The text for ``name`` on ``qubits``, remembered; None if it is not native or not allowed."""
        indices = tuple(self.qubit_index[qubit] for qubit in qubits)
        if self.allowed is not None and name not in BOOKKEEPING:
            permitted = self.allowed.get(name, ())
            if permitted is not None and indices not in permitted:
                return None
        operands = ",".join(f"q[{index}]" for index in indices)
        if name in _PLAIN:
            text = f"{name} {operands};\n"
        elif name == "barrier":
            text = f"barrier {operands};\n" if qubits else ""
        elif name in _ONE_QUBIT_OPERAND and len(indices) == 1:
            text = operands
        else:
            return None
        if len(self.known) < _KEPT_LINES:
            self.known[(name, qubits)] = text
        return text


def _learn_angle(angle: object) -> str | None:
    """``angle`` spelt exactly (:func:`~oqc_provider.openqasm.qasm2_real`), remembered in ``_ANGLES``
    if it is a non-zero float (0.0 and -0.0 are equal keys but spelt differently: never kept)."""
    text = qasm2_real(angle)
    if text is not None and type(angle) is float and angle:
        if len(_ANGLES) >= _KEPT_ANGLES:
            _ANGLES.clear()
        _ANGLES[angle] = text
    return text


def operation_names(circuit: QuantumCircuit) -> Collection[str]:
    """The names of the operations in ``circuit``, read in one call (no instruction objects built)."""
    return circuit.count_ops().keys()


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
