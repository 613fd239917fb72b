"""OpenQASM 3 as QCaaS's compiler reads it: what QAT 3.5's pipeline path refuses, and scalar declarations.

QAT reads OpenQASM 3 with its own Lark grammar (``qat/frontend/parsers/grammars/partial_qasm3.lark``),
a subset of the language. What it does not have, recorded on QAT's pipeline path (the fixtures
``qasm3_modifier_*``, ``qasm3_paren_expression``, ``qasm3_gate_def_*``, ``qasm3_scalar_*``):

* **conditionals** (``if (c[0]) x q[1];``), **gate modifiers** (``ctrl @``, ``negctrl @``, ``inv @``,
  ``pow(k) @``) and **parenthesised sub-expressions** (``rx((pi / 2) * 2)``): a syntax error,
  ``Invalid QASM 3 syntax: '<the line around the error>'.`` (Lark's context: up to 40 characters
  either side of the error, stripped);
* **classical declarations** other than ``bit``/``creg``: ``float[64] x = 1.0;`` is the same syntax
  error; ``int x;`` reads as a gate ``int`` on a qubit ``x``: "Can't find gate implementation for
  'int' with supplied arguments.";
* **gate definitions with parameters** (``gate r(p0, p1) q { ... }``, what ``qiskit.qasm3.dumps``
  writes for ``r``, ``rzx``, ``rxx``...): parsed, then QAT fails binding the arguments with an internal
  error (``TypeError``/``ValueError``); definitions without parameters run;
* **binary operators have no precedence** in that grammar: an argument with several is grouped as QAT's
  parser groups it (:func:`as_qat_groups`), so ``rx(pi / 2 + pi / 2)`` is ``rx((pi / (2 + pi)) / 2)``;
* **scalar declarations** ``bit c;`` and ``qubit a;`` are one-bit registers named ``c`` and ``a``
  (the result key is ``c``), which Qiskit's reader would leave as loose bits.

Example:

>>> refusal("OPENQASM 3.0;\\nqubit[2] q;\\nctrl @ x q[0], q[1];\\n")
"Invalid QASM 3 syntax: 'ctrl @ x q[0], q[1];'."
>>> refusal("OPENQASM 3.0;\\nqubit[1] q;\\nrx(pi / 2) q[0];\\n") is None
True
>>> as_qat_groups("pi / 2 + pi / 2")
'((pi / (2 + pi)) / 2)'
>>> print(scalars_as_registers("OPENQASM 3.0;\\nqubit a;\\nbit c;\\nx a;\\nc = measure a;\\n"))
OPENQASM 3.0;
qubit[1] a;
bit[1] c;
x a[0];
c[0] = measure a[0];
<BLANKLINE>
"""

from __future__ import annotations

import re

#: Lark's error context: this many characters of the line either side of the error.
_CONTEXT = 40
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_MODIFIER = re.compile(r"\b(?:ctrl|negctrl|inv|pow)\b\s*(?:\([^)]*\))?\s*(@)")
#: A "(" that does not open an argument list (no identifier before it): a parenthesised expression.
_BARE_PAREN = re.compile(r"(?<![\w\s])\s*(\()|^\s*(\()")
#: ``if (c[0]) x q[1];``: Lark reads ``if (c[0]) x`` as a gate call and fails at the next operand.
_IF = re.compile(r"^\s*if\s*\([^)]*\)\s*\w+\s*")
_CLASSICAL_DECLARATION = re.compile(
    r"^\s*(?:const\s+|input\s+|output\s+)?(int|uint|float|angle|bool|complex|duration|stretch)\b([^;]*)"
)
#: What QAT reads as a gate call: the type name followed by one name, nothing else.
_AS_GATE_CALL = re.compile(r"\s+\w+\s*$")
_PARAMETERISED_GATE = re.compile(r"\bgate\s+(\w+)\s*\(\s*([^)]*?)\s*\)[^{]*\{([^}]*)\}")
_SCALAR = re.compile(r"^(\s*)(bit|qubit)(\s+)(\w+)(\s*;)", re.MULTILINE)
_GATE_BODY = re.compile(r"\bgate\b[^{]*\{[^}]*\}", re.DOTALL)


