"""A fast path for the programs front ends send: OpenQASM 2 already in the device's native gates.

Reading such a program with ``qiskit.qasm2.loads`` and then checking it (``validate``) costs about
1.4 ms for a 130-gate circuit, most of Aer's own time to run it. A transpiled program is one
``rz``/``sx``/``x``/``ecr``/``measure``/``barrier`` per line on one quantum register, so it is
read here line by line, and checked *while* it is read (native gate, ECR direction, width,
mid-circuit measurement) instead of in a second pass over the circuit just built.

Programs for one device repeat most of their lines (``sx q[3];``, ``rz(pi/2) q[1];``, each
``measure``): about 86% of the lines of 500 random transpiled circuits are lines an earlier one
had. So each distinct line is read (regular expression, angle, static checks) and turned into its
immutable ``CircuitInstruction`` once per program header and device, and remembered
(:class:`_Reader`); a program is then one dictionary look-up per line and one bulk append. Only the
check that depends on what came before in the program (no operation on a measured qubit) is made
per program, from its first measurement on.

The fast path only ever accepts: any line it does not recognise, and any program that breaks a
rule, returns ``None`` and the task takes the general path (``parse_program`` →
``lowering.lower_circuit``), which gives the same circuit for valid programs (tests compare them operation by
operation, angles bit for bit) and the explanatory error (or the turned ECR) for the others.
It is only taken when QCaaS would not move the program's qubits (``Tket(Empty)``, as front ends send).
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.programs import ECR_DEFINITIONS, Layout

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.circuit import CircuitInstruction

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

#: One line read: its instruction, the qubits it uses (none for a barrier, which uses no qubit and
#: is not counted), whether it is a measurement, and the global clbit it measures into (0 if not).
_Line = tuple["CircuitInstruction", tuple[int, ...], bool, int]


class _Blank:
    """What a blank line reads as: nothing to add (not a tuple, so ``in`` never compares lines)."""


_BLANK: Final = _Blank()
#: Bounds on what a process remembers, so a long-lived simulator process's memory stays flat: past
#: either, everything is forgotten and relearnt from the programs that follow. A line takes about
#: 0.7 KB (tracemalloc, the 10,000 distinct lines of the benchmark's 500 programs): 30,000 lines,
#: about 20 MB.
_MAX_READERS = 64
_MAX_LINES = 30_000


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


class _Reader:
    """Reads the lines of programs that share one header (registers) on one device, remembering each.

    Everything a line's acceptance depends on, apart from earlier measurements, is fixed by the
    header and the device (its native gates, couplings, reset), which key the reader; so a line read
    once is valid (or not) everywhere the reader is used.
    """

    def __init__(self, qreg_name: str, width: int, cregs: tuple[tuple[str, int], ...], spec: DeviceSpec):
        from qiskit.circuit import (
            Barrier,
            CircuitInstruction,
            ClassicalRegister,
            Measure,
            QuantumRegister,
            Reset,
        )
        from qiskit.circuit.library import ECRGate, IGate, RZGate, SXGate, XGate

        self.instruction = CircuitInstruction
        self.barrier = Barrier
        #: One operation of each kind serves every instruction: none is ever changed in place.
        self.operations = {"sx": SXGate(), "x": XGate(), "id": IGate(), "reset": Reset()}
        self.ecr, self.measure = ECRGate(), Measure()
        # A Python gate, not Qiskit's packed standard gate (CircuitInstruction.from_standard, what
        # circuit.rz makes): Qiskit keeps the object with the instruction, and Aer's assembly reads
        # every instruction's ``operation``, which for a packed gate builds a new Python gate each
        # time. Measured on the benchmark's 500 circuits: Aer's assembly 2.54 ms a circuit with
        # packed rz, 2.06 ms with these (2.08 ms for the transpiled circuits themselves).
        self.rz = RZGate

        self.qreg_name = qreg_name
        self.width = width
        self.qreg = QuantumRegister(width, qreg_name)
        self.cregs = {name: ClassicalRegister(size, name) for name, size in cregs}
        offsets = itertools.accumulate((size for _, size in cregs), initial=0)
        self.clbit_offsets = dict(zip((name for name, _ in cregs), offsets, strict=False))
        self.registers = tuple(
            (name, tuple(range(self.clbit_offsets[name], self.clbit_offsets[name] + size)))
            for name, size in cregs
        )
        self.native = frozenset(spec.native_gates)
        self.couplings = frozenset(spec.couplings)
        # ``id`` has no body QCaaS can run (QAT refuses it): the general path explains that.
        self.allowed = {
            "sx": "sx" in self.native,
            "x": "x" in self.native,
            "id": False,
            "reset": spec.supports_reset,
        }
        self.no_reuse = not spec.supports_mid_circuit_measurement
        self.known: dict[str, _Line | _Blank] = {}

    def line(self, raw: str) -> _Line | _Blank | None:
        """What ``raw`` adds to a program (remembered), or None if the fast path does not take it."""
        read = self._read(raw.strip())
        if read is not None:
            _readers.remember(self, raw, read)
        return read

    def _qubit(self, name: str, index: str) -> int | None:
        value = int(index)
        return value if name == self.qreg_name and value < self.width else None

    def _read(self, line: str) -> _Line | _Blank | None:
        if not line:
            return _BLANK
        qubits = self.qreg
        if line.startswith("rz("):
            match = _RZ.fullmatch(line)
            if match is None or "rz" not in self.native:
                return None
            target = self._qubit(match.group(6), match.group(7))
            if target is None:
                return None
            return self.instruction(self.rz(_angle(match)), (qubits[target],), ()), (target,), False, 0
        if line.startswith("ecr "):
            match = _ECR.fullmatch(line)
            if match is None or "ecr" not in self.native:
                return None
            control, target = self._qubit(*match.group(1, 2)), self._qubit(*match.group(3, 4))
            if control is None or target is None or (control, target) not in self.couplings:
                return None
            return (
                self.instruction(self.ecr, (qubits[control], qubits[target]), ()),
                (control, target),
                False,
                0,
            )
        if line.startswith("measure "):
            match = _MEASURE.fullmatch(line)
            if match is None or match.group(3) not in self.cregs:
                return None
            source = self._qubit(*match.group(1, 2))
            creg = self.cregs[match.group(3)]
            bit = int(match.group(4))
            if source is None or bit >= creg.size:
                return None
            instruction = self.instruction(self.measure, (qubits[source],), (creg[bit],))
            return instruction, (source,), True, self.clbit_offsets[creg.name] + bit
        if line.startswith("barrier "):
            match = _BARRIER.fullmatch(line)
            if match is None:
                return None
            indices = []
            for name, index in _INDEX.findall(match.group(1)):
                value = self._qubit(name, index)
                if value is None:
                    return None
                indices.append(value)
            barrier = self.barrier(len(indices))
            return self.instruction(barrier, tuple(qubits[i] for i in indices), ()), (), False, 0
        match = _ONE.fullmatch(line)
        if match is None or not self.allowed[match.group(1)]:
            return None
        target = self._qubit(*match.group(2, 3))
        if target is None:
            return None
        return self.instruction(self.operations[match.group(1)], (qubits[target],), ()), (target,), False, 0


def _extend(circuit: QuantumCircuit, instructions: Sequence[CircuitInstruction]) -> None:
    """Add checked ``instructions`` to the new ``circuit``, in one call where Qiskit has it.

    ``CircuitData.extend`` (the circuit's ``_data``; Qiskit's own ``circuit.data.sort()`` refills it so)
    takes the instructions without the per-call wrapper of ``QuantumCircuit._append``, whose only
    other work, resetting the circuit's duration, a new circuit does not need; it took a third of
    this module's time for a 141-operation program. ``_append``, Qiskit's documented fast path, is
    the fallback.
    """
    extend = getattr(getattr(circuit, "_data", None), "extend", None)
    if extend is not None:
        extend(instructions)
        return
    for instruction in instructions:  # pragma: no cover - a Qiskit without CircuitData.extend
        circuit._append(instruction)


class _Readers:
    """This process's readers, by header and device, and how many lines they remember in all."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[object, ...], _Reader] = {}
        self._lines = 0
        self._lock = threading.Lock()

    def get(
        self, qreg_name: str, width: int, cregs: tuple[tuple[str, int], ...], spec: DeviceSpec
    ) -> _Reader:
        """The reader for this header on this device, made the first time."""
        key = (
            qreg_name,
            width,
            cregs,
            spec.native_gates,
            spec.couplings,
            spec.supports_reset,
            spec.supports_mid_circuit_measurement,
        )
        reader = self._by_key.get(key)
        if reader is None:
            reader = _Reader(qreg_name, width, cregs, spec)
            with self._lock:
                if len(self._by_key) >= _MAX_READERS:
                    self._forget()
                self._by_key[key] = reader
        return reader

    def remember(self, reader: _Reader, raw: str, line: _Line | _Blank) -> None:
        """Keep ``line`` as what ``raw`` means to ``reader``, within the process's bound."""
        with self._lock:
            if self._lines >= _MAX_LINES:
                self._forget()
            reader.known[raw] = line
            self._lines += 1

    def _forget(self) -> None:
        for reader in self._by_key.values():
            reader.known.clear()
        self._by_key.clear()
        self._lines = 0


