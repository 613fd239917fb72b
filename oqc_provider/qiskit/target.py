"""A Qiskit :class:`~qiskit.transpiler.Target` from the device catalogue and a QPU's calibration.

One set of numbers: the :class:`~oqc_provider.devices.Calibration` that shapes the emulator's
noise also fills in the Target's errors and ``QubitProperties``, so what the transpiler optimises
for is what the QPU (or emulator) does.

* ``rz`` on every qubit: a virtual frame change, so no error and no duration;
* ``sx`` and ``x`` on every qubit: the qubit's ``one_qubit_error`` and the gate duration;
* ``ecr`` only on the device's *directed* couplings: the edge's ``ecr_error`` and duration (the
  transpiler flips a wrongly directed ECR with single-qubit gates);
* ``measure``: the qubit's readout error and duration;
* ``reset`` where the device has it; ``delay`` everywhere (it is an idle, not an operation).

Example:
    >>> from oqc_provider.devices import LUCY_SIMULATOR, reference_calibration
    >>> target = build_target(LUCY_SIMULATOR, reference_calibration(LUCY_SIMULATOR))
    >>> target.num_qubits, sorted(target.operation_names)
    (8, ['delay', 'ecr', 'measure', 'reset', 'rz', 'sx', 'x'])
    >>> target.instruction_supported("ecr", (0, 1)), target.instruction_supported("ecr", (1, 0))
    (True, False)
"""

from __future__ import annotations

from qiskit.circuit import Delay, Measure, Parameter, Reset
from qiskit.circuit.library import ECRGate, RZGate, SXGate, XGate
from qiskit.transpiler import InstructionProperties, QubitProperties, Target

from oqc_provider.devices import Calibration, DeviceSpec

#: Native single-qubit gates besides the virtual ``rz``; their durations come from the spec.
_PHYSICAL_1Q = {"sx": SXGate(), "x": XGate()}


def qubit_properties(calibration: Calibration, qubit_count: int) -> list[QubitProperties]:
    """T1, T2 and frequency per qubit (``None`` where the device does not decohere or is unknown)."""
    properties = []
    for qubit in range(qubit_count):
        figures = calibration.qubit(qubit)
        properties.append(QubitProperties(t1=figures.t1, t2=figures.t2, frequency=figures.frequency))
    return properties


def build_target(spec: DeviceSpec, calibration: Calibration) -> Target:
    """The Target of the QPU ``spec`` with the errors and coherence times of ``calibration``."""
    count = spec.qubit_count
    target = Target(
        description=f"{spec.name} ({spec.qpu_id})",
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
    for name, gate in _PHYSICAL_1Q.items():
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
