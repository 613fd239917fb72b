"""What the live QCaaS service was seen to do: a catalogue kept as data, with a checkable class per entry.

QAT 3.5 on its default models explains most of what the service accepts or refuses, but not all: the
deployed model or version refuses some programs QAT accepts (``shared/spec/qcaas-compiler.md``, "what
QAT cannot tell you"). Such observations live in ``service_observations.json`` beside this module, each
with its sources, the QPUs it was seen on, an example program and the error the service gave. Every
entry names a *program class*: a predicate on the program text, defined here once, that three readers
share without crossing layers:

* the emulator reproduces an entry on the QPUs it was seen on
  (:mod:`oqc_provider.emulator.observed_refusals`);
* the front ends and ``oqc-provider run`` refuse a matching program before sending it
  (:mod:`oqc_provider.preflight`);
* the tests replay every entry's example against both.

The predicates read text only (no Qiskit, no pytket) and cost microseconds per program.

Example:
    >>> entry = observation("openqasm3-two-qubit-gate")
    >>> entry.observed_error
    "error 101: argument of type 'NoneType' is not iterable"
    >>> entry.matches(entry.example), entry.refuses_on("Toshiko", "qpu:jp:3:673b1ad43c")
    (True, True)
    >>> [hit.id for hit in observed_refusals('OPENQASM 3.0;\\nqubit[2] q;\\necr q[0], q[1];', "Lucy", "x")]
    []
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

_HEADER = re.compile(r"OPENQASM\s+(\d+)(?:\.\d+)?\s*;")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
#: A gate definition's body (OpenQASM 2 and 3): its statements are not applications.
#: (No leading ``\b``: a pattern starting with a literal is searched far faster.)
_GATE_DEFINITION = re.compile(r"gate\s+([A-Za-z_]\w*)[^{]*\{[^}]*\}")
#: One statement that may apply a gate: optional modifiers, a name, optional parameters, operands.
_APPLICATION = re.compile(
    r"(?:^|(?<=[;{}]))\s*(?:(?:ctrl|negctrl|inv|pow)\s*(?:\([^)]*\))?\s*@\s*)*"
    r"([A-Za-z_]\w*)\s*(?:\([^;{}]*?\))?\s+([^;{}=]+);"
)
#: Statement words that are not gate applications.
_NOT_GATE_WORDS = (
    "OPENQASM include qreg creg qubit bit opaque gate measure reset barrier delay if else for while "
    "input output let const def defcal cal extern return box int uint float angle bool duration stretch "
    "complex array end break continue switch case default pragma"
)
_NOT_GATES = frozenset(_NOT_GATE_WORDS.split())
#: The gates ``qelib1.inc`` defines, as the OpenQASM 2 reader QAT uses knows them (Qiskit's legacy set).
_QELIB1_GATE_NAMES = (
    "u3 u2 u1 cx id u0 u p x y z h s sdg t tdg rx ry rz sx sxdg cz cy swap ch ccx cswap crx cry crz cu1 cp "
    "cu3 csx cu rxx rzz rccx rc3x c3x c3sqrtx c4x"
)
_QELIB1_GATES = frozenset(_QELIB1_GATE_NAMES.split())
_QELIB1_INCLUDE = re.compile(r'\binclude\s+"qelib1\.inc"\s*;')


def openqasm_major(text: str) -> int | None:
    """The major OpenQASM version ``text`` declares (None: no header)."""
    header = _HEADER.search(text)
    return None if header is None else int(header.group(1))


def _applications(text: str) -> tuple[list[tuple[str, int]], set[str]]:
    """Each gate application outside gate definitions as (name, operand count), and defined gates."""
    body = _COMMENTS.sub("", text)
    defined = {match.group(1) for match in _GATE_DEFINITION.finditer(body)}
    body = _GATE_DEFINITION.sub(";", body)
    found = []
    for match in _APPLICATION.finditer(body):
        name = match.group(1)
        if name not in _NOT_GATES:
            found.append((name, len([part for part in match.group(2).split(",") if part.strip()])))
    return found, defined


def multi_qubit_gate_in_openqasm3(text: str) -> str | None:
    """The first gate an OpenQASM 3 program applies to two or more operands (None: none, or not 3)."""
    if openqasm_major(text) != 3:
        return None
    return next((name for name, operands in _applications(text)[0] if operands >= 2), None)


def gate_without_qelib1(text: str) -> str | None:
    """The first gate an OpenQASM 2 program uses from ``qelib1.inc`` without including it (None: none).

    A gate the program defines itself, and a name ``qelib1.inc`` does not define (an unknown gate,
    refused for that reason instead), are not in the class.
    """
    if openqasm_major(text) != 2 or _QELIB1_INCLUDE.search(text):
        return None
    applications, defined = _applications(text)
    return next((name for name, _ in applications if name in _QELIB1_GATES and name not in defined), None)


#: Each program class: a function naming what in the program puts it in the class (None: not in it).
PROGRAM_CLASSES: dict[str, Callable[[str], str | None]] = {
    "openqasm3_multi_qubit_gate": multi_qubit_gate_in_openqasm3,
    "openqasm2_gate_without_qelib1": gate_without_qelib1,
}


class SeenOn(BaseModel):
    """A QPU an observation was made on."""

    model_config = ConfigDict(frozen=True)
    name: str
    qpu_id: str
    as_reported: str = ""


class Source(BaseModel):
    """Where an observation comes from, and what that source shows."""

    model_config = ConfigDict(frozen=True)
    kind: str
    ref: str
    url: str
    date: str
    shows: str


class Observation(BaseModel):
    """One thing the live service was seen to do, with its evidence."""

    model_config = ConfigDict(frozen=True)
    id: str
    summary: str
    seen_on: tuple[SeenOn, ...]
    #: ``"seen_on"``: only those QPUs refuse it; ``"all"``: every QPU does (QAT itself refuses it).
    refused_on: Literal["seen_on", "all"]
    program_class: str
    program_class_text: str
    example: str
    observed_error: str
    error_code: int | None
    #: The message as the service gives it; ``{gate}`` stands for the gate the program class names.
    error_message: str
    task_state: str
    qat_3_5_pipeline: str
    advice: str
    sources: tuple[Source, ...]

    def culprit(self, program: str) -> str | None:
        """What in ``program`` puts it in this entry's class (a gate name), or None."""
        return PROGRAM_CLASSES[self.program_class](program)

    def matches(self, program: str) -> bool:
        """Whether ``program`` is in this entry's class."""
        return self.culprit(program) is not None

    def refuses_on(self, name: str, qpu_id: str) -> bool:
        """Whether the service refuses this class on the QPU called ``name`` (or with ``qpu_id``)."""
        return self.refused_on == "all" or any(q.name == name or q.qpu_id == qpu_id for q in self.seen_on)

    def message_for(self, program: str) -> str:
        """The service's error message for ``program`` (which must be in the class)."""
        return self.error_message.replace("{gate}", self.culprit(program) or "?")

    def evidence(self) -> str:
        """The sources in one line: reference, date and address of each."""
        cited = [f"{s.ref} ({s.date}{', ' + s.url if s.url else ''})" for s in self.sources]
        return "; ".join(cited)