_readers = _Readers()


def parse_native(text: str, spec: DeviceSpec) -> tuple[QuantumCircuit, Layout] | None:
    """The circuit and layout of a valid native program for ``spec``; ``None`` to take the general path.

    >>> from oqc_provider.devices import LUCY_SIMULATOR
    >>> header = 'OPENQASM 2.0;\\ninclude "qelib1.inc";\\nqreg q[2];\\ncreg c[1];\\n'
    >>> body = "sx q[0];\\necr q[0],q[1];\\nmeasure q[1] -> c[0];\\n"
    >>> circuit, layout = parse_native(header + body, LUCY_SIMULATOR)
    >>> [instruction.name for instruction in circuit.data], layout.used_qubits, layout.instruction_count
    (['sx', 'ecr', 'measure'], (0, 1), 3)
    >>> parse_native(header + "h q[0];\\n", LUCY_SIMULATOR) is None  # not native: the general path
    True
    """
    from qiskit import QuantumCircuit

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
    cregs: dict[str, int] = {}
    while position < len(lines) and (creg_match := _CREG.fullmatch(lines[position].strip())):
        name, size = creg_match.group(1), int(creg_match.group(2))
        if name in cregs or name == qreg_name or size < 1:
            return None
        cregs[name] = size
        position += 1
    reader = _readers.get(qreg_name, width, tuple(cregs.items()), spec)
    circuit = QuantumCircuit(reader.qreg, *reader.cregs.values())
    known = reader.known
    body = lines[position:]
    read = list(map(known.get, body))
    if None in read:  # lines not read before: read them now (or decline the program)
        for index, line in enumerate(read):
            if line is None:
                line = reader.line(body[index])
                if line is None:
                    return None
                read[index] = line
    lines_read = [line for line in read if line is not _BLANK] if _BLANK in read else read
    instructions, operands, measures, clbits = (
        zip(*lines_read, strict=True) if lines_read else ((), (), (), ())
    )
    clbit_qubits: dict[int, int] = {}
    if True in measures:  # from the first measurement on: no operation on a measured qubit, where
        measured: set[int] = set()  # the device forbids it; each clbit holds the qubit measured last
        first = measures.index(True)
        for qubits, measure, clbit in zip(operands[first:], measures[first:], clbits[first:], strict=True):
            if reader.no_reuse and not measured.isdisjoint(qubits):
                return None  # the general path explains it
            if measure:
                measured.add(qubits[0])
                clbit_qubits[clbit] = qubits[0]
    _extend(circuit, instructions)
    used = tuple(sorted(set().union(*operands)))
    count = len(operands) - operands.count(())  # barriers are not counted
    return circuit, Layout(reader.registers, clbit_qubits, used, count)
