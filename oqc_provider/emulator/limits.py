"""A served emulator's abuse limits: what one request may ask of it, checked before any work is done.

QCaaS itself refuses request bodies over 128 KiB (protocol spec); the other limits are the emulator's
own, so that one small request cannot make it allocate a million task rows, a simulator allocate
gigabytes for ``qubit[50000000] q;``, or a task produce a result of hundreds of megabytes. Each is an
:class:`~oqc_provider.emulator.state.EmulatorSettings` field and an ``oqc-provider emulator serve``
flag; each refusal is a 413 in the server mode's error shape, saying which limit and what to do.

The body limit is an ASGI middleware (:class:`BodyLimit`): it counts the bytes as they arrive and
answers 413 as soon as they pass the limit, before routing and authentication, so nothing reads a
huge body whole (``/admin/login`` included). The per-program checks read sizes from the program's
declarations with a regular expression (:func:`declared_sizes`), never by parsing it with Qiskit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oqc_provider.qcaas.compiler_config import DEFAULT_SHOTS

#: The emulator's default most task ids one allocation may ask for, and tasks one submit may carry:
#: twice what the engine sends in one request (``engine.batch.MAX_TASKS_PER_REQUEST``).
DEFAULT_MAX_TASKS_PER_REQUEST = 1000
#: The emulator's default most qubits a program may declare. A program declaring more than its QPU
#: has, but no more than this, is taken and ends FAILED (code 400), as QCaaS's compiler fails it.
DEFAULT_MAX_PROGRAM_QUBITS = 1024
#: The emulator's default most result bits of one task: shots x classical bits (a raw result holds
#: one character per bit per shot; about 16 MiB of result).
DEFAULT_MAX_RESULT_BITS = 16 * 1024 * 1024
#: Seconds a task's simulation may take by default: far past what a program a QPU can run takes here,
#: short of a hung simulator's forever.
DEFAULT_TASK_TIME_LIMIT = 600.0
#: Address space per simulator process by default (measured: Qiskit, Aer and their threads take
#: about 1-1.5 GiB of mostly unbacked address space before any simulation).
DEFAULT_SIMULATOR_MEMORY_LIMIT = 4 * 1024**3

_LEGACY_PATH = re.compile(r"^/(admin(/|$)|[0-9a-fA-F]{10}/)")
# OpenQASM 2 ``qreg q[8];`` / ``creg c[8];`` and OpenQASM 3 ``qubit[8] q;`` / ``bit[8] c;`` /
# ``qubit q;``. A size that is not a decimal literal (``bit[0x65]``) is not counted here: the simulator
# checks the result size again once it has parsed the program, and its memory limit bounds the rest.
# Keywords are found first, with a pattern that starts with one character class (an alternation of whole
# declarations is tried at every position), then each declaration is read from where its keyword ends.
_REGISTER_SIZE = re.compile(r"\s+[A-Za-z_]\w*\s*\[\s*([0-9_]+)\s*\]")
_QASM3_SIZE = re.compile(r"\s*(?:\[\s*([0-9_]+)\s*\])?\s+[A-Za-z_]\w*\s*[;=]")
_QUANTUM = {"qreg": True, "qubit": True, "creg": False, "bit": False}


def is_legacy_path(path: str) -> bool:
    """Whether ``path`` is served in the legacy (Flask) layout: ``/admin...`` or a per-QPU prefix."""
    return _LEGACY_PATH.match(path) is not None


def error_body(status: int, message: str, legacy: bool) -> dict[str, Any]:
    """An error document in the shape of the server mode: Flask's envelope, or FastAPI's ``detail``."""
    if legacy:
        return {"meta": {"code": status}, "response": {"errors": [message]}}
    return {"detail": message}


@dataclass(frozen=True)
class DeclaredSizes:
    """What a program's register declarations add up to."""

    qubits: int
    bits: int


def _keywords(program: str) -> Iterator[tuple[int, str]]:
    """Where each declaration keyword (``qreg``, ``creg``, ``qubit``, ``bit``) stands as a whole word
    at its end, by plain substring search: a regex tried at every ``q`` and ``c`` of a program
    (each operand is ``q[i]``) cost a submit about 50 instructions per character."""
    for keyword in _QUANTUM:
        at = program.find(keyword)
        while at != -1:
            end = at + len(keyword)
            if end == len(program) or not (program[end].isalnum() or program[end] == "_"):
                yield at, keyword
            at = program.find(keyword, at + 1)


