"""Reading OpenQASM programs and checking them against a device, before anything runs.

A real QPU rejects what it cannot execute, so the emulator does too, with a message that names
the problem and the fix: a front end's transpiler bug should surface here, not as plausible counts.
Physical qubits are the program's qubits in declaration order (``q[0]`` is qubit 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oqc_provider.devices import DeviceSpec

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

#: Operations that never need a native-gate check (bookkeeping, not physics).
_ALWAYS_ALLOWED = frozenset({"barrier", "measure", "id", "delay"})
_HEADER = re.compile(r"OPENQASM\s+(\d+)(?:\.\d+)?\s*;")
_QASM2_LOCATION = re.compile(r"^<input>:(\d+),(\d+):\s*")
_QASM3_LOCATION = re.compile(r"^(\d+),(\d+):\s*")
_USES_ECR = re.compile(r"\becr\b")
_DEFINES_ECR = re.compile(r"\bgate\s+ecr\b")


class ProgramError(Exception):
    """A program the device cannot run; the task ends FAILED with ``code`` and this message."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Layout:
    """Where a circuit's classical bits come from, to shape results per register."""

    #: Each classical register's name and the global clbit index of its bits, in index order.
    registers: tuple[tuple[str, tuple[int, ...]], ...]
    #: For each clbit, the physical qubit last measured into it (readout mitigation needs it).
    clbit_qubits: dict[int, int]
    #: Physical qubits the program acts on, ascending.
    used_qubits: tuple[int, ...]
    #: Operations excluding barriers: the "optimized_instruction_count" metric.
    instruction_count: int


def _located(message: str, pattern: re.Pattern[str]) -> str:
    message = message.strip().strip('"')
    match = pattern.match(message)
    if match is None:
        return message
    return f"line {match.group(1)}, column {match.group(2)}: {message[match.end() :]}"


