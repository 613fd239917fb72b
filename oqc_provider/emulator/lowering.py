"""Turning a program into the device's native gates (rz, sx, x, ecr) on physical qubits, for Aer.

Whatever QCaaS's compiler (QAT) did to a program — nothing (``Tket(Empty)``) or placement and
routing by tket — the emulator still has to simulate it on the device's native operations, so that
the noise model (keyed by native gate and physical qubit) applies. ``qiskit.transpile`` would do it,
but it loads every installed Qiskit plugin on first use (seconds), so this module lowers circuits
itself, with exact identities checked by the tests against Qiskit's own unitaries:

* a single-qubit gate that is not native is kept as a pending 2x2 unitary per qubit, fused with
  its neighbours, and written as ``rz``/``sx``/``x`` when a multi-qubit operation, a measurement or
  the end of the circuit reaches that qubit (native ``rz``/``sx``/``x`` are written as they are);
* ``cx`` becomes one ``ecr`` on the coupling (in whichever direction the device has it) plus
  single-qubit corrections; an ``ecr`` against the coupling's direction is turned the same way;
* two-qubit gates on uncoupled pairs, resets and mid-circuit measurements the device lacks are
  refused with a :class:`~oqc_provider.emulator.programs.ProgramError` naming the problem.

Physical qubit ``i`` is qubit ``i`` of the circuit built here, so the noise model (keyed by
physical qubit) and the readout-mitigation figures apply to the qubits that really ran.
"""

from __future__ import annotations

import cmath
import functools
import math
from typing import TYPE_CHECKING

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.programs import Layout, ProgramError, native_operations

if TYPE_CHECKING:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit import ClassicalRegister, Clbit

_ATOL = 1e-9


def rz_matrix(angle: float) -> np.ndarray:
    """``rz(angle)`` as Qiskit defines it."""
    import numpy as np

    return np.array([[cmath.exp(-0.5j * angle), 0], [0, cmath.exp(0.5j * angle)]])


def u3_matrix(theta: float, phi: float, lam: float) -> np.ndarray:
    """``U(theta, phi, lambda)`` as OpenQASM defines it."""
    import numpy as np

    cos, sin = math.cos(theta / 2), math.sin(theta / 2)
    return np.array(
        [
            [cos, -cmath.exp(1j * lam) * sin],
            [cmath.exp(1j * phi) * sin, cmath.exp(1j * (phi + lam)) * cos],
        ]
    )


@functools.cache
def _fixed() -> dict[str, np.ndarray]:
    """Constant single-qubit matrices, built on first use (numpy is imported lazily).

    ``cx(c, t) = ecr(c, t) · (x then rz(-pi/2) on c, sx on t)`` up to a global phase: ``cx_control``
    and ``cx_target`` are those corrections, applied before the ECR.
    """
    import numpy as np

    sx = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    control = rz_matrix(-math.pi / 2) @ x
    return {
        "h": np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2),
        "cx_control": control,
        "cx_target": sx,
        "cx_control_inv": control.conj().T,
        "cx_target_inv": sx.conj().T,
    }


def _near(value: float, target: float) -> bool:
    """Whether two angles are equal modulo 2*pi."""
    return abs(math.remainder(value - target, 2 * math.pi)) < _ATOL


def zyz_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """``(theta, phi, lambda)`` with ``matrix = e^{ia} U(theta, phi, lambda)``."""
    det = matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]
    special = matrix / cmath.sqrt(det)
    theta = 2 * math.atan2(abs(special[1, 0]), abs(special[0, 0]))
    total = 2 * cmath.phase(special[1, 1]) if abs(special[0, 0]) > _ATOL else 0.0
    difference = 2 * cmath.phase(special[1, 0]) if abs(special[1, 0]) > _ATOL else 0.0
    return theta, (total + difference) / 2, (total - difference) / 2


