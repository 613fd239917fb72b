"""Preflight: refuse, before anything is sent, what the service is known to refuse.

A program the service refuses costs a queue wait to find out. Both front ends and ``oqc-provider run``
therefore check each program against what is known before submitting it:

* the catalogue of what the live service was seen to do (:mod:`oqc_provider.service_observations`):
  a program in a class an entry says this QPU refuses raises :class:`PreflightError`, naming the
  entry, its evidence and what to do;
* the QPU's published limits: its qubit count (qubits the program declares or addresses) and the
  128 KiB request limit (one task too large to ever send). Shots against ``"Maximum Shots"`` are
  checked with the other options (:meth:`RunOptions.check_device`).

Users who know better opt out per run with ``preflight=False`` (``--no-preflight`` on the command
line). The checks read program text only: a few microseconds per circuit (``benchmarks/preflight_cost.py``).

Example:
    >>> from oqc_provider.devices import LUCY_SIMULATOR, TOSHIKO
    >>> bell3 = 'OPENQASM 3.0;\\ninclude "stdgates.inc";\\nqubit[2] q;\\nh q[0];\\ncx q[0], q[1];\\n'
    >>> check_program(bell3, LUCY_SIMULATOR)  # no known refusal on Lucy
    >>> try:
    ...     check_program(bell3, TOSHIKO, label="circuit 0")
    ... except PreflightError as exc:
    ...     print(exc.observation_id, "|", str(exc).splitlines()[0])
    openqasm3-two-qubit-gate | circuit 0 was not sent: Toshiko is known to refuse it (gate 'cx').
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from oqc_provider.devices import DeviceSpec
from oqc_provider.engine import Job
from oqc_provider.engine.batch import pack_requests
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from oqc_provider.service_observations import observed_refusals

# Each pattern starts with a literal (no ``\b``): Python's re then skips to candidates fast, 200x faster.
_QREG = re.compile(r"qreg\s+[A-Za-z_]\w*\s*\[\s*(\d+)\s*\]")
_QUBIT_ARRAY = re.compile(r"qubit\s*\[\s*(\d+)\s*\]")
_QUBIT_SINGLE = re.compile(r"qubit\s+[A-Za-z_]\w*\s*;")
_PHYSICAL = re.compile(r"\$(\d+)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
#: How the opt-out is spelled, for messages.
OPT_OUT = "preflight=False (oqc-provider run --no-preflight)"


class PreflightError(OqcProviderError, ValueError):
    """A program the service is known to refuse, or one over the QPU's published limits; not sent.

    Attributes:
        observation_id: the catalogue entry behind the refusal (None for a published limit).
        index: the circuit's place in its batch (None when unknown).
    """

    def __init__(self, message: str, observation_id: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.observation_id = observation_id
        self.index = index


def qubits_needed(program: str) -> int:
    """How many qubits ``program`` declares (OpenQASM 2 and 3), or addresses physically (``$n``)."""
    text = _COMMENTS.sub("", program)
    sizes = [*_QREG.findall(text), *_QUBIT_ARRAY.findall(text)]
    declared = sum(int(size) for size in sizes) + len(_QUBIT_SINGLE.findall(text))
    physical = [int(n) for n in _PHYSICAL.findall(text)]
    return max(declared, max(physical) + 1 if physical else 0)


def check_program(
    program: str, device: DeviceSpec, *, label: str = "the program", index: int | None = None, hint: str = ""
) -> None:
    """Raise :class:`PreflightError` if ``device`` is known to refuse ``program``.

    ``hint``: what the caller (a front end) can add about why its program has this shape.
    """
    needed = qubits_needed(program)
    if needed > device.qubit_count:
        raise PreflightError(
            f"{label} was not sent: it declares {needed} qubits but {device.name} has "
            f"{device.qubit_count} (QAT refuses it: 'Attempted to allocate more qubits than available'). "
            "Declare at most that many qubits, or choose a larger QPU.",
            index=index,
        )
    for entry in observed_refusals(program, device.name, device.qpu_id):
        lines = [
            f"{label} was not sent: {device.name} is known to refuse it (gate {entry.culprit(program)!r}).",
            f"Why: {entry.summary} The service answered {entry.observed_error!r} "
            f"(catalogue entry {entry.id!r}: {entry.program_class_text}).",
            f"Evidence: {entry.evidence()}.",
        ]
        if hint:
            lines.append(hint)
        lines.append(f"What to do: {entry.advice} To send it anyway: {OPT_OUT}.")
        raise PreflightError("\n".join(lines), observation_id=entry.id, index=index)


def check_request_sizes(jobs: Sequence[Job], labels: Sequence[str]) -> None:
    """Raise :class:`PreflightError` if a job is too large for any request (the engine's own packing).

    Batches are split by size at submission; a single task over the limit could never be sent.
    """
    _, too_large = pack_requests(jobs)
    if too_large:
        index = next(i for i, job in enumerate(jobs) if job is too_large[0])
        raise PreflightError(
            f"{labels[index]} was not sent: its task is larger than the service's request limit of "
            f"{MAX_REQUEST_BYTES} bytes (128 KiB, program and settings together), so it could never be "
            "sent. Split the circuit into smaller ones, or shorten it (fewer gates, shorter names).",
            index=index,
        )


__all__ = ["OPT_OUT", "PreflightError", "check_program", "check_request_sizes", "qubits_needed"]