class Catalogue(BaseModel):
    """The whole file."""

    model_config = ConfigDict(frozen=True)
    schema_version: int
    about: str
    observations: tuple[Observation, ...]


@cache
def catalogue() -> Catalogue:
    """The catalogue shipped with the package (read once)."""
    text = resources.files("oqc_provider").joinpath("service_observations.json").read_text(encoding="utf-8")
    return Catalogue.model_validate(json.loads(text))


def observation(entry_id: str) -> Observation:
    """The entry with ``entry_id``.

    Raises:
        KeyError: no such entry (the message lists the ids).
    """
    for entry in catalogue().observations:
        if entry.id == entry_id:
            return entry
    raise KeyError(f"No observation {entry_id!r}; known: {[e.id for e in catalogue().observations]}")


def observed_refusals(program: str, qpu_name: str, qpu_id: str) -> list[Observation]:
    """The entries saying the QPU (by name or id) refuses ``program``, in catalogue order."""
    return [
        entry
        for entry in catalogue().observations
        if entry.refuses_on(qpu_name, qpu_id) and entry.matches(program)
    ]


def refuses_openqasm3_multi_qubit_gates(qpu_name: str, qpu_id: str) -> bool:
    """Whether the catalogue says this QPU refuses OpenQASM 3 with a two-qubit gate (the front ends
    then avoid writing such programs where they can)."""
    return any(
        entry.program_class == "openqasm3_multi_qubit_gate" and entry.refuses_on(qpu_name, qpu_id)
        for entry in catalogue().observations
    )


__all__ = [
    "PROGRAM_CLASSES",
    "Catalogue",
    "Observation",
    "SeenOn",
    "Source",
    "catalogue",
    "gate_without_qelib1",
    "multi_qubit_gate_in_openqasm3",
    "observation",
    "observed_refusals",
    "openqasm_major",
    "refuses_openqasm3_multi_qubit_gates",
]
