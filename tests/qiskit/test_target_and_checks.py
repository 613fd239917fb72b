"""The Target from device and calibration, and the circuit checks run() makes before sending."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import ECRGate
from qiskit.transpiler import generate_preset_pass_manager

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO, reference_calibration
from oqc_provider.qiskit import CircuitValidationError, OQCBackend, OQCProvider
from oqc_provider.qiskit.target import build_target
from oqc_provider.qiskit.translate import check_circuit, to_wire


def test_lucy_simulator_target_is_noiseless_with_directed_ecr(lucy_sim: OQCBackend) -> None:
    target = lucy_sim.target
    assert set(target.operation_names) == {"rz", "sx", "x", "ecr", "measure", "reset", "delay"}
    assert set(target["ecr"]) == set(LUCY_SIMULATOR.couplings)
    assert all(target.instruction_supported("ecr", (t, c)) is False for c, t in LUCY_SIMULATOR.couplings)
    assert lucy_sim.dt == LUCY_SIMULATOR.dt
    assert all(props.error == 0 for props in target["sx"].values())
    assert all(q.t1 is None and q.t2 is None for q in lucy_sim.qubit_properties(list(range(8))))
    assert lucy_sim.coupling_map.get_edges() is not None and lucy_sim.num_qubits == 8


def test_rz_is_virtual_and_other_figures_come_from_calibration() -> None:
    calibration = reference_calibration(TOSHIKO)
    target = build_target(TOSHIKO, calibration)
    assert target.num_qubits == 32
    for (qubit,), props in target["rz"].items():
        assert props.error == 0 and props.duration == 0, qubit
    for (qubit,), props in target["sx"].items():
        assert props.error == calibration.qubits[qubit].one_qubit_error
        assert props.duration == TOSHIKO.durations.sx
    for (qubit,), props in target["measure"].items():
        assert props.error == calibration.qubits[qubit].readout_error
    for (control, target_qubit), props in target["ecr"].items():
        assert props.error == calibration.edge_error(control, target_qubit) > 0
    assert target.qubit_properties[3].t1 == calibration.qubits[3].t1
    assert target.qubit_properties[3].t2 == calibration.qubits[3].t2


def test_reset_only_where_the_device_has_it() -> None:
    assert "reset" not in build_target(LUCY, reference_calibration(LUCY)).operation_names
    assert "reset" in build_target(TOSHIKO, reference_calibration(TOSHIKO)).operation_names


def test_backend_target_uses_the_served_calibration(provider: OQCProvider) -> None:
    toshiko = provider.get_backend("Toshiko")
    served = toshiko.calibration
    assert toshiko.target["measure"][(5,)].error == served.qubits[5].readout_error
    assert toshiko.qubit_properties(5).t1 == served.qubits[5].t1


def test_untranspiled_circuit_is_refused_naming_circuit_gate_and_qubits(lucy_sim: OQCBackend, bell) -> None:
    with pytest.raises(CircuitValidationError) as info:
        lucy_sim.run(bell)
    message = str(info.value)
    assert "'bell'" in message and "'h'" in message and "(0,)" in message and "transpile" in message


def test_ecr_in_the_wrong_direction_is_refused(lucy_sim: OQCBackend) -> None:
    circuit = QuantumCircuit(2, 2, name="backwards")
    circuit.append(ECRGate(), [1, 0])
    circuit.measure([0, 1], [0, 1])
    with pytest.raises(CircuitValidationError, match=r"'backwards'.*wrong direction.*transpile"):
        lucy_sim.run(circuit)
    fixed = transpile(circuit, lucy_sim)
    assert all(
        lucy_sim.target.instruction_supported("ecr", tuple(fixed.find_bit(q).index for q in inst.qubits))
        for inst in fixed.data
        if inst.operation.name == "ecr"
    )


def test_uncoupled_ecr_and_too_many_qubits_are_refused(lucy_sim: OQCBackend) -> None:
    circuit = QuantumCircuit(8)
    circuit.append(ECRGate(), [0, 4])
    with pytest.raises(CircuitValidationError, match="not coupled"):
        lucy_sim.run(circuit)
    with pytest.raises(CircuitValidationError, match="9 qubits"):
        lucy_sim.run(QuantumCircuit(9, 1))


def test_mid_circuit_measurement_refused_where_unsupported() -> None:
    target = build_target(LUCY, reference_calibration(LUCY))
    circuit = QuantumCircuit(1, 2, name="mcm")
    circuit.measure(0, 0)
    circuit.x(0)
    circuit.measure(0, 1)
    with pytest.raises(CircuitValidationError, match="mid-circuit measurement"):
        check_circuit(circuit, target, LUCY)
    check_circuit(circuit, build_target(TOSHIKO, reference_calibration(TOSHIKO)), TOSHIKO)


def test_unbound_parameters_are_refused(lucy_sim: OQCBackend) -> None:
    from qiskit.circuit import Parameter

    circuit = QuantumCircuit(1, 1)
    circuit.rz(Parameter("theta"), 0)
    with pytest.raises(CircuitValidationError, match="theta"):
        lucy_sim.run(circuit)


def test_transpile_and_preset_pass_manager_give_runnable_circuits(lucy_sim: OQCBackend, bell) -> None:
    manager = generate_preset_pass_manager(optimization_level=3, backend=lucy_sim, seed_transpiler=3)
    for circuit in (manager.run(bell), transpile(bell, lucy_sim, optimization_level=1)):
        check_circuit(circuit, lucy_sim.target, lucy_sim.device)
        assert circuit.name == "bell"
    counts = lucy_sim.run(manager.run(bell), shots=300).result(timeout=60).get_counts()
    assert set(counts) == {"00", "11"}


def test_wire_program_keeps_register_names_and_converts_delays() -> None:
    circuit = QuantumCircuit(1, 1)
    circuit.delay(1.0, 0, unit="us")
    circuit.measure(0, 0)
    wire = to_wire(circuit, dt=0.5e-9)
    assert wire.program.startswith("OPENQASM 3.0;")  # QAT's OpenQASM 2 reader takes whole seconds only
    assert "delay[1000.0ns] q[0];" in wire.program  # a time with its unit, never dt
    assert wire.registers == (("c", (0,)),)
    odd = QuantumCircuit(1)
    from qiskit import ClassicalRegister

    odd.add_register(ClassicalRegister(1, "measure"))
    assert to_wire(odd, dt=None).registers[0][0] == "c0"


def test_identity_is_refused_before_sending_with_what_to_do(lucy_sim: OQCBackend) -> None:
    """The Target does not offer ``id`` and QAT refuses it ("Gate id isn't intrinsic and has no body"):
    refused before anything is sent, saying that transpile removes it and a wait is a delay."""
    assert "id" not in lucy_sim.target.operation_names
    circuit = QuantumCircuit(1, 1, name="idle")
    circuit.id(0)
    circuit.measure(0, 0)
    with pytest.raises(CircuitValidationError, match="gate 'id' on qubits \\(0,\\)") as refused:
        lucy_sim.run(circuit, shots=10)
    assert "An identity does nothing" in str(refused.value) and "circuit.delay" in str(refused.value)
    assert "id" not in transpile(circuit, lucy_sim).count_ops()
