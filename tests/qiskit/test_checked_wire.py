"""The one-pass check-and-write (what ``backend.run`` uses) agrees with ``check_circuit`` then
``to_wire`` on every circuit: the same program, or the same error, word for word.

Random circuits mix what a transpiled circuit holds (``rz``, ``sx``, ``x``, ``ecr`` both ways,
``measure``, ``barrier``, ``delay``, ``reset``) with what the QPU refuses (uncoupled pairs, ``h``,
``id``, reuse after a measurement, unbound angles), on devices with and without mid-circuit
measurement and reset.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter

from oqc_provider.device_target import build_target
from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO, reference_calibration
from oqc_provider.qiskit.translate import CircuitValidationError, check_circuit, checked_wire, to_wire

DEVICES = {
    spec.name: (spec, build_target(spec, reference_calibration(spec)))
    for spec in (LUCY_SIMULATOR, LUCY, TOSHIKO)
}
THETA = Parameter("theta")

angles = st.one_of(
    st.floats(-2 * math.pi, 2 * math.pi, allow_nan=False),
    st.sampled_from([math.pi, -math.pi / 2, 0.0]),
)


@st.composite
def circuits(draw: st.DrawFn, width: int) -> QuantumCircuit:
    qubits = draw(st.integers(1, min(width, 6)))
    circuit = QuantumCircuit(qubits, draw(st.integers(0, 4)), name="random")
    qubit = st.integers(0, qubits - 1)
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(
            st.sampled_from(
                ["rz", "sx", "x", "ecr", "measure", "barrier", "delay", "reset", "h", "id", "unbound"]
            )
        )
        if kind == "rz":
            circuit.rz(draw(angles), draw(qubit))
        elif kind in ("sx", "x", "h", "id", "reset"):
            getattr(circuit, kind)(draw(qubit))
        elif kind == "ecr" and qubits > 1:
            a, b = draw(st.lists(qubit, min_size=2, max_size=2, unique=True))
            circuit.ecr(a, b)
        elif kind == "measure" and circuit.num_clbits:
            circuit.measure(draw(qubit), draw(st.integers(0, circuit.num_clbits - 1)))
        elif kind == "barrier":
            circuit.barrier(*draw(st.lists(qubit, min_size=1, max_size=3, unique=True)))
        elif kind == "delay":
            circuit.delay(
                draw(st.integers(0, 2000)), draw(qubit), unit=draw(st.sampled_from(["dt", "ns", "us"]))
            )
        elif kind == "unbound" and draw(st.booleans()):
            circuit.rz(THETA, draw(qubit))
    return circuit


def outcome(action):  # type: ignore[no-untyped-def]
    try:
        wire = action()
    except CircuitValidationError as exc:
        return type(exc), str(exc)
    return wire


@pytest.mark.parametrize("device", sorted(DEVICES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
@pytest.mark.slow
def test_checking_while_writing_agrees_with_checking_then_writing(device: str, data: st.DataObject) -> None:
    spec, target = DEVICES[device]
    circuit = data.draw(circuits(spec.qubit_count))

    def two_passes():  # type: ignore[no-untyped-def]
        check_circuit(circuit, target, spec, 3)
        return to_wire(circuit, spec.dt, 3)

    assert outcome(lambda: checked_wire(circuit, target, spec, 3)) == outcome(two_passes)


def test_a_transpiled_circuit_takes_the_one_pass_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    import oqc_provider.qiskit.translate as translate

    spec, target = DEVICES[LUCY_SIMULATOR.name]
    control, target_qubit = spec.couplings[0]
    circuit = QuantumCircuit(spec.qubit_count, 2)
    circuit.rz(0.5, control)
    circuit.sx(target_qubit)
    circuit.ecr(control, target_qubit)
    circuit.measure([control, target_qubit], [0, 1])
    calls: list[str] = []
    monkeypatch.setattr(translate, "check_circuit", lambda *args, **kwargs: calls.append("check"))
    assert f"ecr q[{control}],q[{target_qubit}];" in checked_wire(circuit, target, spec).program
    assert calls == []  # the full check never ran: nothing in doubt


def _handmade() -> list[tuple[str, QuantumCircuit]]:
    """One circuit per refusal (and a few that pass), each mostly valid up to its one flaw."""
    control, target_qubit = LUCY.couplings[0]
    cases = []

    def case(name: str, width: int = 8, clbits: int = 2) -> QuantumCircuit:
        circuit = QuantumCircuit(width, clbits, name=name)
        circuit.rz(0.25, control)
        circuit.sx(target_qubit)
        cases.append((name, circuit))
        return circuit

    case("measured then reused").measure(control, 0)
    cases[-1][1].x(control)
    case("measured twice").measure(control, 0)
    cases[-1][1].measure(control, 1)
    case("measured then another qubit").measure(control, 0)
    cases[-1][1].x(target_qubit)
    case("barrier after measure").measure(control, 0)
    cases[-1][1].barrier(control, target_qubit)
    case("wrong direction").ecr(target_qubit, control)
    case("right direction").ecr(control, target_qubit)
    uncoupled = next(
        (a, b)
        for a in range(8)
        for b in range(8)
        if a != b and (a, b) not in LUCY.couplings and (b, a) not in LUCY.couplings
    )
    case("uncoupled").ecr(*uncoupled)
    case("hadamard").h(0)
    case("identity").id(0)
    case("reset").reset(0)
    case("unbound").rz(THETA, 0)
    case("too wide", width=9)
    conditional = case("conditional")
    with conditional.if_test((conditional.clbits[0], 1)):
        conditional.x(0)
    return cases


@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize(("name", "circuit"), _handmade(), ids=[name for name, _ in _handmade()])
def test_every_refusal_is_the_same_in_one_pass(device: str, name: str, circuit: QuantumCircuit) -> None:
    spec, target = DEVICES[device]

    def two_passes():  # type: ignore[no-untyped-def]
        check_circuit(circuit, target, spec, 3)
        return to_wire(circuit, spec.dt, 3)

    assert outcome(lambda: checked_wire(circuit, target, spec, 3)) == outcome(two_passes), name


def test_what_one_circuit_taught_the_writer_does_not_leak_into_another() -> None:
    """The writer keeps each checked line for later circuits on the same qubits and Target table:
    a line written unchecked, on other qubits, or allowed by another Target is never taken as checked."""
    spec, target = DEVICES[LUCY_SIMULATOR.name]
    control, target_qubit = spec.couplings[0]
    backwards = QuantumCircuit(spec.qubit_count, name="backwards")
    backwards.ecr(target_qubit, control)
    assert f"ecr q[{target_qubit}],q[{control}];" in to_wire(backwards, spec.dt).program  # unchecked
    with pytest.raises(CircuitValidationError, match="wrong direction"):
        checked_wire(backwards, target, spec)

    forwards = QuantumCircuit(spec.qubit_count, name="forwards")
    forwards.ecr(control, target_qubit)
    assert f"ecr q[{control}],q[{target_qubit}];" in checked_wire(forwards, target, spec).program
    reversed_spec = spec.model_copy(update={"couplings": tuple((b, a) for a, b in spec.couplings)})
    reversed_target = build_target(reversed_spec, reference_calibration(reversed_spec))
    with pytest.raises(CircuitValidationError, match="wrong direction"):
        checked_wire(forwards, reversed_target, spec)

    # Equal qubits at other places: q[0] is the circuit's qubit 2 once "a" comes first.
    shifted = QuantumCircuit(QuantumRegister(2, "a"), QuantumRegister(2, "q"))
    shifted.sx(shifted.qregs[1][0])
    plain = QuantumCircuit(QuantumRegister(2, "q"), QuantumRegister(2, "a"))
    plain.sx(plain.qregs[0][0])
    assert checked_wire(plain, target, spec).program.endswith("sx q[0];\n")
    assert checked_wire(shifted, target, spec).program.endswith("sx q[2];\n")
