"""Aer noise models built from a device's calibration: the numbers the monitoring routes serve.

One set of figures feeds the Qiskit Target, pytket's BackendInfo and this noise model, so what a
client reads from ``/monitoring/calibrations`` is exactly what shapes its counts. Qiskit Aer is
imported lazily so ``import oqc_provider.emulator`` stays fast.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from oqc_provider.devices import Calibration, DeviceSpec

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit_aer.noise import NoiseModel

logger = logging.getLogger(__name__)

#: Operations the emulated QPUs execute; the noise model and validation share this list.
BASIS_GATES: tuple[str, ...] = ("rz", "sx", "x", "ecr", "id", "delay", "measure", "reset")


def _depolarizing_param(error: float, num_qubits: int) -> float:
    """The depolarizing parameter whose average gate infidelity is ``error``.

    For a d-dimensional depolarizing channel with parameter λ the average infidelity is
    λ (d - 1) / d, so λ = error d / (d - 1); clipped to the channel's valid range.
    """
    dim = 2**num_qubits
    return min(max(error * dim / (dim - 1), 0.0), 4**num_qubits / (4**num_qubits - 1))


def build_noise_model(spec: DeviceSpec, calibration: Calibration) -> NoiseModel | None:
    """An Aer NoiseModel for ``spec`` from ``calibration``; None for noiseless devices.

    * ``sx`` and ``x``: thermal relaxation over the gate duration, composed with a depolarizing
      error whose infidelity is the qubit's ``one_qubit_error``;
    * ``ecr`` on each directed coupling: thermal relaxation of both qubits, composed with a
      two-qubit depolarizing error of the edge's ``ecr_error``;
    * ``measure``: the qubit's symmetric readout error;
    * ``rz`` is a virtual frame change, hence noiseless.
    """
    if not spec.noisy or calibration.is_noiseless:
        return None
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error, thermal_relaxation_error

    model = NoiseModel(basis_gates=list(BASIS_GATES))
    durations = spec.durations

    def relaxation(qubit: int, duration: float):  # -> Aer's QuantumError | None
        figures = calibration.qubits[qubit]
        if figures.t1 is None or figures.t2 is None:
            return None
        # Aer requires T2 <= 2 T1; the reference figures satisfy it, clamp for hand-made ones.
        return thermal_relaxation_error(figures.t1, min(figures.t2, 2 * figures.t1), duration)

    for qubit, figures in calibration.qubits.items():
        for gate, duration in (("sx", durations.sx), ("x", durations.x)):
            error = depolarizing_error(_depolarizing_param(figures.one_qubit_error, 1), 1)
            thermal = relaxation(qubit, duration)
            model.add_quantum_error(error if thermal is None else thermal.compose(error), gate, [qubit])
        if figures.readout_error > 0:
            p = figures.readout_error
            model.add_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]), [qubit])

    for edge in calibration.edges:
        if edge.control not in calibration.qubits or edge.target not in calibration.qubits:
            continue
        error = depolarizing_error(_depolarizing_param(edge.ecr_error, 2), 2)
        # Aer orders a tensor product's qubits right to left: (target ⊗ control) acts on [c, t].
        thermal_c = relaxation(edge.control, durations.ecr)
        thermal_t = relaxation(edge.target, durations.ecr)
        if thermal_c is not None and thermal_t is not None:
            error = thermal_t.tensor(thermal_c).compose(error)
        model.add_quantum_error(error, "ecr", [edge.control, edge.target])
    logger.debug(
        "Built noise model for %s: %d qubits, %d edges",
        spec.qpu_id,
        len(calibration.qubits),
        len(calibration.edges),
    )
    return model


def add_idle_relaxation(
    circuit: QuantumCircuit, spec: DeviceSpec, calibration: Calibration
) -> QuantumCircuit:
    """``circuit`` with thermal relaxation over each ``delay``, from the qubits' T1 and T2.

    Idling is where T1 and T2 show (a T1 experiment is delays and nothing else), so a noisy
    device relaxes during delays exactly as its calibration says. Circuits without delays, and
    noiseless devices, are returned unchanged.
    """
    if not spec.noisy or not any(instruction.operation.name == "delay" for instruction in circuit.data):
        return circuit
    from qiskit.circuit import Delay
    from qiskit_aer.noise.passes import RelaxationNoisePass

    count = circuit.num_qubits
    # Qubits without figures never relax (infinite T1/T2), as on a noiseless device.
    t1s = [calibration.qubit(q).t1 or float("inf") for q in range(count)]
    t2s = [min(calibration.qubit(q).t2 or float("inf"), 2 * t1s[q]) for q in range(count)]
    return RelaxationNoisePass(t1s, t2s, dt=spec.dt, op_types=Delay)(circuit)