def declared_sizes(program: str) -> DeclaredSizes:
    """The qubits and classical bits a program declares (literal sizes only).

    >>> declared_sizes('OPENQASM 2.0; qreg q[3]; creg c[2]; creg d[1];')
    DeclaredSizes(qubits=3, bits=3)
    >>> declared_sizes('OPENQASM 3.0; qubit[50_000_000] q; bit b;')
    DeclaredSizes(qubits=50000000, bits=1)
    """
    qubits = bits = 0
    for at, keyword in _keywords(program):
        quantum = _QUANTUM[keyword]
        if at > 0 and (program[at - 1].isalnum() or program[at - 1] in "_$"):
            continue  # part of a longer name ("bit" in "qubit" too)
        pattern = _REGISTER_SIZE if keyword.endswith("reg") else _QASM3_SIZE
        declaration = pattern.match(program, at + len(keyword))
        if declaration is None:
            continue
        try:
            size = int(declaration.group(1) or "1")
        except ValueError:  # "_" alone or a misplaced "_": not a literal, left to the parser
            continue
        if quantum:
            qubits += size
        else:
            bits += size
    return DeclaredSizes(qubits, bits)


def shots_in(config_text: str | None) -> int:
    """The shot count a task's config asks for (``repeats``), the service default when unset or unreadable.

    >>> shots_in('{"$data": {"repeats": 250}}'), shots_in(None) == shots_in('{}')
    (250, True)
    """
    try:
        repeats = json.loads(config_text or "{}").get("$data", {}).get("repeats")
    except (ValueError, AttributeError, RecursionError):
        return DEFAULT_SHOTS
    whole = isinstance(repeats, int) and not isinstance(repeats, bool)
    return repeats if whole and repeats > 0 else DEFAULT_SHOTS


def program_refusal(
    program: str, config_text: str | None, max_qubits: int, max_result_bits: int
) -> str | None:
    """Why a submitted program is over the emulator's limits, or None when it is within them.

    >>> program_refusal('qreg q[2]; creg c[2];', '{"$data": {"repeats": 100}}', 1024, 1000) is None
    True
    >>> print(program_refusal('qubit[50000000] q;', None, 1024, 1000))  # doctest: +ELLIPSIS
    The program declares 50000000 qubits, over this emulator's limit of 1024 ...
    """
    sizes = declared_sizes(program)
    if sizes.qubits > max_qubits:
        return (
            f"The program declares {sizes.qubits} qubits, over this emulator's limit of {max_qubits} "
            "(--max-program-qubits). Declare only the qubits the program uses (no QPU has more)."
        )
    return result_size_refusal(shots_in(config_text), sizes.bits, max_result_bits)


def result_size_refusal(shots: int, bits: int, max_result_bits: int) -> str | None:
    """Why a task's result would be over the emulator's limit, or None.

    Checked at submit from the declarations, and again by the simulator once the program is parsed
    (sizes written as expressions are known only then), before anything is simulated.

    >>> result_size_refusal(1000, 8, 10_000) is None
    True
    """
    if shots * bits <= max_result_bits:
        return None
    return (
        f"The result would hold {shots} shots x {bits} classical bits = {shots * bits} bits, over this "
        f"emulator's limit of {max_result_bits} (--max-result-bits). Ask for fewer shots, or measure "
        "into fewer bits, or split the run into several tasks."
    )


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 while it is being read.

    The declared ``Content-Length`` is checked first (nothing is read); otherwise the body is read in
    the chunks the server hands over and counted, and the request is refused the moment it passes the
    limit. A body within the limit is handed on to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, f"{int(declared)} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send, f"more than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, size: str) -> None:
        message = (
            f"Request body of {size} exceeds the {self.max_bytes}-byte limit (--max-request-bytes). "
            "Send fewer or smaller programs per request."
        )
        payload = json.dumps(error_body(413, message, is_legacy_path(scope.get("path", "")))).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
