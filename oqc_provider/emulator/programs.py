"""Reading OpenQASM programs, compiling them as QCaaS does, and checking them against a device.

QCaaS compiles what it receives: standard gates (``h``, ``cx``, ``ccx``... from qelib1.inc or
stdgates.inc) are rewritten in the device's native gates, and two-qubit gates are turned to the
direction the device's ECR runs in. Like QCaaS with its default settings, it does not move qubits:
physical qubits are the program's qubits in declaration order (``q[0]`` is qubit 0), so a gate on an
uncoupled pair fails. A QPU rejects what it cannot execute, so the emulator does too, with a message
that names the problem and the fix: a front end's transpiler bug surfaces here, not as plausible counts.
An ``ecr`` the program writes itself is taken literally: in the wrong direction it fails.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


_targets: dict[DeviceSpec, Any] = {}
_targets_lock = threading.Lock()


def _device_target(spec: DeviceSpec) -> Any:
    """A Qiskit Target of the device's native operations on its directed couplings (cached)."""
    from qiskit.transpiler import CouplingMap, Target

    with _targets_lock:
        target = _targets.get(spec)
        if target is None:
            basis = [
                *spec.native_gates,
                "measure",
                "delay",
                "id",
                *(["reset"] if spec.supports_reset else []),
            ]
            target = _targets[spec] = Target.from_configuration(
                basis_gates=basis,
                num_qubits=spec.qubit_count,
                coupling_map=CouplingMap([list(edge) for edge in spec.couplings]),
            )
        return target


def compile_to_native(circuit: QuantumCircuit, spec: DeviceSpec) -> QuantumCircuit:
    """Rewrite standard gates in ``spec``'s native gates, keeping every qubit where it is.

    A circuit already in native gates is returned unchanged (the common case: front ends
    transpile before sending). Explicit ``ecr`` gates are checked, never flipped.

    Raises:
        ProgramError: too many qubits, a gate on an uncoupled pair, or a gate with no definition.
    """
    native = set(spec.native_gates) | _ALWAYS_ALLOWED | {"reset"}  # validate() explains a missing reset
    if all(instruction.operation.name in native for instruction in circuit.data):
        return circuit
    _check_width(circuit, spec)
    if not spec.supports_reset and any(i.operation.name == "reset" for i in circuit.data):
        validate(circuit, spec)  # raises its clear message about reset
    couplings = set(spec.couplings)
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        name = instruction.operation.name
        if name == "ecr":
            _check_ecr(qubits[0], qubits[1], spec, couplings)
        elif (
            len(qubits) == 2
            and name != "barrier"
            and not ({tuple(qubits), tuple(reversed(qubits))} & couplings)
        ):
            raise ProgramError(_uncoupled_message(name, qubits[0], qubits[1], spec, couplings))
    from qiskit import transpile
    from qiskit.transpiler.exceptions import TranspilerError

    try:
        return transpile(
            circuit,
            target=_device_target(spec),
            initial_layout=list(range(circuit.num_qubits)),
            layout_method="trivial",
            routing_method="none",
            optimization_level=1,
            seed_transpiler=0,
        )
    except TranspilerError as exc:
        gates = sorted({i.operation.name for i in circuit.data if i.operation.name not in native})
        raise ProgramError(
            f"Could not compile {gates} for {spec.name} without moving qubits ({exc}). Use gates from "
            f"qelib1.inc/stdgates.inc on coupled qubits, or transpile the circuit for the device first."
        ) from exc


def _check_width(circuit: QuantumCircuit, spec: DeviceSpec) -> None:
    if circuit.num_qubits > spec.qubit_count:
        raise ProgramError(
            f"The program declares {circuit.num_qubits} qubits but {spec.name} has {spec.qubit_count} "
            f"(0..{spec.qubit_count - 1}). Use at most {spec.qubit_count} qubits or pick a larger QPU."
        )


def validate(circuit: QuantumCircuit, spec: DeviceSpec) -> Layout:
    """Check ``circuit`` against ``spec`` and describe its classical layout.

    Raises:
        ProgramError: too many qubits, a non-native gate, an ECR on an uncoupled pair or in the
            wrong direction, an unsupported reset, or a mid-circuit measurement.
    """
    _check_width(circuit, spec)
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
    raise ProgramError(_uncoupled_message("ecr", control, target, spec, couplings))


def _uncoupled_message(
    gate: str, first: int, second: int, spec: DeviceSpec, couplings: set[tuple[int, int]]
) -> str:
    neighbours = sorted({edge for edge in couplings if first in edge or second in edge})
    return (
        f"Qubits {first} and {second} are not coupled on {spec.name}, so {gate} cannot act on them. "
        f"Couplings of these qubits (control, target): {neighbours}. Route the circuit with the "
        "device's coupling map (e.g. qiskit.transpile(..., coupling_map=...))."
    )
