"""Turning Aer's output into QCaaS result documents, shaped as QAT shapes them (contract §1).

Aer keys counts and memory by the hex value of the *whole* classical memory, clbit 0 being the
least significant bit. QCaaS counts each register independently and writes ``c[0]`` as the
*leftmost* character, full width. Every conversion between the two lives here, once.

QAT's formats (``compiler_config``'s ``QuantumResultsFormat``, read as QAT reads them):

* ``BinaryCount`` transform → ``{register: {bitstring: count}}``;
* ``Raw`` → ``{register: [[readout of shot 0, shot 1, ...] per bit]}``: a readout is ``+1.0`` for
  outcome 0 and ``-1.0`` for 1 (QAT discriminates ``value > 0`` as 0); a bit never measured is ``0``;
  with one shot each bit's list collapses to its only value, as QAT's list conversion does;
* ``Binary`` (also the default when no format is given) → ``{register: [bit, ...]}``: per bit, 1
  when at least half of the shots read 1 (QAT averages the shots and discriminates);
* ``SquashBinaryResultArrays`` → each register's bits joined into one string.

Registers come back in name order: QCaaS's OpenQASM reader sorts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from oqc_provider.devices import Calibration
from oqc_provider.emulator.programs import Layout, fractional_delay_message
from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    ErrorMitigationConfig,
    InlineResultsProcessing,
    MetricsType,
    ResultsFormatting,
)

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

#: Registers wider than this get no matrix mitigation (the dense inverse has 2**n entries).
MAX_MATRIX_MITIGATION_BITS = 16


def register_counts(hex_counts: dict[str, int], layout: Layout) -> dict[str, dict[str, int]]:
    """``{register: {bitstring: count}}`` with ``register[0]`` leftmost, each register marginalised.

    >>> layout = Layout((("a", (0,)), ("b", (1, 2))), {0: 0, 1: 1, 2: 2}, (0, 1, 2), 3)
    >>> register_counts({"0x2": 3, "0x3": 1, "0x4": 5}, layout)
    {'a': {'0': 8, '1': 1}, 'b': {'10': 4, '01': 5}}
    """
    out: dict[str, dict[str, int]] = {name: {} for name, _ in layout.registers}
    readers = [(out[name], bit_reader(indices)) for name, indices in layout.registers]
    for key, count in hex_counts.items():
        value = int(key, 16)
        for counts, read in readers:
            bits = read(value)
            counts[bits] = counts.get(bits, 0) + count
    return out


def bit_reader(indices: tuple[int, ...]) -> Callable[[int], str]:
    """How to read a register's bits (clbits ``indices``, ``register[0]`` leftmost) out of a value of
    the whole classical memory.

    A register's clbits are most often consecutive: one shift, one mask and one ``format`` then read
    all of them (a tenth of the time of one test per bit, for every distinct outcome of every task).

    >>> bit_reader((1, 2, 3))(0b0110), bit_reader((3, 1))(0b1000)
    ('110', '10')
    """
    if indices and indices == tuple(range(indices[0], indices[0] + len(indices))):
        shift, mask, spec = indices[0], (1 << len(indices)) - 1, f"0{len(indices)}b"
        return lambda value: format((value >> shift) & mask, spec)[::-1]
    return lambda value: "".join("1" if (value >> index) & 1 else "0" for index in indices)


def _ordered(layout: Layout) -> list[tuple[str, tuple[int, ...]]]:
    return sorted(layout.registers)


def register_readouts(hex_memory: Iterable[str], layout: Layout) -> dict[str, list[Any]]:
    """Raw format: per register, per bit, the per-shot readout values (``+1.0`` = 0, ``-1.0`` = 1)."""
    values = [int(key, 16) for key in hex_memory]
    single = len(values) == 1
    out: dict[str, list[Any]] = {}
    for name, indices in _ordered(layout):
        bits: list[Any] = []
        for index in indices:
            if index not in layout.clbit_qubits:
                bits.append(0)
                continue
            readouts = [-1.0 if (value >> index) & 1 else 1.0 for value in values]
            bits.append(readouts[0] if single else readouts)
        out[name] = bits
    return out


def register_bits(hex_memory: Iterable[str], layout: Layout) -> dict[str, list[int]]:
    """Binary format: per register, each bit's majority over the shots (ties read as 1, as QAT)."""
    values = [int(key, 16) for key in hex_memory]
    half = len(values) / 2
    return {
        name: [
            1 if index in layout.clbit_qubits and sum((v >> index) & 1 for v in values) >= half else 0
            for index in indices
        ]
        for name, indices in _ordered(layout)
    }


def results_shape_error(config: CompilerConfig) -> str | None:
    """Why QAT would refuse ``config``'s results format, or None."""
    fmt = config.results_format.format
    if (
        not config.is_binary_count
        and fmt is not None
        and InlineResultsProcessing.Raw in fmt
        and InlineResultsProcessing.Binary in fmt
    ):
        return (
            "Raw and Binary processing attempted to be applied to the same results: only one should be "
            "selected. Use QuantumResultsFormat().raw(), .binary() or .binary_count()."
        )
    return None


def _invert_readout(
    probabilities: dict[str, float], errors: list[float], keep_support: bool
) -> dict[str, float]:
    """Apply the inverse of each bit's symmetric 2x2 readout matrix, one bit at a time.

    The tensor product of per-bit inverses is the inverse of the full confusion matrix, but
    working bit by bit keeps the vector sparse. With ``keep_support`` only bitstrings that were
    observed are kept (the linear method), which bounds the work for wide registers.
    """
    current = dict(probabilities)
    for position, p in enumerate(errors):
        if p <= 0:
            continue
        scale = 1.0 / (1.0 - 2.0 * p)
        updated: dict[str, float] = {}
        for bits, value in current.items():
            flipped = f"{bits[:position]}{'1' if bits[position] == '0' else '0'}{bits[position + 1 :]}"
            updated[bits] = updated.get(bits, 0.0) + scale * (1.0 - p) * value
            updated[flipped] = updated.get(flipped, 0.0) - scale * p * value
        current = updated
        if keep_support:
            current = {bits: value for bits, value in current.items() if bits in probabilities}
    return {bits: value for bits, value in current.items() if abs(value) > 1e-12}