class NativeBuilder:
    """Builds the native circuit Aer runs, checking the device's rules as operations arrive.

    Args:
        spec: the device.
        width: the number of circuit qubits (physical qubits ``0..width-1``).
        cregs: the program's classical registers, in its order.
    """

    def __init__(self, spec: DeviceSpec, width: int, cregs: list[ClassicalRegister]) -> None:
        from qiskit import QuantumCircuit, QuantumRegister

        if width > spec.qubit_count:
            raise ProgramError(
                f"The program needs {width} qubits but {spec.name} has {spec.qubit_count} "
                f"(0..{spec.qubit_count - 1}). Use at most {spec.qubit_count} qubits or pick a larger QPU."
            )
        self.spec = spec
        self.circuit = QuantumCircuit(QuantumRegister(max(width, 1), "q"), *cregs)
        self._qubits = list(self.circuit.qubits)
        self._clbit_index = {bit: index for index, bit in enumerate(self.circuit.clbits)}
        self._couplings = set(spec.couplings)
        self._pending: dict[int, np.ndarray] = {}
        self._measured: set[int] = set()
        self._used: set[int] = set()
        self._clbit_qubits: dict[int, int] = {}
        self._count = 0

    # Single-qubit operations -------------------------------------------------------------
    def unitary(self, matrix: np.ndarray, qubit: int) -> None:
        """A single-qubit gate that is not native: fused with its neighbours, written later."""
        self._touch(qubit, "a gate")
        pending = self._pending.get(qubit)
        self._pending[qubit] = matrix if pending is None else matrix @ pending

    def u3(self, theta: float, phi: float, lam: float, qubit: int) -> None:
        """``U(theta, phi, lambda)`` in radians."""
        self.unitary(u3_matrix(theta, phi, lam), qubit)

    def rz(self, angle: float, qubit: int) -> None:
        """A native ``rz`` (written as it is, after anything pending on the qubit)."""
        self._flush(qubit)
        self._touch(qubit, "rz")
        self.circuit.rz(angle, self._qubits[qubit])
        self._count += 1

    def fixed(self, name: str, qubit: int) -> None:
        """A native ``sx`` or ``x`` (written as it is)."""
        from qiskit.circuit.library import SXGate, XGate

        self._flush(qubit)
        self._touch(qubit, name)
        self.circuit.append(SXGate() if name == "sx" else XGate(), [self._qubits[qubit]], copy=False)
        self._count += 1

    # Two-qubit operations ----------------------------------------------------------------
    def cx(self, control: int, target: int, name: str = "cx") -> None:
        """A CNOT, on an ECR of the coupling in the device's direction."""
        if (control, target) in self._couplings:
            self.unitary(_fixed()["cx_control"], control)
            self.unitary(_fixed()["cx_target"], target)
            self._ecr(control, target)
        elif (target, control) in self._couplings:
            self.unitary(_fixed()["h"], control)
            self.unitary(_fixed()["h"], target)
            self.cx(target, control, name)
            self.unitary(_fixed()["h"], control)
            self.unitary(_fixed()["h"], target)
        else:
            raise ProgramError(self._uncoupled(name, control, target))

    def ecr(self, control: int, target: int) -> None:
        """An ECR; one against the coupling's direction is turned (QAT runs it too)."""
        if (control, target) in self._couplings:
            self._ecr(control, target)
        elif (target, control) in self._couplings:
            # ecr(c, t) = cx(c, t) · (corrections of cx(c, t))^-1, and cx turns round the coupling.
            self.unitary(_fixed()["cx_control_inv"], control)
            self.unitary(_fixed()["cx_target_inv"], target)
            self.cx(control, target, "ecr")
        else:
            raise ProgramError(self._uncoupled("ecr", control, target))

    def _ecr(self, control: int, target: int) -> None:
        from qiskit.circuit.library import ECRGate

        self._flush(control)
        self._flush(target)
        self._touch(control, "ecr")
        self._touch(target, "ecr")
        self.circuit.append(ECRGate(), [self._qubits[control], self._qubits[target]], copy=False)
        self._count += 1

    # Non-unitary operations --------------------------------------------------------------
    def measure(self, qubit: int, clbit: Clbit) -> None:
        from qiskit.circuit import Measure

        self._flush(qubit)
        self._touch(qubit, "measure")
        self.circuit.append(Measure(), [self._qubits[qubit]], [clbit], copy=False)
        self._measured.add(qubit)
        self._clbit_qubits[self._clbit_index[clbit]] = qubit
        self._count += 1

    def reset(self, qubit: int) -> None:
        from qiskit.circuit import Reset

        if not self.spec.supports_reset:
            raise ProgramError(
                f"Gate 'reset' is not native to {self.spec.name}. Reset is not supported on this QPU. "
                f"Native operations: {', '.join(native_operations(self.spec))}. Remove the reset or "
                "pick a QPU that has it."
            )
        self._flush(qubit)
        self._touch(qubit, "reset")
        self.circuit.append(Reset(), [self._qubits[qubit]], copy=False)
        self._count += 1

    def delay(self, seconds: float, qubit: int) -> None:
        from qiskit.circuit import Delay

        self._flush(qubit)
        self._touch(qubit, "delay")
        self.circuit.append(Delay(seconds, unit="s"), [self._qubits[qubit]], copy=False)
        self._count += 1

    def barrier(self, qubits: list[int]) -> None:
        from qiskit.circuit import Barrier

        for qubit in qubits:
            self._flush(qubit)
        self.circuit.append(Barrier(len(qubits)), [self._qubits[q] for q in qubits], copy=False)

    # Result ------------------------------------------------------------------------------
    def finish(self) -> tuple[QuantumCircuit, Layout]:
        """The native circuit and its layout (registers in the program's order)."""
        for qubit in sorted(self._pending):
            self._flush(qubit)
        registers = tuple(
            (creg.name, tuple(self._clbit_index[bit] for bit in creg)) for creg in self.circuit.cregs
        )
        return self.circuit, Layout(registers, self._clbit_qubits, tuple(sorted(self._used)), self._count)

    # Internals ---------------------------------------------------------------------------
    def _touch(self, qubit: int, what: str) -> None:
        self._used.add(qubit)
        if qubit in self._measured and not self.spec.supports_mid_circuit_measurement:
            raise ProgramError(
                f"Qubit {qubit} is used by '{what}' after it was measured, but {self.spec.name} "
                "does not support mid-circuit measurement. Move every measurement to the end of "
                "the circuit."
            )

    def _flush(self, qubit: int) -> None:
        matrix = self._pending.pop(qubit, None)
        if matrix is None:
            return
        theta, phi, lam = zyz_angles(matrix)
        if _near(theta, 0.0):
            if not _near(phi + lam, 0.0):
                self._emit_rz(phi + lam, qubit)
            return
        from qiskit.circuit.library import SXGate, XGate

        target = [self._qubits[qubit]]
        if _near(theta, math.pi):
            self._emit_rz(lam, qubit)
            self.circuit.append(XGate(), target, copy=False)
            self._count += 1
            self._emit_rz(phi - math.pi, qubit)
        elif _near(theta, math.pi / 2):
            self._emit_rz(lam - math.pi / 2, qubit)
            self.circuit.append(SXGate(), target, copy=False)
            self._count += 1
            self._emit_rz(phi + math.pi / 2, qubit)
        else:
            self._emit_rz(lam, qubit)
            self.circuit.append(SXGate(), target, copy=False)
            self._emit_rz(theta + math.pi, qubit)
            self.circuit.append(SXGate(), target, copy=False)
            self._count += 2
            self._emit_rz(phi + math.pi, qubit)

    def _emit_rz(self, angle: float, qubit: int) -> None:
        """An ``rz`` of a fused rotation, left out when it is the identity."""
        if _near(angle, 0.0):
            return
        self.circuit.rz(math.remainder(angle, 2 * math.pi), self._qubits[qubit])
        self._count += 1

    def _uncoupled(self, gate: str, first: int, second: int) -> str:
        neighbours = sorted({edge for edge in self._couplings if first in edge or second in edge})
        return (
            f"Qubits {first} and {second} are not coupled on {self.spec.name}, so {gate} cannot act on "
            f"them (QCaaS: Pulse channel with stored as 'Q{second}.cross_resonance' not found on device "
            f"'Q{first}'.). Couplings of these qubits "
            f"(control, target): {neighbours}. Route the circuit with the device's coupling map, or "
            "let the service place and route it (optimizations=Tket(TketOptimizations.One))."
        )


