"""What an OpenQASM program QAT ran says about placement: physical qubits and measure map.

QAT allocates hardware qubits to quantum registers in declaration order (register ``q[2]`` then
``r[2]`` take qubits 0, 1 then 2, 3: ``AbstractParser._get_qreg_index_range`` in
``qat/purr/integrations/qasm.py``), and after tket placement the program it runs names hardware
qubit ``i`` as ``node[i]`` of one register that starts at 0. So "physical qubit" here is the
offset of the register plus the index, which covers both cases. Barriers are not counted as use:
QAT's parser drops them (``Qasm2Parser.process_barrier``).

Standard library only: this file runs under QAT's own interpreter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_GATE_DEF = re.compile(r"\bgate\s+[^{;]*\{[^}]*\}", re.DOTALL)
_COMMENT = re.compile(r"//[^\n]*")
_QREG2 = re.compile(r"^\s*qreg\s+(\w+)\s*\[\s*(\d+)\s*\]\s*$")
_QREG3 = re.compile(r"^\s*qubit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)\s*$")
_MEASURE2 = re.compile(r"^\s*measure\s+(.+?)\s*->\s*(.+?)\s*$")
_MEASURE3 = re.compile(r"^\s*(.+?)\s*=\s*measure\s+(.+?)\s*$")
_REF = re.compile(r"(\$\d+|\b\w+\b)(?:\s*\[\s*(\d+)\s*\])?")
_SKIP = ("OPENQASM", "include", "creg", "bit", "opaque", "barrier", "gate", "defcal", "cal")


@dataclass
class CircuitFacts:
    """The physical qubits a program touches and where each measurement lands."""

    physical_qubits: list[int] = field(default_factory=list)
    #: ``[physical_qubit, register, bit_index]`` per measurement, in program order.
    measures: list[list[object]] = field(default_factory=list)


def _statements(program: str) -> list[str]:
    text = _GATE_DEF.sub("", _COMMENT.sub("", program))
    return [s.strip() for s in text.split(";") if s.strip()]


def _bit_refs(text: str, sizes: dict[str, int]) -> list[tuple[str, int]]:
    """The (register, index) pairs a classical operand names (a whole register expands)."""
    match = re.fullmatch(r"(\w+)\s*(?:\[\s*(\d+)\s*\])?", text.strip())
    if match is None:
        return []
    name, index = match.group(1), match.group(2)
    if index is not None:
        return [(name, int(index))]
    return [(name, i) for i in range(sizes.get(name, 0))]


def circuit_facts(program: str) -> CircuitFacts:
    """Physical qubits used (ascending) and the measure map of ``program`` as QAT allocates it."""
    offsets: dict[str, int] = {}
    sizes: dict[str, int] = {}
    cl_sizes: dict[str, int] = {}
    next_free = 0
    used: set[int] = set()
    facts = CircuitFacts()

    def qubits_of(operand: str) -> list[int]:
        found = []
        for name, index in _REF.findall(operand):
            if name.startswith("$"):
                found.append(int(name[1:]))
            elif name in offsets:
                if index:
                    found.append(offsets[name] + int(index))
                else:
                    found.extend(offsets[name] + i for i in range(sizes[name]))
        return found

    for statement in _statements(program):
        if m := _QREG2.match(statement):
            name, size = m.group(1), int(m.group(2))
        elif m := _QREG3.match(statement):
            name, size = m.group(2), int(m.group(1) or 1)
        else:
            name = None
        if name is not None:
            offsets[name], sizes[name] = next_free, size
            next_free += size
            continue
        if c := re.match(
            r"^\s*(?:creg\s+(\w+)\s*\[\s*(\d+)\s*\]|bit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+))", statement
        ):
            if c.group(1):
                cl_sizes[c.group(1)] = int(c.group(2))
            else:
                cl_sizes[c.group(4)] = int(c.group(3) or 1)
            continue
        if statement.split()[0].split("(")[0] in _SKIP:
            continue
        if m := _MEASURE2.match(statement):
            qubits, bits = qubits_of(m.group(1)), _bit_refs(m.group(2), cl_sizes)
        elif m := _MEASURE3.match(statement):
            qubits, bits = qubits_of(m.group(2)), _bit_refs(m.group(1), cl_sizes)
        else:
            used.update(qubits_of(re.sub(r"^[^ ]*\([^)]*\)", "", statement)))
            continue
        used.update(qubits)
        for qubit, (register, index) in zip(qubits, bits, strict=False):
            facts.measures.append([qubit, register, index])
    facts.physical_qubits = sorted(used)
    return facts
