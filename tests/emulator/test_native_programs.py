"""The emulator's fast path reads native programs exactly as the general path does, and accepts nothing else.

For every program the fast path takes, the circuit (operation names, qubits, clbits, angles bit for
bit) and the layout equal what ``parse_program`` → ``lower_circuit`` give (the path of a program that
keeps its qubits, ``Tket(Empty)``). Any program the general path refuses, or rewrites, is left to it.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytket import Circuit, OpType
from pytket.qasm import circuit_to_qasm_str
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, transpile
from qiskit.circuit.random import random_circuit

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO, DeviceSpec
from oqc_provider.emulator.lowering import lower_circuit
from oqc_provider.emulator.native_programs import parse_native
from oqc_provider.emulator.programs import ProgramError, parse_program
from oqc_provider.qiskit.native_qasm import native_program


def _general(text: str, spec=LUCY_SIMULATOR):  # type: ignore[no-untyped-def]
    return lower_circuit(parse_program(text), spec)


def _ops(circuit: QuantumCircuit) -> list[tuple[object, ...]]:
    return [
        (
            i.operation.name,
            tuple(circuit.find_bit(q).index for q in i.qubits),
            tuple(circuit.find_bit(c).index for c in i.clbits),
            tuple(i.operation.params),
        )
        for i in circuit.data
    ]


def assert_same(text: str, spec=LUCY_SIMULATOR) -> None:  # type: ignore[no-untyped-def]
    fast = parse_native(text, spec)
    assert fast is not None, text
    circuit, layout = _general(text, spec)
    assert _ops(fast[0]) == _ops(circuit)  # angles compared with ==: bit for bit
    assert [(r.name, r.size) for r in fast[0].cregs] == [(r.name, r.size) for r in circuit.cregs]
    assert fast[0].num_qubits == circuit.num_qubits
    assert fast[1] == layout


def _transpiled(count: int) -> list[QuantumCircuit]:
    circuits = [random_circuit(8, 3, max_operands=2, measure=True, seed=seed) for seed in range(count)]
    coupling = [list(edge) for edge in LUCY_SIMULATOR.couplings]
    return transpile(circuits, basis_gates=["rz", "sx", "x", "ecr"], coupling_map=coupling, seed_transpiler=0)


def test_programs_written_by_both_qiskit_writers() -> None:
    for circuit in _transpiled(8):
        assert_same(qasm2.dumps(circuit))
        registers = [(creg.name, creg.size) for creg in circuit.cregs]
        names = {
            circuit.find_bit(bit).index: f"{creg.name}[{j}]"
            for creg in circuit.cregs
            for j, bit in enumerate(creg)
        }
        program = native_program(circuit, names, registers)
        assert program is not None
        assert_same(program)


def test_programs_written_by_pytket() -> None:
    circuit = Circuit(3, 3).Rz(0.25, 0).SX(1).X(2).Rz(-1.5, 1).Rz(1e-20, 2)
    circuit.add_gate(OpType.ECR, [0, 1]).add_barrier([0, 2]).Measure(0, 0).Measure(2, 1).Measure(1, 2)
    assert_same(circuit_to_qasm_str(circuit, header="qelib1"))


def test_every_operation_and_angle_spelling() -> None:
    qc = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    for value in (math.pi / 2, -3 * math.pi / 4, math.pi, -math.pi, 1e-20, 2.5e30, 0.1 + 0.2, 7):
        qc.rz(value, 1)
    qc.sx(0)
    qc.x(2)
    qc.ecr(0, 1)
    qc.barrier()
    qc.measure(0, 0)
    qc.measure(1, 2)
    qc.measure(2, 1)
    assert_same(qasm2.dumps(qc))
    assert_same(qasm2.dumps(qc).replace("rz(pi/2)", "rz(0.5*pi)").replace("rz(-pi)", "rz(-1.0*pi)"))


@pytest.mark.parametrize(
    "body",
    [
        "ecr q[1],q[0];",  # wrong direction: the general path turns it (QAT runs it)
        "id q[0];",  # no body: QAT refuses it, the general path explains why
        "ecr q[0],q[2];",  # not coupled
        "h q[0];",  # not native: the general path compiles it
        "measure q[0] -> c[0];\nx q[0];",  # used after measurement
        "reset q[0];",
        "x q[0];\nreset q[0];\nmeasure q[0] -> c[1];",
        "rz(theta) q[0];",
        "x q[9];",
        "U(0,0,0) q[0];",
        "// a comment\nx q[0];",
    ],
)
def test_anything_else_takes_the_general_path(body: str) -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\ngate ecr q0,q1 { s q0; sx q1; cx q0,q1; x q0; }\n'
    text = f"{header}qreg q[8];\ncreg c[2];\n{body}\n"
    for spec in (LUCY_SIMULATOR, LUCY, TOSHIKO):
        try:
            _general(text, spec)
        except ProgramError:
            assert parse_native(text, spec) is None  # refused, with its message, by the general path
            continue
        if parse_native(text, spec) is not None:
            assert_same(text, spec)


def test_devices_with_reset_and_wider_programs() -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
    text = f"{header}qreg q[2];\ncreg c[1];\nreset q[1];\nx q[1];\nmeasure q[1] -> c[0];\n"
    assert_same(text, LUCY_SIMULATOR)
    assert parse_native(text, LUCY) is None  # Lucy has no reset: the general path says so
    assert parse_native(text.replace("qreg q[2]", "qreg q[40]"), LUCY_SIMULATOR) is None
    assert parse_native("OPENQASM 3.0;\nqubit[1] q;\n", LUCY_SIMULATOR) is None


def test_a_line_read_for_one_header_or_device_is_judged_anew_for_another() -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n'
    measure_second_bit = "measure q[0] -> c[1];\n"
    assert_same(f"{header}creg c[2];\n{measure_second_bit}")
    assert parse_native(f"{header}creg c[1];\n{measure_second_bit}", LUCY_SIMULATOR) is None  # no c[1] here
    assert_same(f"{header}creg b[1];\ncreg c[2];\n{measure_second_bit}")  # c[1] is clbit 2 here
    reset_then_measure = f"{header}creg c[1];\nreset q[1];\nmeasure q[1] -> c[0];\n"
    assert_same(reset_then_measure, LUCY_SIMULATOR)
    assert parse_native(reset_then_measure, LUCY) is None  # the same lines, on a device without reset
    again = f"{header}creg c[1];\nmeasure q[1] -> c[0];\nx q[1];\n"
    assert_same(again, LUCY_SIMULATOR)  # mid-circuit measurement: allowed on the simulator
    assert parse_native(again, LUCY) is None


def test_the_same_program_twice_gives_equal_independent_circuits() -> None:
    text = qasm2.dumps(_transpiled(1)[0])
    first, second = parse_native(text, LUCY_SIMULATOR), parse_native(text, LUCY_SIMULATOR)
    assert first is not None and second is not None
    assert first[0] is not second[0] and first[0] == second[0] and first[1] == second[1]
    first[0].x(0)  # a caller may add to its circuit (the executor adds idle noise and selection)
    assert first[0] != second[0]
    assert_same(text)


#: Angles as the writers spell them.
_ANGLES = st.one_of(
    st.floats(0, 10).map(repr),
    st.sampled_from(["pi", "pi/2", "3*pi/4", "2*pi", "0.5*pi", "1.0*pi", "7", "0", "2.5e-20"]),
)


@st.composite
def native_programs(draw: st.DrawFn) -> tuple[str, DeviceSpec]:
    """A device and a native program for it, now and then with one rule broken (a register or qubit
    that is not there, a gate that is not native, a reversed or uncoupled ECR, a comment...); on
    devices without mid-circuit measurement, a measured qubit used again breaks one too."""
    spec = draw(st.sampled_from([LUCY_SIMULATOR, LUCY, TOSHIKO]))
    qreg = draw(st.sampled_from(["q", "r"]))
    width = draw(st.integers(1, 8))
    names = draw(st.lists(st.sampled_from(["c", "b", "meas"]), min_size=1, max_size=3, unique=True))
    cregs = {name: draw(st.integers(1, 3)) for name in names}
    qubit = st.integers(0, width - 1).map(lambda index: f"{qreg}[{index}]")
    pairs = [pair for pair in spec.couplings if max(pair) < width]
    kinds = st.sampled_from(["rz", "rz", "sx", "sx", "x", "ecr", "measure", "barrier", "blank"])
    body = []
    for kind in [draw(kinds) for _ in range(draw(st.integers(0, 40)))]:
        if kind == "rz":
            body.append(f"rz({draw(st.sampled_from(['', '-']))}{draw(_ANGLES)}) {draw(qubit)};")
        elif kind in ("sx", "x"):
            body.append(f"{kind} {draw(qubit)};")
        elif kind == "ecr" and pairs:
            control, target = draw(st.sampled_from(pairs))
            body.append(f"ecr {qreg}[{control}],{qreg}[{target}];")
        elif kind == "measure":
            name = draw(st.sampled_from(names))
            body.append(f"measure {draw(qubit)} -> {name}[{draw(st.integers(0, cregs[name] - 1))}];")
        elif kind == "barrier":
            body.append(f"barrier {','.join(draw(st.lists(qubit, min_size=1, max_size=3, unique=True)))};")
        else:
            body.append(draw(st.sampled_from(["", "  "])))
    broken = [
        "// a comment",
        f"h {qreg}[0];",
        f"id {qreg}[0];",
        f"reset {qreg}[0];",  # valid where the device has reset
        f"rz(theta) {qreg}[0];",
        f"rz(1e-05) {qreg}[0];",
        "x z[0];",
        f"x {qreg}[{width}];",
        f"ecr {qreg}[0],{qreg}[0];",
        f"measure {qreg}[0] -> {names[0]}[{cregs[names[0]]}];",
        f"measure {qreg}[0] -> nowhere[0];",
        *(f"ecr {qreg}[{target}],{qreg}[{control}];" for control, target in pairs[:1]),
    ]
    if draw(st.booleans()):
        body.insert(draw(st.integers(0, len(body))), draw(st.sampled_from(broken)))
    header = draw(st.sampled_from(["", "", "", "wider", "empty creg", "creg named as qreg"]))
    declarations = [
        f"qreg {qreg}[{spec.qubit_count + 1 if header == 'wider' else width}];",
        *(f"creg {name}[{size}];" for name, size in cregs.items()),
        *([f"creg {qreg}[1];"] if header == "creg named as qreg" else []),
        *(["creg e[0];"] if header == "empty creg" else []),
    ]
    return "\n".join(["OPENQASM 2.0;", 'include "qelib1.inc";', *declarations, *body, ""]), spec


@settings(max_examples=300, deadline=None)
@given(program=native_programs())
def test_the_fast_path_agrees_with_the_general_path_or_declines(program: tuple[str, DeviceSpec]) -> None:
    text, spec = program  # lines read for earlier programs (other headers, other devices) are remembered
    if parse_native(text, spec) is not None:
        assert_same(text, spec)


def test_past_its_bound_the_line_memory_forgets_and_programs_still_read_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import oqc_provider.emulator.native_programs as fast_path

    monkeypatch.setattr(fast_path, "_MAX_LINES", 5)  # forgotten several times within each program
    programs = [qasm2.dumps(circuit) for circuit in _transpiled(3)]
    for text in programs + programs:
        assert_same(text)
    assert fast_path._readers._lines <= 5