def lower_circuit(circuit: QuantumCircuit, spec: DeviceSpec) -> tuple[QuantumCircuit, Layout]:
    """Lower a parsed program that keeps its qubits (``Tket(Empty)``, OpenQASM 3, or a program QAT's
    tket front end cannot read): program qubit ``i`` is physical qubit ``i``.

    Gates are read as QAT's OpenQASM parser reads them: native gates, ``U``, ``cx`` and ``ecr`` as
    they are, every other gate through its definition, and a gate with an empty body (``id``, an
    ``opaque`` gate) refused.

    Raises:
        ProgramError: too many qubits, a conditional, a gate with no body, a two-qubit interaction on
            an uncoupled pair, or an operation the device does not have.
    """
    if circuit.num_qubits > spec.qubit_count:
        raise ProgramError(
            f"The program declares {circuit.num_qubits} qubits but {spec.name} has {spec.qubit_count} "
            f"(0..{spec.qubit_count - 1}) (QCaaS: Attempted to allocate more qubits than available). "
            f"Use at most {spec.qubit_count} qubits or pick a larger QPU."
        )
    builder = NativeBuilder(spec, circuit.num_qubits, list(circuit.cregs))
    index = {bit: position for position, bit in enumerate(circuit.qubits)}
    for instruction in circuit.data:
        _walk(builder, instruction.operation, [index[q] for q in instruction.qubits], instruction.clbits)
    return builder.finish()