def _blank_comments(text: str) -> str:
    """The text with comments replaced by spaces (positions and line numbers kept)."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _syntax_error(line: str, column: int) -> str:
    context = line[max(0, column - _CONTEXT) : column] + line[column : column + _CONTEXT]
    return f"Invalid QASM 3 syntax: '{context.strip(' ^' + chr(9) + chr(10) + chr(13))}'."


def _first_error_column(line: str) -> int | None:
    columns = []
    if modifier := _MODIFIER.search(line):
        columns.append(modifier.start(1))
    for paren in _BARE_PAREN.finditer(line):
        columns.append(paren.start(1) if paren.group(1) is not None else paren.start(2))
    if conditional := _IF.match(line):
        columns.append(conditional.end())
    declaration = _CLASSICAL_DECLARATION.match(line)
    if declaration and not _AS_GATE_CALL.match(declaration.group(2)):
        rest = re.search(r"[\[=]", declaration.group(2))  # Lark reads the type as a gate name, then fails
        columns.append(declaration.start(2) + (rest.start() if rest else 0))
    return min(columns, default=None)


def refusal(text: str) -> str | None:
    """QAT's reason for refusing this OpenQASM 3 program's text, or None when its reader takes it."""
    lines = _blank_comments(text).split("\n")
    for line in lines:
        column = _first_error_column(line)
        if column is not None:
            return _syntax_error(line, column)
    for line in lines:
        declaration = _CLASSICAL_DECLARATION.match(line)
        if declaration and _AS_GATE_CALL.match(declaration.group(2)):
            return f"Can't find gate implementation for '{declaration.group(1)}' with supplied arguments."
    gate = _PARAMETERISED_GATE.search(_blank_comments(text))
    if gate is not None and gate.group(2):
        parameters = [name.strip() for name in gate.group(2).split(",")]
        return _parameter_binding_error(gate.group(1), parameters, gate.group(3))
    return None


def _parameter_binding_error(gate: str, parameters: list[str], body: str) -> str:
    """QAT's error calling a gate defined with ``parameters``.

    QAT unpacks each parameter as a ``(type, name)`` pair (``_call_gate`` in
    ``qat/purr/integrations/qasm.py``), which a gate definition's bare names are not: one parameter is
    a string, unpacked character by character; several are a list of strings, each unpacked whole.
    Names of exactly two characters unpack, and the body then reads each name as its own text: the
    first number it meets in an operation (``-pi/2 + p1``: ``2 + 'p1'``) is the error.
    """
    pieces = list(parameters[0]) if len(parameters) == 1 else parameters
    for piece in pieces:
        if len(piece) < 2:
            return f"not enough values to unpack (expected 2, got {len(piece)})"
        if len(piece) > 2:
            return "too many values to unpack (expected 2)"
    names = "|".join(map(re.escape, parameters))
    operation = re.search(r"(\d+(?:\.\d*)?|\bpi)\s*([-+*/])\s*(?:" + names + r")\b", body)
    if operation is not None:
        number = "int" if operation.group(1).isdigit() else "float"
        return f"unsupported operand type(s) for {operation.group(2)}: '{number}' and 'str'"
    return (
        f"the gate definition 'gate {gate}({', '.join(parameters)})' leaves its parameters unbound "
        "(TypeError in QAT's OpenQASM 3 reader)"
    )


def scalars_as_registers(text: str) -> str:
    """``bit c;``/``qubit a;`` as one-bit registers, each bare use of the name as its element 0."""
    names = [match.group(4) for match in _SCALAR.finditer(text)]
    if not names:
        return text
    bare = re.compile(r"(?<![\w$\[])\b(" + "|".join(map(re.escape, names)) + r")\b(?!\s*\[)")

    def rewrite(part: str) -> str:
        return "\n".join(
            _SCALAR.sub(r"\1\2[1]\3\4\5", line) if _SCALAR.match(line) else bare.sub(r"\1[0]", line)
            for line in part.split("\n")
        )

    pieces, start = [], 0
    for body in _GATE_BODY.finditer(text):  # a gate's own argument names are not the program's
        pieces += [rewrite(text[start : body.start()]), body.group()]
        start = body.end()
    pieces.append(rewrite(text[start:]))
    return "".join(pieces)


#: QAT's parser chooses, among an expression's binary operators, the one whose rule its grammar lists
#: first (division, multiplication, addition, subtraction), the rightmost of them, as the outermost.
_OPERATOR_RANK = {"/": 0, "*": 1, "+": 2, "-": 3}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[A-Za-z_π$][\w$]*)|([-+*/]))")
_ARGUMENTS = re.compile(r"\b(?!gate\b)(\w+)(\s*\()([^()]*)(\))")


def _operands(expression: str) -> tuple[list[str], list[str]] | None:
    """Operands (with their signs) and the binary operators between them; None if not that simple."""
    operands, operators, sign, position = [], [], "", 0
    expecting_operand = True
    while position < len(expression.rstrip()):
        token = _TOKEN.match(expression, position)
        if token is None:
            return None
        position = token.end()
        if token.group(1) is not None:
            if not expecting_operand:
                return None
            operands.append(sign + token.group(1))
            sign, expecting_operand = "", False
        elif expecting_operand:
            if token.group(2) not in "+-":
                return None
            sign += token.group(2)
        else:
            operators.append(token.group(2))
            expecting_operand = True
    return (operands, operators) if not expecting_operand else None


def _grouped(operands: list[str], operators: list[str]) -> str:
    if not operators:
        return operands[0]
    best = min(_OPERATOR_RANK[op] for op in operators)
    split = max(index for index, op in enumerate(operators) if _OPERATOR_RANK[op] == best)
    left = _grouped(operands[: split + 1], operators[:split])
    right = _grouped(operands[split + 1 :], operators[split + 1 :])
    return f"({left} {operators[split]} {right})"


def as_qat_groups(expression: str) -> str:
    """``expression`` with the parentheses QAT's parser puts in (unchanged when it has < 2 operators)."""
    parsed = _operands(expression)
    if parsed is None or len(parsed[1]) < 2:
        return expression
    return _grouped(*parsed)


def arguments_as_qat_groups(text: str) -> str:
    """Every gate argument grouped as QAT groups it (see :func:`as_qat_groups`)."""

    def group(call: re.Match[str]) -> str:
        arguments = ", ".join(as_qat_groups(argument.strip()) for argument in call.group(3).split(","))
        return f"{call.group(1)}{call.group(2)}{arguments}{call.group(4)}"

    return "\n".join(
        line if line.lstrip().startswith(("gate", "OPENQASM", "include")) else _ARGUMENTS.sub(group, line)
        for line in text.split("\n")
    )
