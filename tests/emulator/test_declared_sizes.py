"""``declared_sizes`` finds declarations by substring search; a regex scan is the oracle it must match."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from oqc_provider.emulator.limits import _QASM3_SIZE, _QUANTUM, _REGISTER_SIZE, DeclaredSizes, declared_sizes

#: The scan ``declared_sizes`` used before: every word ending a ``[qcb](reg|ubit|it)`` match.
_KEYWORD = re.compile(r"[qcb](?:reg|ubit|it)\b")


def regex_sizes(program: str) -> DeclaredSizes:
    qubits = bits = 0
    for keyword in _KEYWORD.finditer(program):
        quantum = _QUANTUM.get(keyword.group())
        at = keyword.start()
        if quantum is None or (at > 0 and (program[at - 1].isalnum() or program[at - 1] in "_$")):
            continue
        pattern = _REGISTER_SIZE if keyword.group().endswith("reg") else _QASM3_SIZE
        declaration = pattern.match(program, keyword.end())
        if declaration is None:
            continue
        try:
            size = int(declaration.group(1) or "1")
        except ValueError:
            continue
        qubits, bits = (qubits + size, bits) if quantum else (qubits, bits + size)
    return DeclaredSizes(qubits, bits)


PIECES = ["qreg", "creg", "qubit", "bit", "cubit", "qbit", "qregister", "bits", " ", "\n", "q", "c", "[", "]",
          "3", "_", "1_0", ";", "=", "x", "é", "²", "$"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_substring_search_finds_what_the_regex_scan_found(pieces: list[str]) -> None:
    program = "".join(pieces)
    assert declared_sizes(program) == regex_sizes(program)


def test_a_transpiled_program_declares_its_registers_once() -> None:
    program = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[8];\ncreg c[8];\n'
        + "rz(0.5) q[3];\necr q[0],q[1];\n" * 60
    )
    assert declared_sizes(program) == regex_sizes(program) == DeclaredSizes(qubits=8, bits=8)
