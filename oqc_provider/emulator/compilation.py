"""Compiling a task as QCaaS does: OQC's compiler QAT 3.5, whose tket settings decide where it runs.

``CompilerConfig.optimizations`` picks what QAT does to an OpenQASM program
(``shared/spec/qcaas-compiler.md``):

* ``null`` → the language default: OpenQASM 2 gets tket ``One`` (placement and routing onto the
  device's couplings, then CX direction fixed), OpenQASM 3 gets no tket pass at all;
* ``Tket(flags)`` / ``Qasm2Optimizations`` with flags other than ``Empty`` → those tket passes;
* ``Tket(Empty)`` (what the front ends send) and anything else → no pass: program qubits are
  physical qubits.

The tket pipeline runs in QAT's order with QAT's fallback, on an ``Architecture`` built from the
couplings in the same order and grouped the same way (tket's placement depends on it, and the
physical qubits a program lands on must be the ones QAT picks). A program QAT's tket reader cannot
take (delays, opaque gates, conditionals, OpenQASM 3) skips tket, as in QAT, and keeps its qubits.
The result is lowered to native gates for Aer by :mod:`oqc_provider.emulator.lowering`.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.lowering import NativeBuilder, conditional_message, lower_circuit
from oqc_provider.emulator.native_programs import parse_native
from oqc_provider.emulator.programs import Layout, ProgramError, openqasm_version, parse_program
from oqc_provider.qcaas.compiler_config import CompilerConfig, Qasm2Optimizations, Tket, TketOptimizations

if TYPE_CHECKING:
    from pytket import Circuit
    from qiskit import QuantumCircuit

logger = logging.getLogger(__name__)

#: OpenQASM gate names QAT's tket reader adds as one tket operation (pytket's own QASM tables);
#: every other gate is read through its definition.
_TKET_GATES: dict[str, str] = {
    "CX": "CX", "cx": "CX", "x": "X", "y": "Y", "z": "Z", "h": "H", "s": "S", "sdg": "Sdg",
    "t": "T", "tdg": "Tdg", "sx": "SX", "sxdg": "SXdg", "cz": "CZ", "cy": "CY", "ch": "CH",
    "csx": "CSX", "ccx": "CCX", "c3x": "CnX", "c4x": "CnX", "ZZ": "ZZMax", "id": "noop",
    "swap": "SWAP", "cswap": "CSWAP", "p": "U1", "u": "U3", "U": "U3", "u3": "U3", "u2": "U2",
    "u1": "U1", "rx": "Rx", "rxx": "XXPhase", "ry": "Ry", "rz": "Rz", "RZZ": "ZZPhase",
    "rzz": "ZZPhase", "Rz": "Rz", "U1q": "PhasedX", "crz": "CRz", "crx": "CRx", "cry": "CRy",
    "cu1": "CU1", "cu3": "CU3", "Rxxyyzz": "TK2",
}  # fmt: skip

#: Optional tket passes in the order QAT applies them, with their flags.
_OPTIONAL_PASSES: tuple[tuple[TketOptimizations, str, dict[str, Any]], ...] = (
    (TketOptimizations.ContextSimp, "ContextSimp", {"allow_classical": True}),
    (TketOptimizations.FullPeepholeOptimise, "FullPeepholeOptimise", {}),
    (TketOptimizations.CliffordSimp, "CliffordSimp", {"allow_swaps": True}),
    (TketOptimizations.DecomposeArbitrarilyControlledGates, "DecomposeArbitrarilyControlledGates", {}),
    (TketOptimizations.KAKDecomposition, "KAKDecomposition", {}),
    (TketOptimizations.PeepholeOptimise2Q, "PeepholeOptimise2Q", {}),
    (TketOptimizations.RemoveDiscarded, "RemoveDiscarded", {}),
    (TketOptimizations.RemoveBarriers, "RemoveBarriers", {}),
    (TketOptimizations.RemoveRedundancies, "RemoveRedundancies", {}),
    (TketOptimizations.ThreeQubitSquash, "ThreeQubitSquash", {}),
    (TketOptimizations.SimplifyMeasured, "SimplifyMeasured", {}),
)


@dataclass(frozen=True)
class Compiled:
    """A task's program as it runs: the native circuit for Aer, its layout, and its text."""

    circuit: QuantumCircuit
    layout: Layout
    #: The program as QAT ran it: tket's output, or the client's text when no pass changed it.
    program_run: str


