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


def build_noise_model(spec: DeviceSpec, calibration: Calibration) -> NoiseModel | None:
    """An Aer NoiseModel for ``spec`` from ``calibration``; None for noiseless devices.

    Built from the device's Qiskit Target (:func:`oqc_provider.device_target.build_target`) the way
    ``AerSimulator.from_backend`` builds it (``qiskit_aer.noise.device``), so each gate's *total*
    error is the error the Target advertises:

    * ``sx``, ``x`` and ``ecr``: a depolarizing error, then thermal relaxation of the gate's qubits
      over the gate duration; the depolarizing parameter makes the average gate infidelity of the
      composition equal to the advertised error (relaxation is part of it, not added on top);
    * ``reset``: thermal relaxation over the reset duration;
    * ``measure``: the qubit's symmetric readout error;
    * ``rz`` is a virtual frame change, hence noiseless; delays relax in :func:`add_idle_relaxation`.

    Aer's own construction is used on purpose: every channel is CPTP, and Aer converts each to its
    canonical Kraus form without trouble (composing depolarizing *after* relaxation, as this module
    once did, gives 2-qubit channels on which Aer's eigensolver fails and the process crashes).
    """
    if not spec.noisy or not calibration.published or calibration.is_noiseless:
        return None
    from qiskit_aer.noise import NoiseModel
    from qiskit_aer.noise.device import basic_device_gate_errors, basic_device_readout_errors

    from oqc_provider.device_target import build_target

    target = build_target(spec, calibration)
    model = NoiseModel(basis_gates=list(BASIS_GATES))
    for name, qubits, error in basic_device_gate_errors(target=target):
        model.add_quantum_error(error, name, qubits)
    for qubits, readout in basic_device_readout_errors(target=target):
        model.add_readout_error(readout, qubits)
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
    device relaxes during delays exactly as its calibration says. A delay's duration is read in
    its own unit: seconds (``Delay(x, unit="s")``, as QAT reads ``delay(x)``), any SI prefix, or
    ``dt`` (the device's sample time). Circuits without delays, and noiseless devices, are
    returned unchanged.
    """
    if not spec.noisy or not any(instruction.name == "delay" for instruction in circuit.data):
        return circuit
    from qiskit.circuit import Delay
    from qiskit_aer.noise.passes import RelaxationNoisePass

    count = circuit.num_qubits
    # Qubits without figures never relax (infinite T1/T2), as on a noiseless device.
    t1s = [calibration.qubit(q).t1 or float("inf") for q in range(count)]
    t2s = [min(calibration.qubit(q).t2 or float("inf"), 2 * t1s[q]) for q in range(count)]
    return RelaxationNoisePass(t1s, t2s, dt=spec.dt, op_types=Delay)(circuit)
