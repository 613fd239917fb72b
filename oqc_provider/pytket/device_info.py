"""A QPU's ``BackendInfo``: architecture, gate set and error figures from its calibration.

The figures are the same numbers the Qiskit Target and the emulator's noise model read
(:class:`~oqc_provider.devices.Calibration`): per-qubit ``sx``/``x`` error and readout error,
per-coupling ECR error. ``rz`` is virtual and error-free. Figures the service did not publish are
left out (pytket's "unknown"), never filled in.

Example:
    >>> from oqc_provider.devices import TOSHIKO, reference_calibration
    >>> info = backend_info(TOSHIKO, reference_calibration(TOSHIKO))
    >>> info.device_name, len(info.nodes), info.supports_reset
    ('Toshiko', 32, True)
    >>> 0.008 <= min(info.averaged_edge_gate_errors.values()) < 0.02
    True
    >>> from oqc_provider.devices import Calibration
    >>> unknown = backend_info(TOSHIKO, Calibration.unpublished(TOSHIKO.qpu_id))
    >>> unknown.averaged_node_gate_errors, unknown.misc["calibration_date"]
    (None, None)
"""

from __future__ import annotations

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Node, OpType

from oqc_provider._version import __version__
from oqc_provider.devices import Calibration, DeviceSpec
from oqc_provider.pytket.passes import architecture, gate_set

#: ``BackendInfo.name`` of every OQC device.
BACKEND_NAME = "OQCTketBackend"


def node_errors(spec: DeviceSpec, calibration: Calibration) -> dict[Node, float]:
    """Average single-qubit gate error per node (``sx``/``x``; ``rz`` is free); known ones only."""
    figures = {q: calibration.qubit(q).one_qubit_error for q in range(spec.qubit_count)}
    return {Node(q): error for q, error in figures.items() if error is not None}


def link_errors(spec: DeviceSpec, calibration: Calibration) -> dict[tuple[Node, Node], float]:
    """ECR error per directed coupling; known ones only."""
    figures = {(c, t): calibration.edge_error(c, t) for c, t in spec.couplings}
    return {(Node(c), Node(t)): error for (c, t), error in figures.items() if error is not None}


def readout_errors(spec: DeviceSpec, calibration: Calibration) -> dict[Node, float]:
    """Symmetric readout error per node; known ones only."""
    figures = {q: calibration.qubit(q).readout_error for q in range(spec.qubit_count)}
    return {Node(q): error for q, error in figures.items() if error is not None}


def backend_info(spec: DeviceSpec, calibration: Calibration, qpu_name: str | None = None) -> BackendInfo:
    """The BackendInfo for ``spec`` with ``calibration``'s figures."""
    one_q = node_errors(spec, calibration)
    links = link_errors(spec, calibration)
    readout = readout_errors(spec, calibration)
    qubits = calibration.qubits
    misc: dict[str, object] = {
        "qpu_id": spec.qpu_id,
        "max_shots": spec.max_shots,
        "simulator": spec.simulator,
        "emulator_only": spec.emulator_only,
        "region": spec.region,
        "calibration_published": calibration.published,
        "calibration_date": calibration.date,
        "dt": spec.dt,
    }
    averages = {
        "average_one_qubit_error": calibration.average_one_qubit_error(),
        "average_ecr_error": calibration.average_ecr_error(),
        "average_readout_error": calibration.average_readout_error(),
    }
    misc.update({key: value for key, value in averages.items() if value is not None})
    if qubits:
        misc["t1"] = {str(q): fig.t1 for q, fig in qubits.items()}
        misc["t2"] = {str(q): fig.t2 for q, fig in qubits.items()}
    return BackendInfo(
        name=BACKEND_NAME,
        device_name=qpu_name or spec.name,
        version=__version__,
        architecture=architecture(spec),
        gate_set=gate_set(spec),
        supports_fast_feedforward=False,
        supports_reset=spec.supports_reset,
        supports_midcircuit_measurement=spec.supports_mid_circuit_measurement,
        all_node_gate_errors={
            node: {OpType.Rz: 0.0, OpType.SX: error, OpType.X: error} for node, error in one_q.items()
        }
        or None,
        all_edge_gate_errors={edge: {OpType.ECR: error} for edge, error in links.items()} or None,
        all_readout_errors={node: [[1 - p, p], [p, 1 - p]] for node, p in readout.items()} or None,
        averaged_node_gate_errors=one_q or None,
        averaged_edge_gate_errors=links or None,
        averaged_readout_errors=readout or None,
        misc=misc,
    )


__all__ = ["BACKEND_NAME", "backend_info", "link_errors", "node_errors", "readout_errors"]