class _NotForTket(Exception):
    """QAT's tket reader cannot read this program: QAT skips tket and runs the program as written."""


def tket_flags(config: CompilerConfig, version: int) -> TketOptimizations | None:
    """The tket passes QAT runs for ``config`` on an OpenQASM ``version`` program (None: none)."""
    if version != 2:  # QAT's OpenQASM 3 default has no tket pass, and its tket reader is OpenQASM 2 only
        return None
    optimizations = config.optimizations
    if optimizations is None:
        return TketOptimizations.One
    if isinstance(optimizations, Tket | Qasm2Optimizations):
        flags = optimizations.tket_optimizations
        return None if flags == TketOptimizations.Empty else flags
    return None


def compile_task(text: str, spec: DeviceSpec, config: CompilerConfig) -> Compiled:
    """Compile one task's program for ``spec`` as QCaaS would, down to native gates.

    Raises:
        ProgramError: QCaaS would refuse the program; the message names the problem and the fix.
    """
    version = openqasm_version(text)
    flags = tket_flags(config, version) if version is not None else None
    if flags is None and version == 2:
        native = parse_native(text, spec)  # the front ends' common case, read and checked in one pass
        if native is not None:
            return Compiled(native[0], native[1], text)
    if flags is not None:
        compiled = _placed(text, spec, flags)
        return replace(compiled, circuit=compiled.circuit.copy())  # callers may add to their copy
    return _unplaced(text, spec)


@functools.lru_cache(maxsize=256)
def _placed(text: str, spec: DeviceSpec, flags: TketOptimizations) -> Compiled:
    """A program compiled with tket passes, cached: tket takes 10-30 ms a program (placement is most
    of it) and the same program is often sent again (repeated runs, one task per results format)."""
    circuit = parse_program(text)
    try:
        tk = _to_tket(circuit)
    except _NotForTket as exc:
        logger.debug("tket skipped, as QAT does: %s", exc)
    else:
        placed = _run_tket(tk, flags, spec)
        if _writable(placed):
            native_circuit, layout = _lower_tket(placed, circuit, spec)
            return Compiled(native_circuit, layout, _qasm(placed))
        # QAT's OpenQASM writer refused tket's result (e.g. the SetBits ContextSimp makes of a
        # reset before a measurement): QAT then runs the client's program as written.
        logger.debug("tket's result cannot be written as OpenQASM 2: the program runs as written")
    native_circuit, layout = lower_circuit(circuit, spec)
    return Compiled(native_circuit, layout, text)


def _unplaced(text: str, spec: DeviceSpec) -> Compiled:
    """A program that keeps its qubits (no tket pass), read by the general path."""
    native_circuit, layout = lower_circuit(parse_program(text), spec)
    return Compiled(native_circuit, layout, text)


# Reading a parsed program into tket, as QAT's tket reader does ------------------------------------
def _to_tket(circuit: QuantumCircuit) -> Circuit:
    from pytket import Bit, Circuit, Qubit

    tk = Circuit()
    for qreg in circuit.qregs:
        tk.add_q_register(qreg.name, qreg.size)
    for creg in circuit.cregs:
        tk.add_c_register(creg.name, creg.size)
    qubits = {}
    for bit in circuit.qubits:
        register, index = circuit.find_bit(bit).registers[0]
        qubits[bit] = Qubit(register.name, index)
    clbits = {}
    for bit in circuit.clbits:
        register, index = circuit.find_bit(bit).registers[0]
        clbits[bit] = Bit(register.name, index)
    for instruction in circuit.data:
        _add(
            tk,
            instruction.operation,
            [qubits[q] for q in instruction.qubits],
            [clbits[c] for c in instruction.clbits],
        )
    return tk


