"""Writing a pytket circuit as the OpenQASM 2 program QCaaS runs, and recording its bit layout.

The program names physical qubits ``q[i]`` (the device's qubit ``i``) and puts *all* the circuit's
classical bits into one register ``c``, in ``circuit.bits`` order. One register means QCaaS's
BinaryCount results are joint counts over every bit (it counts each register independently, so
several registers would lose their correlations), and readout error mitigation, which needs one
register, always applies. The layout (which of the circuit's own bits is ``c[i]``) travels in the
result handle, so results are keyed by the circuit's own ``Bit(register, index)`` again.

pytket writes ``ecr`` as a ``gate ecr`` definition; the service (and the emulator) run it as the
device's native ECR.

Example:
    >>> from pytket import Bit, Circuit
    >>> from oqc_provider.devices import LUCY_SIMULATOR
    >>> circuit = Circuit(1).X(0)
    >>> _ = circuit.add_c_register("flag", 1)
    >>> _ = circuit.Measure(circuit.qubits[0], Bit("flag", 0))
    >>> program = to_program(circuit, LUCY_SIMULATOR)
    >>> print(program.qasm.splitlines()[-2:])
    ['x q[0];', 'measure q[0] -> c[0];']
    >>> decode_bits(encode_bits(program.bits))
    [flag[0]]
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pytket.circuit import Bit, Circuit, Qubit
from pytket.qasm import circuit_to_qasm_str

from oqc_provider.devices import DeviceSpec
from oqc_provider.pytket.errors import InvalidCircuitError
from oqc_provider.pytket.native_qasm import native_program

#: The register every program measures into, and the one whose results come back.
WIRE_CREG = "c"
#: The register of physical qubits in every program.
WIRE_QREG = "q"
_TEMP = "__oqc_provider_tmp"


@dataclass(frozen=True)
class WireProgram:
    """A circuit as sent: the program text, and the circuit's own bit behind each ``c[i]``."""

    qasm: str
    bits: tuple[Bit, ...]


def physical_qubits(circuit: Circuit, spec: DeviceSpec) -> dict[Qubit, int]:
    """The device qubit each circuit qubit runs on.

    Compiled circuits use the architecture's ``node[i]``; an uncompiled circuit whose qubits form
    one register (``q[0]``, ``q[1]``...) runs qubit ``i`` on device qubit ``i``.

    Raises:
        InvalidCircuitError: qubits that are neither, or an index the device does not have.
    """
    qubits = circuit.qubits
    registers = {qubit.reg_name for qubit in qubits}
    if any(len(qubit.index) != 1 for qubit in qubits) or len(registers) > 1:
        raise InvalidCircuitError(
            f"Cannot tell which of {spec.name}'s qubits runs each of {qubits}: compile the circuit "
            "with backend.get_compiled_circuit(circuit) to place it on the device."
        )
    mapping = {qubit: qubit.index[0] for qubit in qubits}
    outside = sorted(index for index in mapping.values() if index >= spec.qubit_count)
    if outside:
        raise InvalidCircuitError(
            f"{spec.name} has qubits 0..{spec.qubit_count - 1}, but the circuit uses {outside}: "
            "compile it with backend.get_compiled_circuit(circuit)."
        )
    return mapping


def to_program(circuit: Circuit, spec: DeviceSpec, *, native: bool = True) -> WireProgram:
    """The OpenQASM 2 program for ``circuit`` on ``spec``, with its bit layout.

    A compiled circuit (native gates only) is written by the fast writer of
    :mod:`oqc_provider.pytket.native_qasm`; anything else, or ``native=False``, by pytket's
    ``circuit_to_qasm_str``. Both give the same program (tests parse and compare them).

    Raises:
        InvalidCircuitError: the qubits are not placed on the device, or pytket cannot write the
            circuit as OpenQASM 2 (e.g. an operation with no QASM form).
    """
    bits = tuple(circuit.bits)
    qubits = physical_qubits(circuit, spec)
    if native:
        program = native_program(circuit, qubits, bits, WIRE_QREG, WIRE_CREG)
        if program is not None:
            return WireProgram(qasm=program, bits=bits)
    wire = circuit.copy()
    # Rename in two steps so a new name never collides with an old one still in the circuit.
    wire.rename_units({qubit: Qubit(_TEMP, index) for qubit, index in qubits.items()})
    wire.rename_units({Qubit(_TEMP, index): Qubit(WIRE_QREG, index) for index in qubits.values()})
    wire.rename_units({bit: Bit(_TEMP, i) for i, bit in enumerate(bits)})
    wire.rename_units({Bit(_TEMP, i): Bit(WIRE_CREG, i) for i in range(len(bits))})
    try:
        qasm = circuit_to_qasm_str(wire, header="qelib1")
    except Exception as exc:  # pytket raises QASMUnsupportedError and plain errors alike
        raise InvalidCircuitError(
            f"Cannot write the circuit as OpenQASM 2 for {spec.name}: {exc}. Compile it with "
            "backend.get_compiled_circuit(circuit) first."
        ) from exc
    return WireProgram(qasm=qasm, bits=bits)


def encode_bits(bits: tuple[Bit, ...] | list[Bit]) -> str:
    """The bit layout as compact JSON: ``[["reg", [index...]], ...]``."""
    return json.dumps([[bit.reg_name, list(bit.index)] for bit in bits], separators=(",", ":"))


def decode_bits(text: str) -> list[Bit]:
    """Bits from :func:`encode_bits`.

    Raises:
        ValueError: not a layout this module wrote.
    """
    try:
        items = json.loads(text)
        return [Bit(str(name), [int(i) for i in index]) for name, index in items]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Not a bit layout: {text[:80]!r}") from exc


__all__ = [
    "WIRE_CREG",
    "WIRE_QREG",
    "WireProgram",
    "decode_bits",
    "encode_bits",
    "physical_qubits",
    "to_program",
]
