"""Reading OpenQASM programs as QCaaS's compiler (QAT) reads them.

QAT reads OpenQASM 2 with Qiskit's parser, ``qelib1.inc`` plus the device's ``ecr`` (unless the program
defines its own ``gate ecr``, whose body it then runs), and ``delay`` only once the program declares it
(``opaque delay(param0) q0;``): its argument is in seconds, like every duration in QAT, and must be a
whole number. OpenQASM 3 delays carry a unit (``delay[400.0ns] q[5];``, what the Qiskit front end
writes for a circuit with delays) and are lowered to seconds too, ``Delay(x, unit="s")``. Classically
conditioned gates are refused. What happens next (placement and routing by tket, or nothing) is
:mod:`oqc_provider.emulator.compilation`'s business; turning the result into native gates is
:mod:`oqc_provider.emulator.lowering`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator import qasm3_dialect

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

_HEADER = re.compile(r"OPENQASM\s+(\d+)(?:\.\d+)?\s*;")
_QASM2_LOCATION = re.compile(r"^<input>:(\d+),(\d+):\s*")
_QASM3_LOCATION = re.compile(r"^(\d+),(\d+):\s*")
#: The ``gate ecr`` definitions Qiskit's and pytket's exporters write: exactly the device's ECR (up to
#: a global phase), so the device's own ECR runs in their place.
ECR_DEFINITIONS = (
    "gate ecr q0,q1 { s q0; sx q1; cx q0,q1; x q0; }",
    "gate ecr ecrq0,ecrq1 {\nu3(1.0*pi,1.5*pi,1.0*pi) ecrq0;\nu3(3.5*pi,1.5*pi,0.5*pi) ecrq1;\n"
    "cx ecrq0,ecrq1;\n}",
)
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


def openqasm_version(text: str) -> int | None:
    """The major OpenQASM version the program's header declares (None: no header)."""
    header = _HEADER.search(text)
    return None if header is None else int(header.group(1))


def parse_program(text: str) -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 (chosen by the ``OPENQASM`` header) into a circuit.

    The device's ``ecr`` is Qiskit's ECRGate; a program's own ``gate ecr`` definition is kept in
    OpenQASM 2 (QAT runs its body) and replaced by the device's ECR in OpenQASM 3.

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


def _delay_in_seconds(duration: float) -> Any:
    from qiskit.circuit import Delay

    return Delay(float(duration), unit="s")


def _parse_qasm2(text: str) -> QuantumCircuit:
    from qiskit import qasm2
    from qiskit.circuit.library import ECRGate

    instructions = [
        qasm2.CustomInstruction("delay", 1, 1, _delay_in_seconds, builtin=False)
        if instruction.name == "delay"
        else instruction
        for instruction in qasm2.LEGACY_CUSTOM_INSTRUCTIONS
    ]
    for definition in ECR_DEFINITIONS:
        text = text.replace(definition, "", 1)
    if not _DEFINES_ECR.search(text):  # as QAT: a program's own ecr definition is what runs
        instructions.append(qasm2.CustomInstruction("ecr", 0, 2, ECRGate, builtin=True))
    try:
        circuit = qasm2.loads(text, custom_instructions=instructions)
    except qasm2.QASM2Error as exc:
        message = _located(str(exc), _QASM2_LOCATION)
        if "'delay'" in message:
            raise ProgramError(
                f"Could not parse the OpenQASM 2 program: {message}. QCaaS reads delay only once it is "
                "declared: add 'opaque delay(param0) q0;' after the include, and give durations in seconds."
            ) from exc
        raise ProgramError(
            f"Could not parse the OpenQASM 2 program: {message}. "
            "Fix the program text (qiskit.qasm2.dumps writes valid OpenQASM 2)."
        ) from exc
    for instruction in circuit.data:
        if instruction.operation.name == "delay" and not float(instruction.operation.duration).is_integer():
            raise ProgramError(fractional_delay_message(float(instruction.operation.duration)))
    return circuit


def fractional_delay_message(seconds: float) -> str:
    """Why a delay of a fraction of a second is refused (QAT 3.5's readers take whole seconds)."""
    return (
        f"QCaaS's compiler (QAT 3.5) only accepts a delay of a whole number of seconds here; this program "
        f"asks for {seconds!r} s (QCaaS: the custom 'delay' instruction can only accept an integer "
        "parameter). Remove the delay, or wait with gates instead."
    )


def _parse_qasm3(text: str, header: re.Match[str]) -> QuantumCircuit:
    from qiskit import qasm3
    from qiskit.circuit.library import ECRGate

    if (reason := qasm3_dialect.refusal(text)) is not None:
        raise ProgramError(
            f"QCaaS's OpenQASM 3 reader cannot run this program (QCaaS: {reason}). It has no gate "
            "modifiers (ctrl @, inv @, pow @), no parenthesised sub-expressions, no gate definitions with "
            "parameters and no classical types but bit: write such gates out in the gates they stand for, "
            "or send OpenQASM 2 (qiskit.qasm2.dumps)."
        )
    text = qasm3_dialect.arguments_as_qat_groups(qasm3_dialect.scalars_as_registers(text))
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
    names = [*spec.native_gates, "measure", "barrier", "delay"]
    if spec.supports_reset:
        names.append("reset")
    return names