def mitigate(
    counts: dict[str, int], readout_errors: list[float], mode: ErrorMitigationConfig
) -> dict[str, dict[str, float]]:
    """The readout-mitigated quasi-probabilities QCaaS adds next to the register's counts."""
    shots = sum(counts.values()) or 1
    probabilities = {bits: count / shots for bits, count in counts.items()}
    extra: dict[str, dict[str, float]] = {}
    if mode & ErrorMitigationConfig.MatrixMitigation and len(readout_errors) <= MAX_MATRIX_MITIGATION_BITS:
        extra["matrix_readout_mitigation"] = _invert_readout(probabilities, readout_errors, False)
    if mode & ErrorMitigationConfig.LinearMitigation:
        linear = _invert_readout(probabilities, readout_errors, True)
        positive = {bits: value for bits, value in linear.items() if value > 0}
        total = sum(positive.values()) or 1.0
        extra["linear_readout_mitigation"] = {bits: value / total for bits, value in positive.items()}
    return extra


def build_results(
    config: CompilerConfig,
    layout: Layout,
    calibration: Calibration,
    hex_counts: dict[str, int],
    hex_memory: list[str] | None,
) -> Any:
    """The ``results`` document of a COMPLETED task, in the format ``config`` asks for."""
    if not config.is_binary_count:
        fmt = config.results_format.format
        shaped: dict[str, Any]
        if fmt is not None and InlineResultsProcessing.Raw in fmt:
            shaped = register_readouts(hex_memory or [], layout)
        else:  # Binary, or no format at all (QAT's default is Program = Binary)
            shaped = register_bits(hex_memory or [], layout)
        if config.results_format.transforms & ResultsFormatting.SquashBinaryResultArrays:
            return {name: _squash(value) for name, value in shaped.items()}
        return shaped
    counts = register_counts(hex_counts, layout)
    results: dict[str, Any] = {name: counts[name] for name, _ in _ordered(layout)}
    mode = config.error_mitigation
    wanted = ErrorMitigationConfig.MatrixMitigation | ErrorMitigationConfig.LinearMitigation
    if mode is not None and mode & wanted:
        ((name, indices),) = layout.registers  # validated: exactly one register
        errors = [  # a qubit with no published readout error gets no correction
            calibration.qubits[layout.clbit_qubits[i]].readout_error or 0.0
            if i in layout.clbit_qubits and layout.clbit_qubits[i] in calibration.qubits
            else 0.0
            for i in indices
        ]
        results.update(mitigate(results[name], errors, mode))
    return results


def _squash(value: list[Any]) -> str | None:
    """A register's bits as one string; None for readout values, as QAT's squash gives."""
    if all(isinstance(bit, int) for bit in value):
        return "".join(str(bit) for bit in value)
    return None


def runtime_refusal(circuit: QuantumCircuit, layout: Layout, config: CompilerConfig) -> str | None:
    """Why QAT's runtime would refuse to run ``circuit`` with ``config``'s results format, or None.

    QAT runs counts (``BinaryCount``) and the per-shot/binary formats through different runtimes,
    which refuse different things (recorded in the QAT fixtures):

    * counts of a program that measures nothing: "No counts for experiment"; counts with a delay of a
      fraction of a second (OpenQASM 3; OpenQASM 2's reader already refuses it);
    * binary/raw with a delay of a second or more (its pulse-level wait cannot be allocated:
      MemoryError). (A bit measured twice from the same qubit, which QAT's legacy path refused in
      these formats with KeyError TIME, runs on its pipeline path, what the service runs.)
    """
    counts = config.is_binary_count
    if counts and not layout.clbit_qubits:
        return (
            "The program measures nothing, so there are no counts to return (QCaaS: No counts for "
            "experiment). Measure the qubits you want read into a classical register."
        )
    if "delay" not in circuit.count_ops():  # counted in Rust, without an object per instruction
        return None
    # OpenQASM 3 delays reach the counts runtime. ``instruction.name``, not ``.operation.name``:
    # the latter builds a Python gate object for every standard gate (0.5 ms a 130-gate circuit).
    for instruction in circuit.data:
        if instruction.name != "delay":
            continue
        seconds = float(instruction.operation.duration)
        if counts and not seconds.is_integer():
            return fractional_delay_message(seconds)
        if not counts and seconds >= 1.0:
            return (
                f"A delay of {seconds!r} s cannot be built as a pulse-level wait for the binary "
                "or raw results format (QCaaS: MemoryError). Delays are in seconds: a duration in dt "
                "units must be converted (dt x duration)."
            )
    return None


def execution_metadata(config: CompilerConfig, layout: Layout, program: str) -> dict[str, Any]:
    """The ``execution_metadata`` metrics the config's MetricsType flags select."""
    metrics = config.metrics
    out: dict[str, Any] = {}
    if metrics & MetricsType.OptimizedCircuit:
        out["optimized_circuit"] = program
    if metrics & MetricsType.OptimizedInstructionCount:
        out["optimized_instruction_count"] = layout.instruction_count
    if metrics & MetricsType.PhysicalQubitIndices:
        out["physical_qubit_indices"] = list(layout.used_qubits)
    return out
