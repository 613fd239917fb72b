"""OpenQASM 3 as QAT's pipeline path reads it: the refusals' wording and the scalar declarations.

The expected messages are QAT 3.5's own, seen on its pipeline path with
scripts/qat_fixtures/pipeline_models.py (the corpus fixtures ``qasm3_modifier_*``,
``qasm3_paren_expression``, ``qasm3_gate_def_*`` and ``qasm3_scalar_*`` record the short cases).
"""

from __future__ import annotations

import pytest

from oqc_provider.devices import LUCY_SIMULATOR
from oqc_provider.emulator.compilation import compile_task
from oqc_provider.emulator.programs import ProgramError
from oqc_provider.emulator.qasm3_dialect import as_qat_groups, refusal, scalars_as_registers
from oqc_provider.qcaas.compiler_config import CompilerConfig

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def test_a_long_line_is_quoted_as_qat_quotes_it():
    """QAT quotes 40 characters either side of the error (seen: QAT 3.5, pipeline path)."""
    line = "h q[0]; h q[1]; h q[0]; h q[1]; h q[0]; h q[1]; ctrl @ x q[0], q[1];"
    program = f"{HEADER}qubit[2] q;\nbit[2] c;\n{line}\nc[0] = measure q[0];\n"
    assert (
        refusal(program)
        == "Invalid QASM 3 syntax: ']; h q[0]; h q[1]; h q[0]; h q[1]; ctrl @ x q[0], q[1];'."
    )


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ("float[64] x = 1.0;", "Invalid QASM 3 syntax: 'float[64] x = 1.0;'."),
        ("int x;", "Can't find gate implementation for 'int' with supplied arguments."),
    ],
)
def test_classical_declarations_are_refused_with_qats_reason(declaration: str, reason: str):
    program = f"{HEADER}qubit[1] q;\nbit[1] c;\n{declaration}\nc[0] = measure q[0];\n"
    assert refusal(program) == reason


def test_comments_and_argument_lists_are_not_syntax_errors():
    program = f"// a (comment) with ctrl @ in it\n{HEADER}qubit[1] q;\nbit[1] c;\nrx (pi / 2) q[0];\nU(0.1, -pi/2 + 0.2, pi/2 - 0.2) q[0];\nc[0] = measure q[0];\n"  # noqa: E501
    assert refusal(program) is None


def test_a_parameterised_gate_definition_is_refused_and_a_plain_one_is_not():
    plain = f"{HEADER}gate bell a, b {{\n  h a;\n  cx a, b;\n}}\nqubit[2] q;\nbell q[0], q[1];\n"
    assert refusal(plain) is None
    with_parameters = f"{HEADER}gate myrx(theta) a {{\n  rx(theta) a;\n}}\nqubit[1] q;\nmyrx(pi) q[0];\n"
    assert refusal(with_parameters) == "not enough values to unpack (expected 2, got 1)"  # QAT's words
    two_long_names = f"{HEADER}gate g(alpha, beta) a {{\n  rx(alpha) a;\n}}\nqubit[1] q;\ng(1, 2) q[0];\n"
    assert refusal(two_long_names) == "too many values to unpack (expected 2)"
    body = "U(p0, -pi/2 + p1, pi/2 - p1) a;"
    as_qiskit_writes_r = f"{HEADER}gate r(p0, p1) a {{\n  {body}\n}}\nqubit[1] q;\nr(0.3, 0.2) q[0];\n"
    assert refusal(as_qiskit_writes_r) == "unsupported operand type(s) for +: 'int' and 'str'"  # QAT's words


def test_a_conditional_is_a_syntax_error():
    program = f"{HEADER}qubit[2] q;\nbit[1] c;\nc[0] = measure q[0];\nif (c[0]) x q[1];\n"
    assert refusal(program) == "Invalid QASM 3 syntax: 'if (c[0]) x q[1];'."


def test_scalar_declarations_keep_gate_bodies_and_indexed_uses():
    program = (
        f"{HEADER}gate g a {{\n  x a;\n}}\nqubit a;\nqubit[2] r;\nbit c;\ng a;\ncx a, r[1];\nc = measure a;\n"
    )
    rewritten = scalars_as_registers(program)
    assert "gate g a {\n  x a;\n}" in rewritten
    assert "qubit[1] a;\nqubit[2] r;\nbit[1] c;\ng a[0];\ncx a[0], r[1];\nc[0] = measure a[0];\n" in rewritten


def test_the_emulator_refuses_a_modifier_with_qats_reason_and_what_to_do():
    program = f"{HEADER}qubit[2] q;\nbit[2] c;\nctrl @ x q[0], q[1];\nc = measure q;\n"
    with pytest.raises(ProgramError) as caught:
        compile_task(program, LUCY_SIMULATOR, CompilerConfig())
    assert "Invalid QASM 3 syntax: 'ctrl @ x q[0], q[1];'." in caught.value.message
    assert "qiskit.qasm2.dumps" in caught.value.message


def test_a_scalar_bit_is_a_one_bit_register():
    compiled = compile_task(
        f"{HEADER}bit c;\nqubit[1] q;\nx q[0];\nc = measure q[0];\n", LUCY_SIMULATOR, CompilerConfig()
    )
    assert [name for name, _ in compiled.layout.registers] == ["c"]


@pytest.mark.parametrize(
    ("expression", "grouped"),
    [  # the three of the qasm3_expression_precedence fixture, whose counts QAT's grouping explains
        ("pi / 2 + pi / 2", "((pi / (2 + pi)) / 2)"),
        ("pi - pi / 2", "((pi - pi) / 2)"),
        ("2 * pi / 4 + pi / 2", "(((2 * pi) / (4 + pi)) / 2)"),
        ("-pi/2 + 0.2", "(-pi / (2 + 0.2))"),
        ("pi/2", "pi/2"),  # one operator: nothing to choose
    ],
)
def test_operators_are_grouped_as_qats_parser_groups_them(expression: str, grouped: str):
    assert as_qat_groups(expression) == grouped