def parse_program(text: str) -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 (chosen by the ``OPENQASM`` header) into a circuit.

    Both a built-in ``ecr`` and a program's own ``gate ecr`` definition become Qiskit's ECRGate,
    so the simulator runs the device's ECR whatever body the client wrote for it.

    Raises:
        ProgramError: the text is not a parsable OpenQASM 2/3 program.
    """
    header = _HEADER.search(text)
    if header is None:
        raise ProgramError(
            "Unsupported program: expected OpenQASM starting with 'OPENQASM 2.0;' or 'OPENQASM 3.0;'. "
            "Export the circuit with qiskit.qasm2.dumps or qiskit.qasm3.dumps."
        )
    version = header.group(1)
    if version == "2":
        return _parse_qasm2(text)
    if version == "3":
        return _parse_qasm3(text, header)
    raise ProgramError(f"Unsupported OpenQASM version {version}: this QPU accepts OpenQASM 2 and 3.")


def _parse_qasm2(text: str) -> QuantumCircuit:
    from qiskit import qasm2
    from qiskit.circuit.library import ECRGate

    instructions = (
        *qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
        qasm2.CustomInstruction("ecr", 0, 2, ECRGate, builtin=True),
    )
    try:
        return qasm2.loads(text, custom_instructions=instructions)
    except qasm2.QASM2Error as exc:
        raise ProgramError(
            f"Could not parse the OpenQASM 2 program: {_located(str(exc), _QASM2_LOCATION)}. "
            "Fix the program text (qiskit.qasm2.dumps writes valid OpenQASM 2)."
        ) from exc


def _parse_qasm3(text: str, header: re.Match[str]) -> QuantumCircuit:
    from qiskit import qasm3
    from qiskit.circuit.library import ECRGate

    if _USES_ECR.search(text) and not _DEFINES_ECR.search(text):
        # ``ecr`` is built into the device but not into stdgates.inc: declare it on the header
        # line (so the parser's line numbers stay the user's); its body is replaced below anyway.
        text = f"{text[: header.end()]} gate ecr _c, _t {{ }}{text[header.end() :]}"
    try:
        circuit = qasm3.loads(text)
    except Exception as exc:  # the importer raises several unrelated types
        raise ProgramError(
            f"Could not parse the OpenQASM 3 program: {_located(str(exc), _QASM3_LOCATION)}. "
            "Fix the program text (qiskit.qasm3.dumps writes valid OpenQASM 3)."
        ) from exc
    for index, instruction in enumerate(circuit.data):
        op = instruction.operation
        if op.name == "ecr" and op.num_qubits == 2 and not op.params and not isinstance(op, ECRGate):
            circuit.data[index] = instruction.replace(operation=ECRGate())
    return circuit


def native_operations(spec: DeviceSpec) -> list[str]:
    """The operation names ``spec`` accepts, as listed in error messages."""
    names = [*spec.native_gates, "measure", "barrier", "id", "delay"]
    if spec.supports_reset:
        names.append("reset")
    return names


def validate(circuit: QuantumCircuit, spec: DeviceSpec) -> Layout:
    """Check ``circuit`` against ``spec`` and describe its classical layout.

    Raises:
        ProgramError: too many qubits, a non-native gate, an ECR on an uncoupled pair or in the
            wrong direction, an unsupported reset, or a mid-circuit measurement.
    """
    if circuit.num_qubits > spec.qubit_count:
        raise ProgramError(
            f"The program declares {circuit.num_qubits} qubits but {spec.name} has {spec.qubit_count} "
            f"(0..{spec.qubit_count - 1}). Use at most {spec.qubit_count} qubits or pick a larger QPU."
        )
    native = set(spec.native_gates) | _ALWAYS_ALLOWED | ({"reset"} if spec.supports_reset else set())
    couplings = set(spec.couplings)
    measured: set[int] = set()
    clbit_qubits: dict[int, int] = {}
    used: set[int] = set()
    count = 0
    for instruction in circuit.data:
        op = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if op.name == "barrier":
            continue
        count += 1
        if op.name not in native:
            extra = " Reset is not supported on this QPU." if op.name == "reset" else ""
            raise ProgramError(
                f"Gate '{op.name}' is not native to {spec.name}.{extra} Native operations: "
                f"{', '.join(native_operations(spec))}. Transpile the circuit to these gates first "
                f"(e.g. qiskit.transpile(circuit, basis_gates={list(spec.native_gates)}))."
            )
        if op.name == "ecr":
            _check_ecr(qubits[0], qubits[1], spec, couplings)
        if not spec.supports_mid_circuit_measurement:
            for qubit in qubits:
                if qubit in measured:
                    raise ProgramError(
                        f"Qubit {qubit} is used by '{op.name}' after it was measured, but {spec.name} "
                        "does not support mid-circuit measurement. Move every measurement to the "
                        "end of the circuit."
                    )
        used.update(qubits)
        if op.name == "measure":
            measured.add(qubits[0])
            clbit_qubits[circuit.find_bit(instruction.clbits[0]).index] = qubits[0]
    registers = tuple(
        (creg.name, tuple(circuit.find_bit(bit).index for bit in creg)) for creg in circuit.cregs
    )
    return Layout(registers, clbit_qubits, tuple(sorted(used)), count)


def _check_ecr(control: int, target: int, spec: DeviceSpec, couplings: set[tuple[int, int]]) -> None:
    if (control, target) in couplings:
        return
    if (target, control) in couplings:
        raise ProgramError(
            f"ECR on qubits ({control}, {target}) runs in the wrong direction: {spec.name} only "
            f"supports ecr with control {target} and target {control}. Swap control and target "
            "(wrap the ECR in single-qubit gates), or transpile with the device's coupling map."
        )
    neighbours = sorted({edge for edge in couplings if control in edge or target in edge})
    raise ProgramError(
        f"Qubits {control} and {target} are not coupled on {spec.name}, so ecr cannot act on them. "
        f"Couplings of these qubits (control, target): {neighbours}. Route the circuit with the "
        "device's coupling map (e.g. qiskit.transpile(..., coupling_map=...))."
    )
