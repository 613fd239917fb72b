"""A fast OpenQASM 2 writer for pytket circuits already compiled to the QPU's native gates.

``to_program`` used to copy the circuit, rename its units four times and call pytket's general
``circuit_to_qasm_str``: about 5 ms for a compiled 8-qubit circuit of ~170 gates, as long as Aer
takes to run it. A compiled circuit holds only ``Rz``, ``SX``, ``X``, ``ECR``, ``Measure`` and
``Barrier`` (and ``Reset`` where the device has it), so its program is one line per command,
written here in one pass over the commands, with the qubits and bits renamed on the fly.

The program is the one ``circuit_to_qasm_str`` writes for the renamed circuit, including its
``gate ecr`` definition, up to angle spelling (``rz(<half-turns>*pi)`` with the half-turns written
exactly); tests parse both with ``qiskit.qasm2.loads`` and compare every operation. Anything else
(conditions, symbols, other gates) returns ``None`` and the caller falls back to pytket.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytket.circuit import Bit, Circuit, OpType, Qubit

from oqc_provider.openqasm import qasm2_real

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n\n'
#: How pytket defines ``ecr`` (not in qelib1.inc); the service runs it as the native ECR.
ECR_DEFINITION = (
    "gate ecr ecrq0,ecrq1 {\n"
    "u3(1.0*pi,1.5*pi,1.0*pi) ecrq0;\n"
    "u3(3.5*pi,1.5*pi,0.5*pi) ecrq1;\n"
    "cx ecrq0,ecrq1;\n"
    "}\n"
)
#: Parameterless native operations and their OpenQASM 2 names.
_PLAIN = {OpType.SX: "sx", OpType.X: "x", OpType.ECR: "ecr", OpType.Reset: "reset"}


def half_turns(value: object) -> str | None:
    """A pytket angle (half-turns) as an exact OpenQASM 2 expression, or ``None`` if symbolic."""
    text = qasm2_real(value)
    return None if text is None else f"{text}*pi"


def native_program(
    circuit: Circuit, qubits: Mapping[Qubit, int], bits: tuple[Bit, ...], qreg: str, creg: str
) -> str | None:
    """The program of ``circuit`` with qubit ``u`` as ``qreg[qubits[u]]`` and ``bits[i]`` as
    ``creg[i]``; ``None`` if the circuit holds anything but native gates, measures and barriers."""
    if not bits or not qubits:
        return None
    qubit_names = {qubit: f"{qreg}[{index}]" for qubit, index in qubits.items()}
    bit_names = {bit: f"{creg}[{index}]" for index, bit in enumerate(bits)}
    body: list[str] = []
    uses_ecr = False
    for command in circuit.get_commands():
        operation = command.op
        kind = operation.type
        args = command.args
        if kind == OpType.Rz:
            text = half_turns(operation.params[0])
            if text is None:
                return None
            body.append(f"rz({text}) {qubit_names[args[0]]};\n")  # type: ignore[index]
        elif kind in _PLAIN:
            uses_ecr = uses_ecr or kind == OpType.ECR
            body.append(f"{_PLAIN[kind]} {','.join(qubit_names[q] for q in args)};\n")  # type: ignore[index]
        elif kind == OpType.Measure:
            body.append(f"measure {qubit_names[args[0]]} -> {bit_names[args[1]]};\n")  # type: ignore[index]
        elif kind == OpType.Barrier:
            if any(not isinstance(arg, Qubit) for arg in args):
                return None  # a barrier over bits: let pytket write it
            body.append(f"barrier {','.join(qubit_names[q] for q in args)};\n")  # type: ignore[index]
        else:
            return None
    declarations = [HEADER]
    if uses_ecr:
        declarations.append(ECR_DEFINITION)
    width = max(qubits.values()) + 1
    declarations.append(f"qreg {qreg}[{width}];\ncreg {creg}[{len(bits)}];\n")
    return "".join(declarations) + "".join(body)