def conditional_message() -> str:
    """Why a classically conditioned gate is refused, and what to do instead."""
    return (
        "Classically conditioned operations (if) are not supported by QCaaS (QCaaS: If's are currently "
        "unable to be used.). Remove the condition, or measure at the end and post-process the results."
    )


def _walk(builder: NativeBuilder, op: object, qubits: list[int], clbits: tuple[Clbit, ...]) -> None:
    from qiskit.circuit import Barrier, ControlFlowOp, Delay, Gate, Measure, Reset
    from qiskit.circuit.library import CXGate, ECRGate, RZGate, SXGate, UGate, XGate

    if isinstance(op, RZGate):
        builder.rz(float(op.params[0]), qubits[0])
    elif isinstance(op, SXGate | XGate):
        builder.fixed(op.name, qubits[0])
    elif isinstance(op, ECRGate):
        builder.ecr(qubits[0], qubits[1])
    elif isinstance(op, CXGate):
        builder.cx(qubits[0], qubits[1])
    elif isinstance(op, UGate):
        theta, phi, lam = (float(p) for p in op.params)
        builder.u3(theta, phi, lam, qubits[0])
    elif isinstance(op, Measure):
        builder.measure(qubits[0], clbits[0])
    elif isinstance(op, Barrier):
        builder.barrier(qubits)
    elif isinstance(op, Reset):
        builder.reset(qubits[0])
    elif isinstance(op, Delay):
        builder.delay(_seconds(op, builder.spec), qubits[0])
    elif isinstance(op, ControlFlowOp) or getattr(op, "condition", None) is not None:
        raise ProgramError(conditional_message())
    elif isinstance(op, Gate):
        definition = op.definition
        if definition is None or not any(isinstance(i.operation, Gate) for i in definition.data):
            raise ProgramError(
                f"Gate '{op.name}' has no body that QCaaS can run on {builder.spec.name} "
                f"(QCaaS: Gate {op.name} isn't intrinsic and has no body). Remove it (an identity does "
                f"nothing), or define it with gates from qelib1.inc; the device's own operations are "
                f"{', '.join(native_operations(builder.spec))}."
            )
        if op.num_qubits == 1:
            try:
                builder.unitary(op.to_matrix().astype(complex), qubits[0])
                return
            except Exception:  # a user-defined gate Qiskit has no matrix for: read its body
                pass
        inner = {bit: qubits[position] for position, bit in enumerate(definition.qubits)}
        for instruction in definition.data:
            _walk(builder, instruction.operation, [inner[q] for q in instruction.qubits], ())
    else:
        name = getattr(op, "name", type(op).__name__)
        raise ProgramError(
            f"Operation '{name}' cannot run on {builder.spec.name}. Use gates from qelib1.inc/stdgates.inc, "
            f"measure, reset, barrier and delay."
        )


#: Units of an OpenQASM 3 duration per second (dividing keeps ``400ns`` at exactly ``4e-07`` s).
_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9, "ps": 1e12}


def _seconds(op: object, spec: DeviceSpec) -> float:
    """A delay's duration in seconds, as QAT reads it: OpenQASM 2 ``delay(x)`` is x seconds, an
    OpenQASM 3 ``delay[400ns]`` carries its unit (``dt`` is the device's sample time)."""
    unit = getattr(op, "unit", "s")
    duration = float(op.duration)  # type: ignore[attr-defined]
    return duration * spec.dt if unit == "dt" else duration / _PER_SECOND.get(unit, 1.0)