def _add(tk: Circuit, op: Any, qubits: list[Any], clbits: list[Any]) -> None:
    from pytket import OpType
    from qiskit.circuit import Barrier, ControlFlowOp, Delay, Gate, Measure, Reset
    from qiskit.circuit.library import CXGate, ECRGate, UGate

    if isinstance(op, Measure):
        tk.Measure(qubits[0], clbits[0])
    elif isinstance(op, Barrier):
        tk.add_barrier(qubits)
    elif isinstance(op, Reset):
        tk.add_gate(OpType.Reset, [], qubits)
    elif isinstance(op, Delay | ControlFlowOp) or not isinstance(op, Gate):
        raise _NotForTket(f"operation {op.name!r}")
    elif isinstance(op, ECRGate):
        tk.ECR(qubits[0], qubits[1])
    else:
        name = "U" if isinstance(op, UGate) else "CX" if isinstance(op, CXGate) else op.name
        kind = _TKET_GATES.get(name)
        if kind is not None:
            tk.add_gate(getattr(OpType, kind), [float(p) / math.pi for p in op.params], qubits)
            return
        definition = op.definition
        if definition is None or not any(isinstance(i.operation, Gate) for i in definition.data):
            raise _NotForTket(f"gate {op.name!r} has no body")
        inner = {bit: qubits[position] for position, bit in enumerate(definition.qubits)}
        for instruction in definition.data:
            _add(tk, instruction.operation, [inner[q] for q in instruction.qubits], [])


