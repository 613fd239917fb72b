"""CompilationUnit maps tell the truth: they name the device nodes the compiled circuit acts on.

Tools that follow the maps (qermit's ZNE, observables measured on placed circuits) measure the
qubits ``final_map`` names. A pass that moved qubits without recording it (placement inside a
plain ``CustomPass``) left ``q[i] -> q[i]`` while the circuit acted on ``node[...]``: qermit
failed and observables read the wrong qubits with no error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytket import Circuit, Qubit
from pytket.circuit import Node
from pytket.pauli import Pauli, QubitPauliString
from pytket.placement import Placement
from pytket.predicates import CompilationUnit
from pytket.utils import QubitPauliOperator
from pytket.utils.expectations import get_operator_expectation_value

from oqc_provider.devices import CATALOGUE, LUCY_SIMULATOR, DeviceSpec, reference_calibration
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.pytket.device_info import link_errors, node_errors, readout_errors
from oqc_provider.pytket.passes import MAX_OPTIMISATION_LEVEL, default_compilation_pass
from tests.pytket.qermit_overlay import qermit_overlay

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # pytket-qiskit's Aer imports

LEVELS = range(MAX_OPTIMISATION_LEVEL + 1)


def _asymmetric_state() -> Circuit:
    """Three qubits each in a different state (|1>, |+>-ish, entangled with q[0]): a swapped map shows."""
    return Circuit(3).X(0).Ry(0.5, 1).CX(0, 2).CX(2, 1).Rz(0.25, 2)


def _compile(spec: DeviceSpec, level: int, circuit: Circuit) -> CompilationUnit:
    calibration = reference_calibration(spec)
    unit = CompilationUnit(circuit)
    compilation = default_compilation_pass(
        spec,
        level,
        node_errors=node_errors(spec, calibration),
        link_errors=link_errors(spec, calibration),
        readout_errors=readout_errors(spec, calibration),
    )
    compilation.apply(unit)
    return unit


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("qpu_id", sorted(CATALOGUE))
def test_maps_name_the_nodes_the_circuit_acts_on(qpu_id: str, level: int) -> None:
    spec = CATALOGUE[qpu_id]
    original = _asymmetric_state().measure_all()
    unit = _compile(spec, level, original)
    compiled_qubits = set(unit.circuit.qubits)
    for qubit in original.qubits:
        assert unit.initial_map[qubit] in compiled_qubits, (qubit, unit.initial_map)
        assert unit.final_map[qubit] in compiled_qubits, (qubit, unit.final_map)
        assert isinstance(unit.final_map[qubit], Node) or unit.final_map[qubit].reg_name == "node"
    assert len({unit.final_map[q] for q in original.qubits}) == len(original.qubits)
    # Measurements of the compiled circuit read the node final_map names into the same bit.
    for command in unit.circuit.get_commands():
        if command.op.get_name() == "Measure":
            measured, bit = command.qubits[0], command.bits[0]
            assert unit.final_map[Qubit(bit.index[0])] == measured, (bit, measured, unit.final_map)


@pytest.mark.parametrize("level", LEVELS)
def test_a_users_placement_is_in_the_maps(level: int) -> None:
    spec = LUCY_SIMULATOR
    placed = Circuit(2, 2).H(0).CX(0, 1).Measure(0, 0).Measure(1, 1)
    Placement.place_with_map(placed, {Qubit(0): Node(6), Qubit(1): Node(5)})
    unit = _compile(spec, level, placed)
    assert set(unit.circuit.qubits) == {Node(5), Node(6)}
    assert unit.initial_map[Node(6)] == Node(6) and unit.initial_map[Node(5)] == Node(5)


@pytest.mark.parametrize("level", LEVELS)
def test_the_final_map_measures_the_right_qubits(lucy_sim: OQCTketBackend, level: int) -> None:
    """Measure each logical qubit where final_map says it is: q[0] (|1>) must always read 1."""
    unit = CompilationUnit(Circuit(3).X(0).H(1).CX(1, 2))
    lucy_sim.default_compilation_pass(level).apply(unit)
    measured = unit.circuit.copy()
    measured.add_c_register("c", 3)
    for index in range(3):
        measured.Measure(unit.final_map[Qubit(index)], measured.get_c_register("c")[index])
    lucy_sim.default_compilation_pass(0).apply(measured)  # keeps the placement, delays nothing new
    counts = lucy_sim.run_circuit(measured, n_shots=200, seed=3).get_counts()
    assert sum(counts.values()) == 200
    assert all(outcome[0] == 1 and outcome[1] == outcome[2] for outcome in counts), counts
    assert len(counts) == 2, counts  # q[1], q[2] a Bell pair: both 00 and 11 on q[1], q[2]


@pytest.mark.slow
def test_observable_on_a_compiled_circuit_agrees_with_aer(lucy_sim: OQCTketBackend) -> None:
    """An operator on the logical qubits, moved through final_map, reads the same value as on Aer."""
    aer_backends = pytest.importorskip("pytket.extensions.qiskit")
    state = Circuit(2).X(0).Ry(0.5, 1)  # q[0] = |1>, q[1] = |+>: <Z0 + 2 X1> = 1; swapped it reads 0
    operator = QubitPauliOperator(
        {QubitPauliString({Qubit(0): Pauli.Z}): 1.0, QubitPauliString({Qubit(1): Pauli.X}): 2.0}
    )
    unit = CompilationUnit(state.copy())
    lucy_sim.default_compilation_pass(2).apply(unit)
    placed_operator = QubitPauliOperator(
        {
            QubitPauliString({unit.final_map[q]: pauli for q, pauli in string.map.items()}): coefficient
            for string, coefficient in operator._dict.items()
        }
    )
    ours = get_operator_expectation_value(unit.circuit, placed_operator, lucy_sim, n_shots=4000, seed=5)
    aer = aer_backends.AerStateBackend()
    exact = get_operator_expectation_value(state, operator, aer)
    assert complex(exact).real == pytest.approx(1.0)
    # Both terms are eigenstates here, so shots add no noise; 0.05 allows for none and catches a swap (0).
    assert complex(ours).real == pytest.approx(1.0, abs=0.05), ours


@pytest.mark.slow
def test_qermit_zne_agrees_with_aer() -> None:
    """qermit's ZNE runs unchanged through OQCTketBackend (it follows the maps) and agrees with Aer.

    qermit is not in the test extra (its pins would downgrade pytket-qiskit and matplotlib and pull
    in the Quantinuum toolchain): ``qermit_overlay`` installs it once beside the venv, and the
    experiment runs in a subprocess with it on ``PYTHONPATH``.
    """
    overlay = qermit_overlay()
    program = Path(__file__).with_name("qermit_zne_program.py")
    environment = {**os.environ, "PYTHONPATH": str(overlay)}
    done = subprocess.run(
        [sys.executable, str(program)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = answer["ours"], answer["theirs"]
    # Noiseless on both sides: <Z0 + Z1/2> = -1 + cos(0.3 pi)/2 = -0.71 (qubits swapped: +0.09);
    # 2000 shots, two noise levels, a linear fit: the extrapolated value's standard error is < 0.1,
    # so 0.3 is a > 3 sigma margin.
    assert ours == pytest.approx(theirs, abs=0.3), (ours, theirs)
    assert theirs == pytest.approx(-1 + 0.5 * 0.5878, abs=0.3)
