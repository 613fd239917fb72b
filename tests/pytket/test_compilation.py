"""Predicates, passes and BackendInfo: pure pytket, no network."""

from __future__ import annotations

import pytest
from pytket import Circuit, OpType
from pytket.circuit import CircBox, Node, Op, QControlBox
from pytket.predicates import NoMidMeasurePredicate

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO, DeviceSpec, reference_calibration
from oqc_provider.pytket.device_info import backend_info
from oqc_provider.pytket.passes import default_compilation_pass, rebase_pass, required_predicates

DEVICES = [LUCY_SIMULATOR, LUCY, TOSHIKO]


def awkward_circuit() -> Circuit:
    """CCX, CSWAP, a 3-qubit box, a controlled box and CX against Lucy's 0 -> 1 direction."""
    circuit = Circuit(4, 4)
    circuit.H(0).CCX(0, 1, 2).add_gate(OpType.CSWAP, [2, 0, 3]).CX(1, 0)
    circuit.add_circbox(CircBox(Circuit(3).CCX(2, 1, 0).CZ(0, 2)), [3, 2, 1])
    circuit.add_qcontrolbox(QControlBox(Op.create(OpType.Ry, 0.3), 2), [0, 1, 3])
    return circuit.measure_all()


@pytest.mark.parametrize("spec", DEVICES, ids=lambda s: s.name)
@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.slow
def test_every_level_makes_any_input_valid(spec: DeviceSpec, level: int) -> None:
    ccx = Circuit(3).X(0).X(1).CCX(0, 1, 2).measure_all()
    for circuit in (ccx, awkward_circuit()):
        default_compilation_pass(spec, level).apply(circuit)
        failed = [type(p).__name__ for p in required_predicates(spec) if not p.verify(circuit)]
        assert failed == []
        assert {cmd.op.type for cmd in circuit} <= {
            OpType.Rz,
            OpType.SX,
            OpType.X,
            OpType.ECR,
            OpType.Measure,
        }


def test_ecr_follows_the_directed_couplings() -> None:
    circuit = Circuit(2).CX(1, 0).CX(0, 1).measure_all()
    default_compilation_pass(LUCY_SIMULATOR, 0).apply(circuit)
    pairs = {tuple(q.index[0] for q in cmd.qubits) for cmd in circuit if cmd.op.type is OpType.ECR}
    assert pairs and pairs <= set(LUCY_SIMULATOR.couplings)


def test_rebase_pass_reaches_native_gates() -> None:
    circuit = Circuit(2).H(0).CX(0, 1).T(1).CZ(1, 0)
    rebase_pass(LUCY_SIMULATOR).apply(circuit)
    assert {cmd.op.type for cmd in circuit} <= {OpType.Rz, OpType.SX, OpType.X, OpType.ECR}


def test_bad_level_is_refused() -> None:
    with pytest.raises(ValueError, match="0, 1, 2 or 3"):
        default_compilation_pass(LUCY_SIMULATOR, 4)


def test_mid_circuit_measurement_predicate_follows_the_device() -> None:
    def has_mid_measure_check(spec: DeviceSpec) -> bool:
        return any(isinstance(p, NoMidMeasurePredicate) for p in required_predicates(spec))

    assert has_mid_measure_check(LUCY) and not has_mid_measure_check(LUCY_SIMULATOR)


def test_backend_info_carries_architecture_gates_and_calibration() -> None:
    calibration = reference_calibration(TOSHIKO)
    info = backend_info(TOSHIKO, calibration)
    edges = {(a.index[0], b.index[0]) for a, b in info.architecture.coupling}
    assert edges == set(TOSHIKO.couplings)  # directed: one direction per coupling
    assert info.gate_set == {
        OpType.Rz,
        OpType.SX,
        OpType.X,
        OpType.ECR,
        OpType.Measure,
        OpType.Barrier,
        OpType.Reset,
    }
    assert info.supports_reset and info.supports_midcircuit_measurement
    control, target = TOSHIKO.couplings[0]
    assert info.averaged_edge_gate_errors[(Node(control), Node(target))] == calibration.edge_error(
        control, target
    )
    assert info.averaged_readout_errors[Node(3)] == calibration.qubits[3].readout_error
    assert info.all_node_gate_errors[Node(3)][OpType.SX] == calibration.qubits[3].one_qubit_error
    assert info.misc["max_shots"] == TOSHIKO.max_shots
    lucy = backend_info(LUCY, reference_calibration(LUCY))
    assert OpType.Reset not in lucy.gate_set and not lucy.supports_midcircuit_measurement


def test_default_pass_keeps_a_placement_the_user_made() -> None:
    """A circuit placed on device nodes by the user stays there at every level (pytket's placers
    would place it again: a Bell pair on 6 -> 5 of Lucy went to nodes 1, 2); an unplaced one is placed."""
    from pytket import Circuit, Qubit
    from pytket.circuit import Node
    from pytket.placement import Placement

    from oqc_provider.devices import LUCY_SIMULATOR
    from oqc_provider.pytket.passes import default_compilation_pass, required_predicates

    for level in range(4):
        placed = Circuit(2, 2).H(0).CX(0, 1).Measure(0, 0).Measure(1, 1)
        Placement.place_with_map(placed, {Qubit(0): Node(6), Qubit(1): Node(5)})
        default_compilation_pass(LUCY_SIMULATOR, level).apply(placed)
        assert placed.qubits == [Node(5), Node(6)], (level, placed.qubits)
        assert all(p.verify(placed) for p in required_predicates(LUCY_SIMULATOR))
        unplaced = Circuit(2).H(0).CX(0, 1).measure_all()
        default_compilation_pass(LUCY_SIMULATOR, level).apply(unplaced)
        assert all(isinstance(q, Node) or q.reg_name == "node" for q in unplaced.qubits)