# QAT's tket pipeline ---------------------------------------------------------------------------
def _connected_groups(couplings: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The couplings split into connected groups, each in the order QAT lists its couplings.

    QAT grows groups coupling by coupling; a coupling that joins a second group appends that group to
    the first and drops it while walking the list of groups, which skips the group after it. The
    same walk is kept here because tket's placement depends on the order of the couplings.
    """
    groups: list[list[tuple[int, int]]] = []
    for edge in couplings:
        joined: list[tuple[int, int]] | None = None
        position = 0
        while position < len(groups):
            group = groups[position]
            if set(edge) & {node for pair in group for node in pair}:
                if joined is None:
                    group.append(edge)
                    joined = group
                else:
                    joined.extend(group)
                    del groups[position]
                    position += 1  # the walk skips the group that moved into this position
                    continue
            position += 1
        if joined is None:
            groups.append([edge])
    return groups


def _optimise(tk: Circuit, architecture: Any, flags: TketOptimizations) -> bool:
    """QAT's sequence of passes on ``tk`` (in place); False when any step fails, as QAT logs it."""
    from pytket import OpType, passes

    try:
        sequence = [passes.DecomposeBoxes(), passes.SynthesiseTket()]
        sequence += [getattr(passes, name)(**kw) for flag, name, kw in _OPTIONAL_PASSES if flag in flags]
        if TketOptimizations.DefaultMappingPass in flags:
            sequence.append(passes.DefaultMappingPass(architecture, True))
        sequence.append(passes.AutoRebase({OpType.CX, OpType.U3}))
        passes.SequencePass(sequence, strict=False).apply(tk)
        _directional(tk, architecture, flags)
        _verify(tk, architecture)
    except (ValueError, IndexError, RuntimeError) as exc:
        logger.debug("tket could not compile the circuit, as QAT would log: %s", exc)
        return False
    return True


def _directional(tk: Circuit, architecture: Any, flags: TketOptimizations) -> None:
    from pytket.transform import Transform

    if TketOptimizations.DirectionalCXGates in flags:
        Transform.DecomposeCXDirected(architecture).apply(tk)
        Transform.RemoveRedundancies().apply(tk)


def _verify(tk: Circuit, architecture: Any) -> None:
    from pytket.predicates import ConnectivityPredicate, DirectednessPredicate, NoMidMeasurePredicate

    checks = (
        ("Failed to apply circuit to hardware topology.", ConnectivityPredicate(architecture)),
        ("Failed to satisfy 2QB gate constraints.", DirectednessPredicate(architecture)),
        ("No mid-circuit measurements allowed.", NoMidMeasurePredicate()),
    )
    failed = [message for message, predicate in checks if not predicate.verify(tk)]
    if failed:
        raise ValueError(f"Verification failed: {' '.join(failed)}")


def _run_tket(tk: Circuit, flags: TketOptimizations, spec: DeviceSpec) -> Circuit:
    """Place, route and optimise ``tk`` on ``spec`` as QAT does, with its fallback to mapping only."""
    from pytket import passes
    from pytket.architecture import Architecture, RingArch

    couplings = list(spec.couplings)
    architecture: Architecture | None = None
    failed = False
    if not couplings:
        architecture = RingArch(spec.qubit_count)
        failed = not _optimise(tk, architecture, flags)
    elif TketOptimizations.DefaultMappingPass not in flags:
        architecture = Architecture(couplings)
        failed = not _optimise(tk, architecture, flags)
    else:
        for group in _connected_groups(couplings):
            if tk.n_qubits <= len({node for pair in group for node in pair}):
                architecture = Architecture(group)
                failed = not _optimise(tk, architecture, flags)
                if not failed:
                    break
            else:
                failed = True
    if not failed:
        return tk
    if architecture is None:
        largest = max(len({n for pair in g for n in pair}) for g in _connected_groups(couplings))
        raise ProgramError(
            f"The program declares {tk.n_qubits} qubits but the largest connected set of couplings on "
            f"{spec.name} has {largest} (QCaaS: Unable to resolve hardware instance for fall-back "
            f"optimizations). Use at most {largest} qubits or pick a larger QPU."
        )
    mapping = TketOptimizations.DefaultMappingPass in flags
    try:
        if mapping:
            passes.DefaultMappingPass(architecture, True).apply(tk)
    except RuntimeError:
        try:
            if mapping:
                passes.DefaultMappingPass(architecture, False).apply(tk)
        except RuntimeError as exc:
            if "MaxNQubitsPredicate" in str(exc):
                raise ProgramError(
                    f"The program uses {tk.n_qubits} qubits but only {len(architecture.nodes)} are "
                    f"available on {spec.name}. Use fewer qubits or pick a larger QPU."
                ) from exc
            raise ProgramError(f"tket could not place the program on {spec.name}: {exc}") from exc
    try:
        _directional(tk, architecture, flags)
        _verify(tk, architecture)
    except (ValueError, RuntimeError) as exc:
        raise ProgramError(
            f"QCaaS's compiler cannot run this program on {spec.name} with tket {flags!r}: {exc} "
            "Measure every qubit at the end of the circuit, or send the program compiled for the "
            "device with optimizations=Tket(TketOptimizations.Empty)."
        ) from exc
    return tk


# From tket's result to native gates and text ----------------------------------------------------
def _writable(tk: Circuit) -> bool:
    """Whether pytket's OpenQASM 2 writer (qelib1), which QAT calls on tket's result, accepts it."""
    if all(command.op.type in _LOWERED for command in tk.get_commands()):
        return True  # the usual result of QAT's passes: no need to load the writer (0.4 s of sympy)
    from pytket.qasm import circuit_to_qasm_str
    from pytket.qasm.qasm import QASMUnsupportedError

    try:
        circuit_to_qasm_str(tk)
    except (QASMUnsupportedError, RuntimeError):
        return False
    return True


def _physical(tk: Circuit) -> dict[Any, int]:
    """Physical qubit of each tket qubit: QAT re-reads tket's OpenQASM, whose registers (``node``
    after placement) it allocates one after another from qubit 0."""
    offsets: dict[str, int] = {}
    total = 0
    for name, size in _registers(tk.qubits):
        offsets[name] = total
        total += size
    return {qubit: offsets[qubit.reg_name] + qubit.index[0] for qubit in tk.qubits}


def _registers(units: list[Any]) -> list[tuple[str, int]]:
    """Registers as tket's OpenQASM writer declares them: by name, each as wide as its highest index."""
    sizes: dict[str, int] = {}
    for unit in units:
        sizes[unit.reg_name] = max(sizes.get(unit.reg_name, 0), unit.index[0] + 1)
    return sorted(sizes.items())


def _lower_tket(tk: Circuit, program: QuantumCircuit, spec: DeviceSpec) -> tuple[QuantumCircuit, Layout]:
    from pytket import OpType
    from pytket.passes import AutoRebase

    if any(c.op.type not in _LOWERED for c in tk.get_commands()):
        tk = tk.copy()
        AutoRebase({OpType.CX, OpType.U3}).apply(tk)
    physical = _physical(tk)
    width = max(physical.values(), default=-1) + 1
    builder = NativeBuilder(spec, width, list(program.cregs))
    registers = {creg.name: creg for creg in program.cregs}
    for command in tk.get_commands():
        kind = command.op.type
        qubits = [physical[q] for q in command.qubits]
        if kind == OpType.U3:
            theta, phi, lam = (float(p) * math.pi for p in command.op.params)
            builder.u3(theta, phi, lam, qubits[0])
        elif kind == OpType.CX:
            builder.cx(qubits[0], qubits[1])
        elif kind == OpType.ECR:
            builder.ecr(qubits[0], qubits[1])
        elif kind == OpType.Measure:
            bit = command.bits[0]
            builder.measure(qubits[0], registers[bit.reg_name][bit.index[0]])
        elif kind == OpType.Reset:
            builder.reset(qubits[0])
        elif kind == OpType.Barrier:
            builder.barrier(qubits)
        elif kind == OpType.Conditional:
            raise ProgramError(conditional_message())
        elif len(qubits) == 1 and kind != OpType.noop:  # e.g. the H gates DecomposeCXDirected adds
            builder.unitary(command.op.get_unitary(), qubits[0])
    return builder.finish()


def _lowered_types() -> frozenset[Any]:
    from pytket import OpType

    written = (OpType.U3, OpType.CX, OpType.H, OpType.ECR)  # H: DecomposeCXDirected adds them
    return frozenset({*written, OpType.Measure, OpType.Reset, OpType.Barrier, OpType.noop})


class _LazyTypes:
    """The tket operation types lowered directly, built on first use (pytket imports lazily)."""

    _types: frozenset[Any] | None = None

    def __contains__(self, item: object) -> bool:
        if self._types is None:
            self._types = _lowered_types()
        return item in self._types


_LOWERED = _LazyTypes()


def _qasm(tk: Circuit) -> str:
    """tket's result as OpenQASM 2, the ``optimized_circuit`` QAT reports (pytket.qasm is not
    imported for this: it costs 0.4 s of sympy)."""
    from pytket import OpType

    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', ""]
    lines += [f"qreg {name}[{size}];" for name, size in _registers(tk.qubits)]
    lines += [f"creg {name}[{size}];" for name, size in _registers(tk.bits)]

    def arg(unit: Any) -> str:
        return f"{unit.reg_name}[{unit.index[0]}]"

    for command in tk.get_commands():
        kind = command.op.type
        qubits = ",".join(arg(q) for q in command.qubits)
        if kind == OpType.Measure:
            lines.append(f"measure {qubits} -> {arg(command.bits[0])};")
        elif kind == OpType.Barrier:
            lines.append(f"barrier {qubits};")
        elif kind == OpType.noop:
            continue
        else:
            names = {
                OpType.U3: "u3",
                OpType.CX: "cx",
                OpType.H: "h",
                OpType.ECR: "ecr",
                OpType.Reset: "reset",
            }
            name = names.get(kind, kind.name.lower())
            params = command.op.params
            angles = f"({','.join(f'{float(p)!r}*pi' for p in params)})" if params else ""
            lines.append(f"{name}{angles} {qubits};")
    return "\n".join(lines) + "\n"
