"""Qiskit circuits on their way to a QPU: checked against the Target, then written as OpenQASM.

:func:`check_circuit` refuses what the QPU cannot run *before* anything is sent, with a message
that names the circuit, the gate and the qubits and says to transpile. :func:`to_wire` writes the
program the service receives: one quantum register ``q`` (``q[i]`` is physical qubit ``i``), the
circuit's classical registers under their own names, and any clbits outside a register gathered in
one more register. It also records which of the circuit's clbits each register bit is, so results
map back onto the circuit exactly (see :mod:`oqc_provider.qiskit.results`).

Why two languages: the service's compiler (QAT 3.5) reads every duration in seconds, and its
OpenQASM 2 reader accepts only a whole number in ``delay(x)``, so no OpenQASM 2 text asks it for a
400 ns wait (``delay(4e-07)`` is refused; ``delay(800)``, 800 dt, would be 800 *seconds*). Its
OpenQASM 3 reader takes ``delay[400.0ns] q[5];``. So a circuit with a delay is written as OpenQASM 3,
each delay in nanoseconds converted exactly from the circuit's unit (never ``dt``), and is run with
the per-shot ``raw()`` results format (:attr:`WireProgram.per_shot`): QAT's counts runtime refuses a
fractional OpenQASM 3 delay, its pulse-level runtime runs it, and the raw shots decode into counts and
memory like any raw result. QAT never places or routes OpenQASM 3, so such a circuit keeps its qubits
under every optimisation setting. Circuits without delays keep the OpenQASM 2 fast path. On a QPU known
to refuse OpenQASM 3 with a two-qubit gate (Toshiko, :mod:`oqc_provider.service_observations`) the backend
leaves out delays that cannot change a result (:func:`without_idle_delays`), so a scheduled circuit whose
every delay is idle goes as OpenQASM 2.

``id`` is refused by :func:`check_circuit` (the Target does not offer it, and QAT refuses it: "Gate id
isn't intrinsic and has no body"); ``transpile`` removes it, and a wait is a ``delay``.

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
    >>> _ = qc.delay(800, 0, unit="dt")
    >>> waits = to_wire(qc, dt=0.5e-9)
    >>> waits.per_shot, waits.program.splitlines()[0], waits.program.splitlines()[-1]
    (True, 'OPENQASM 3.0;', 'delay[400.0ns] q[0];')
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from qiskit import qasm2, qasm3
from qiskit.circuit import (
    CircuitInstruction,
    ClassicalRegister,
    Clbit,
    ControlFlowOp,
    Delay,
    QuantumCircuit,
    QuantumRegister,
)
from qiskit.transpiler import Target

from oqc_provider.devices import DeviceSpec
from oqc_provider.errors import OqcProviderError
from oqc_provider.qiskit.native_qasm import (
    BOOKKEEPING,
    Allowed,
    nanoseconds_of,
    native_program,
    operation_names,
)

_IDENTIFIER = re.compile(r"^[a-z][A-Za-z0-9_]*$")
#: Names a register may not take in OpenQASM 2 (keywords, qelib1 and device gates).
_RESERVED_WORDS = (
    "OPENQASM include qreg creg gate opaque measure reset barrier if U CX pi sin cos tan exp ln sqrt q "
    "ecr delay id u0 u1 u2 u3 u p x y z h s sdg t tdg rx ry rz sx sxdg cx cy cz ch swap ccx cswap crx cry "
    "crz cu1 cp cu3 csx cu rxx rzz rccx rc3x c3x c3sqrtx c4x"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())
#: More names an OpenQASM 3 register may not take (keywords, types, stdgates.inc gates).
_RESERVED_QASM3_WORDS = (
    "input output let box duration stretch angle float int uint bool bit qubit const def return for while in "
    "end break continue extern defcal cal ctrl negctrl inv pow gphase durationof array complex else switch "
    "case default pragma include measure reset barrier delay true false mutable readonly phase cphase gate"
)
_RESERVED_QASM3 = _RESERVED | frozenset(_RESERVED_QASM3_WORDS.split())
#: How ``qasm3.dumps`` defines ``ecr`` (not in stdgates.inc).
_QASM3_ECR_DEFINITION = re.compile(r"^gate ecr [^{]*\{[^}]*\}\n", re.MULTILINE)
#: Per Target (by identity): each operation's allowed qubit tuples (None: any qubits). Targets
#: are built once per backend and cannot be weakly referenced, so the Target is kept beside its table.
_SUPPORT: dict[int, tuple[Target, dict[str, frozenset[tuple[int, ...]] | None]]] = {}


class CircuitValidationError(OqcProviderError, ValueError):
    """A circuit the QPU cannot run as it stands; the message says what to change."""


class ConditionalOperationError(CircuitValidationError):
    """A circuit with classically controlled operations (``if_else``, loops, ``switch``, ``c_if``):
    QCaaS refuses them, so they are refused before anything is sent."""


def _condition(operation: object) -> bool:
    """Whether ``operation`` carries a Qiskit 1.x ``c_if`` condition (gone in Qiskit 2)."""
    return getattr(operation, "_condition", None) is not None


@dataclass(frozen=True)
class WireProgram:
    """A circuit as the service receives it.

    Attributes:
        program: OpenQASM 2 text, or OpenQASM 3 for a circuit with delays (see the module docstring).
        registers: each classical register of the program, with the index (in the original
            circuit) of the clbit behind each of its bits, in register order.
        openqasm: the program's OpenQASM major version, 2 or 3.
    """

    program: str
    registers: tuple[tuple[str, tuple[int, ...]], ...]
    openqasm: int = 2

    @property
    def per_shot(self) -> bool:
        """Whether the program must run with the per-shot ``raw()`` results format: OpenQASM 3 (its
        fractional delays are refused by QAT's counts runtime, accepted by its pulse-level one)."""
        return self.openqasm == 3


def wire_hint(wire: WireProgram) -> str:
    """Why the program has the language it has, for a preflight refusal ("" for OpenQASM 2).

    A circuit with delays is written as OpenQASM 3, which Toshiko refuses beside a two-qubit gate
    (:mod:`oqc_provider.service_observations`); OpenQASM 2 cannot carry those delays.
    """
    if wire.openqasm != 3:
        return ""
    return (
        "Why OpenQASM 3: the circuit waits between two operations on a qubit (a delay; scheduling with "
        "transpile(..., scheduling_method=...) adds them), and OpenQASM 2 cannot carry a wait shorter "
        "than a second: QAT's OpenQASM 2 reader takes whole seconds only (\"the custom 'delay' "
        'instruction can only accept an integer parameter", QAT 3.5 pipeline path, '
        "tests/fixtures/qat/preflight.json). Idle delays (before a qubit's first operation or after its "
        "last) are left out already; without the others (the service schedules the program itself) the "
        "circuit is sent as OpenQASM 2."
    )


def circuit_label(circuit: QuantumCircuit, index: int) -> str:
    """How messages refer to a circuit: its name and its place in the batch."""
    return f"circuit {index} ({circuit.name!r})"


def _support(target: Target) -> dict[str, frozenset[tuple[int, ...]] | None]:
    """Which qubits each of ``target``'s operations may act on, read from the Target once.

    ``Target.instruction_supported`` costs microseconds per call, i.e. a large share of a
    transpiled 130-gate circuit's whole trip through the provider; a set lookup does not.
    """
    cached = _SUPPORT.get(id(target))
    if cached is not None and cached[0] is target:
        return cached[1]
    table: dict[str, frozenset[tuple[int, ...]] | None] = {}
    for name in target.operation_names:
        qargs = target.qargs_for_operation_name(name)
        table[name] = None if qargs is None else frozenset(tuple(q) for q in qargs)
    if len(_SUPPORT) > 64:  # a long-lived process making many backends: keep the cache small
        _SUPPORT.clear()
    _SUPPORT[id(target)] = (target, table)
    return table


def check_circuit(
    circuit: QuantumCircuit,
    target: Target,
    spec: DeviceSpec,
    index: int = 0,
    data: Sequence[CircuitInstruction] | None = None,
) -> None:
    """Raise :class:`CircuitValidationError` unless ``circuit`` runs on the QPU as it stands.

    Checks the qubit count, unbound parameters, classical control (refused by the service), each
    operation against the Target (gate and qubits, ECR direction included) and, on devices without
    mid-circuit measurement, that no qubit is used after it was measured. ``data`` is
    ``list(circuit.data)`` when the caller has it: each pass over ``circuit.data`` builds every
    instruction's Python objects anew.
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
    support = _support(target)
    qubit_index = {bit: position for position, bit in enumerate(circuit.qubits)}
    check_reuse = not spec.supports_mid_circuit_measurement
    measured: set[int] = set()
    for instruction in circuit.data if data is None else data:
        name = instruction.operation.name
        if name in BOOKKEEPING:
            continue
        qubits = tuple(qubit_index[q] for q in instruction.qubits)
        if isinstance(instruction.operation, ControlFlowOp) or _condition(instruction.operation):
            raise ConditionalOperationError(
                f"{label}: {name!r} on qubits {qubits} is classically controlled, which {spec.name} "
                "cannot run (OQC's compiler refuses conditionals: \"If's are currently unable to be "
                'used"). Measure at the end and post-process the results instead.'
            )
        if name not in support:
            extra = " This QPU does not support reset." if name == "reset" else ""
            if name == "id":
                extra = (
                    " An identity does nothing, and OQC's compiler refuses 'id' (\"Gate id isn't "
                    'intrinsic and has no body"): remove it (transpile does), or idle with '
                    "circuit.delay(duration, qubit, unit)."
                )
            raise CircuitValidationError(
                f"{label}: gate {name!r} on qubits {qubits} is not supported by {spec.name}.{extra} "
                f"Its operations are {sorted(target.operation_names)}. {fix}"
            )
        allowed = support[name]
        if allowed is not None and qubits not in allowed:
            if name == "ecr" and qubits[::-1] in allowed:
                problem = (
                    f"ecr on qubits {qubits} runs in the wrong direction: {spec.name} only has "
                    f"ecr with control {qubits[1]} and target {qubits[0]}"
                )
            else:
                problem = f"gate {name!r} cannot act on qubits {qubits} of {spec.name}"
                if len(qubits) == 2:
                    problem += " (they are not coupled)"
            raise CircuitValidationError(f"{label}: {problem}. {fix}")
        if check_reuse:
            reused = [q for q in qubits if q in measured]
            if reused:
                raise CircuitValidationError(
                    f"{label}: {name!r} uses qubit {reused[0]} after it was measured, but {spec.name} "
                    "does not support mid-circuit measurement. Move every measurement to the end."
                )
        if name == "measure":
            measured.update(qubits)


def _register_name(wanted: str, taken: set[str], fallback: str, reserved: frozenset[str] = _RESERVED) -> str:
    name = wanted if _IDENTIFIER.match(wanted) and wanted not in reserved else fallback
    base, suffix = name, 1
    while name in taken or name in reserved:
        name = f"{base}_{suffix}"
        suffix += 1
    taken.add(name)
    return name


def delay_nanoseconds(delay: Delay, dt: float | None, label: str) -> float:
    """A delay's duration in nanoseconds, the unit its OpenQASM 3 text is written in (never ``dt``).

    Raises:
        CircuitValidationError: an unbound or negative duration, or a ``dt`` delay on a device
            without ``dt``.
    """
    duration = delay.params[0]
    if not isinstance(duration, int | float):
        raise CircuitValidationError(f"{label}: a delay has an unbound duration ({duration}). Bind it first.")
    if delay.unit == "dt" and not dt:
        raise CircuitValidationError(f"{label}: a delay in 'dt' needs the device's dt, which is unknown.")
    nanoseconds = nanoseconds_of(delay, dt)
    if nanoseconds is None:
        raise CircuitValidationError(
            f"{label}: cannot convert a delay of {duration!r} {delay.unit} to a time; give a finite, "
            "non-negative duration in s, ms, us, ns, ps or dt."
        )
    return float(nanoseconds)


def to_wire(
    circuit: QuantumCircuit,
    dt: float | None,
    index: int = 0,
    *,
    native: bool = True,
    data: Sequence[CircuitInstruction] | None = None,
) -> WireProgram:
    """Write ``circuit`` as the program the service runs, with its register layout.

    OpenQASM 2, or OpenQASM 3 when the circuit has a delay (see the module docstring). A circuit in
    native gates (what ``transpile`` for the backend gives) is written by the fast writer of
    :mod:`oqc_provider.qiskit.native_qasm`; anything else, or ``native=False``, goes through
    ``qiskit.qasm2.dumps`` / ``qiskit.qasm3.dumps``. Both give the same program (tests parse and
    compare them).
    ``data``: the instructions to write, if not all of the circuit's (idle delays left out: see
    :func:`checked_wire`).
    """
    names = _names(circuit, data)
    registers, openqasm = _registers(circuit, names)
    if native:
        program = _native(circuit, dt, data, registers, names=names)
        if program is not None:
            return WireProgram(program, tuple(registers), openqasm)
    label = circuit_label(circuit, index)
    instructions = list(circuit.data) if data is None else data
    program = _dumps(circuit, dt, label, registers, openqasm, instructions)
    return WireProgram(program, tuple(registers), openqasm)


def without_idle_delays(
    circuit: QuantumCircuit, instructions: Sequence[CircuitInstruction]
) -> list[CircuitInstruction] | None:
    """``instructions`` without the delays that cannot change a result, or None if another delay remains.

    A delay before a qubit's first operation waits in the ground state, which does not decay, and one
    after its last operation comes after everything that can be observed: scheduling
    (``transpile(..., scheduling_method="alap")``) pads idle and unused qubits with such delays. A delay
    between two operations on its qubit (barriers aside) is a real wait, and then nothing is dropped.
    """
    qubit_index = {bit: position for position, bit in enumerate(circuit.qubits)}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for position, instruction in enumerate(instructions):
        if instruction.name in ("delay", "barrier"):
            continue
        for qubit in instruction.qubits:
            first.setdefault(qubit_index[qubit], position)
            last[qubit_index[qubit]] = position
    kept = []
    for position, instruction in enumerate(instructions):
        if instruction.name == "delay":
            qubit = qubit_index[instruction.qubits[0]]
            if qubit not in first or not first[qubit] < position < last[qubit]:
                continue  # idle: before the qubit's first operation or after its last
            return None
        kept.append(instruction)
    return kept


def checked_wire(
    circuit: QuantumCircuit,
    target: Target,
    spec: DeviceSpec,
    index: int = 0,
    *,
    drop_idle_delays: bool = False,
) -> WireProgram:
    """:func:`check_circuit` then :func:`to_wire`, in one pass over a transpiled circuit.

    A circuit in native gates is checked while it is written (the Target's table, the ECR direction,
    qubits reused after a measurement); at the first doubt, or for anything else, the full check
    runs and raises its explanation, and the circuit is written as :func:`to_wire` would.
    ``drop_idle_delays``: leave out delays that cannot change a result (:func:`without_idle_delays`)
    when every delay is one, so the circuit is written as OpenQASM 2 (for a QPU known to refuse
    OpenQASM 3 with a two-qubit gate).

    Raises:
        CircuitValidationError: as :func:`check_circuit`.
    """
    # Instruction objects are built only where needed: the fast path reads the circuit once.
    instructions: list[CircuitInstruction] | None = None
    if drop_idle_delays and "delay" in operation_names(circuit):
        instructions = list(circuit.data)
        instructions = without_idle_delays(circuit, instructions) or instructions
    if circuit.num_qubits <= target.num_qubits and not circuit.num_parameters:
        names = _names(circuit, instructions)
        registers, openqasm = _registers(circuit, names)
        check = (_support(target), not spec.supports_mid_circuit_measurement)
        program = _native(circuit, spec.dt, instructions, registers, check, names)
        if program is not None:
            return WireProgram(program, tuple(registers), openqasm)
    if instructions is None:
        instructions = list(circuit.data)
    check_circuit(circuit, target, spec, index, instructions)
    return to_wire(circuit, spec.dt, index, data=instructions)


def _native(
    circuit: QuantumCircuit,
    dt: float | None,
    instructions: Sequence[CircuitInstruction] | None,
    registers: Sequence[tuple[str, tuple[int, ...]]],
    check: tuple[Allowed, bool] | None = None,
    names: Collection[str] | None = None,
) -> str | None:
    """The fast writer's program for ``circuit`` (or ``instructions`` of it) laid out in ``registers``,
    or None."""
    clbit_names = {
        clbit: f"{name}[{position}]" for name, indices in registers for position, clbit in enumerate(indices)
    }
    sizes = [(name, len(indices)) for name, indices in registers]
    return native_program(circuit, clbit_names, sizes, instructions, dt=dt, check=check, names=names)


def _names(circuit: QuantumCircuit, instructions: Sequence[CircuitInstruction] | None) -> Collection[str]:
    """The names of the operations in ``instructions`` of the circuit, or in all of it."""
    if instructions is None:
        return operation_names(circuit)
    return {instruction.name for instruction in instructions}


def _registers(
    circuit: QuantumCircuit, names: Collection[str]
) -> tuple[list[tuple[str, tuple[int, ...]]], int]:
    """The program's classical registers (name, clbit indices) and its OpenQASM version, for a
    program of operations ``names`` (:func:`_names`)."""
    openqasm = 3 if "delay" in names else 2
    reserved = _RESERVED_QASM3 if openqasm == 3 else _RESERVED
    taken: set[str] = set()
    cregs, clbits = circuit.cregs, circuit.clbits
    if len(cregs) == 1 and list(cregs[0]) == clbits:  # the usual layout, read without a bit-by-bit map
        everything = tuple(range(len(clbits)))
        return (
            [(_register_name(cregs[0].name, taken, "c0", reserved), everything)] if clbits else []
        ), openqasm
    covered: set[int] = set()
    registers: list[tuple[str, tuple[int, ...]]] = []
    clbit_index = {bit: position for position, bit in enumerate(clbits)}
    for number, creg in enumerate(cregs):
        indices = tuple(clbit_index[bit] for bit in creg)
        if indices and not covered.intersection(indices):  # overlapping registers: bits go once
            registers.append((_register_name(creg.name, taken, f"c{number}", reserved), indices))
            covered.update(indices)
    loose = tuple(i for i in range(circuit.num_clbits) if i not in covered)
    if loose:
        registers.append((_register_name("loose_bits", taken, "loose_bits", reserved), loose))
    return registers, openqasm


def _dumps(
    circuit: QuantumCircuit,
    dt: float | None,
    label: str,
    registers: list[tuple[str, tuple[int, ...]]],
    openqasm: int,
    instructions: Sequence[CircuitInstruction],
) -> str:
    """The program through ``qasm2.dumps`` (``qasm3.dumps`` for ``openqasm=3``): ``instructions`` of
    the circuit rebuilt on ``q`` and the wire registers, delays in nanoseconds."""
    qreg = QuantumRegister(circuit.num_qubits, "q")
    wire = QuantumCircuit(qreg, name=circuit.name)
    clbit_of: dict[int, Clbit] = {}
    for name, indices in registers:
        creg = ClassicalRegister(len(indices), name)
        wire.add_register(creg)
        clbit_of.update(zip(indices, creg, strict=True))
    for instruction in instructions:
        operation = instruction.operation
        if isinstance(operation, Delay):
            operation = Delay(delay_nanoseconds(operation, dt, label), "ns")
        wire.append(
            operation,
            [qreg[circuit.find_bit(q).index] for q in instruction.qubits],
            [clbit_of[circuit.find_bit(c).index] for c in instruction.clbits],
            copy=False,
        )
    if openqasm == 3:
        try:
            program = qasm3.dumps(wire)
        except qasm3.QASM3ExporterError as exc:
            raise CircuitValidationError(f"{label} cannot be written as OpenQASM 3: {exc}") from exc
        # The device's ``ecr`` is built into the service's OpenQASM 3 reader: no definition.
        program = _QASM3_ECR_DEFINITION.sub("", program)
        declared = "bit[{size}] {name};"
    else:
        try:
            program = qasm2.dumps(wire)
        except qasm2.QASM2ExportError as exc:
            raise CircuitValidationError(f"{label} cannot be written as OpenQASM 2: {exc}") from exc
        declared = "creg {name}[{size}];"
    for name, indices in registers:  # the exporter must not have renamed a register we map back by
        if declared.format(name=name, size=len(indices)) not in program:
            raise CircuitValidationError(f"{label}: the register {name!r} did not survive OpenQASM export.")
    return program
