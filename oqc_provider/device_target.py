"""A Qiskit :class:`~qiskit.transpiler.Target` from a device and its calibration: one builder, two readers.

The Qiskit front end offers this Target to the transpiler, and the emulator builds its Aer noise
model from the very same Target (as ``AerSimulator.from_backend`` would), so the errors a user
optimises for are the errors the emulator applies. It lives beside :mod:`oqc_provider.devices`
because the emulator may not import the front ends; Qiskit is imported inside the functions, so
``import oqc_provider`` and ``import oqc_provider.emulator`` stay free of it.

* ``rz`` on every qubit: a virtual frame change, so no error and no duration;
* ``sx`` and ``x`` on every qubit: the qubit's ``one_qubit_error`` and the gate duration;
* ``ecr`` only on the device's *directed* couplings: the edge's ``ecr_error`` and duration (the
  transpiler flips a wrongly directed ECR with single-qubit gates);
* ``measure``: the qubit's readout error and duration;
* ``reset`` where the device has it; ``delay`` everywhere (it is an idle, not an operation).

An error the service did not publish stays ``None`` (Qiskit's "unknown"), never a made-up figure.

Example:
    >>> from oqc_provider.devices import LUCY, Calibration
    >>> target = build_target(LUCY, Calibration.unpublished(LUCY.qpu_id))
    >>> target["sx"][(0,)].error is None, target.qubit_properties[0].t1 is None
    (True, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oqc_provider.devices import Calibration, DeviceSpec

if TYPE_CHECKING:
    from qiskit.transpiler import QubitProperties, Target


def qubit_properties(calibration: Calibration, qubit_count: int) -> list[QubitProperties]:
    """T1, T2 and frequency per qubit (``None`` where the device does not decohere or is unknown)."""
    from qiskit.transpiler import QubitProperties

    properties = []
    for qubit in range(qubit_count):
        figures = calibration.qubit(qubit)
        properties.append(QubitProperties(t1=figures.t1, t2=figures.t2, frequency=figures.frequency))
    return properties


def build_target(spec: DeviceSpec, calibration: Calibration) -> Target:
    """The Target of the QPU ``spec`` with the errors and coherence times of ``calibration``."""
    from qiskit.circuit import Delay, Measure, Parameter, Reset
    from qiskit.circuit.library import ECRGate, RZGate, SXGate, XGate
    from qiskit.transpiler import InstructionProperties, Target

    count = spec.qubit_count
    target = Target(
        description=f"{spec.name} ({spec.qpu_id}{', emulator only' if spec.emulator_only else ''})",
        num_qubits=count,
        dt=spec.dt,
        qubit_properties=qubit_properties(calibration, count),
        concurrent_measurements=[list(range(count))],
    )
    figures = {q: calibration.qubit(q) for q in range(count)}
    durations = spec.durations
    if "rz" in spec.native_gates:
        target.add_instruction(
            RZGate(Parameter("theta")),
            {(q,): InstructionProperties(duration=0.0, error=0.0) for q in range(count)},
        )
    for name, gate in (("sx", SXGate()), ("x", XGate())):
        if name not in spec.native_gates:
            continue
        duration = getattr(durations, name)
        target.add_instruction(
            gate,
            {
                (q,): InstructionProperties(duration=duration, error=figures[q].one_qubit_error)
                for q in range(count)
            },
        )
    if "ecr" in spec.native_gates and spec.couplings:
        target.add_instruction(
            ECRGate(),
            {
                (c, t): InstructionProperties(duration=durations.ecr, error=calibration.edge_error(c, t))
                for c, t in spec.couplings
                if c < count and t < count
            },
        )
    target.add_instruction(
        Measure(),
        {
            (q,): InstructionProperties(duration=durations.measure, error=figures[q].readout_error)
            for q in range(count)
        },
    )
    if spec.supports_reset:
        target.add_instruction(
            Reset(), {(q,): InstructionProperties(duration=durations.reset) for q in range(count)}
        )
    target.add_instruction(Delay(Parameter("t")), {(q,): None for q in range(count)})
    return target
