"""The emulator's HTTP error answer and the legacy per-QPU URL prefix: what the emulator's state raises
and reads as well as its route handlers.

Kept below :mod:`.http` (whose handler context holds the :class:`~.state.EmulatorState`) so that the
state can refuse a request with an HTTP answer without importing the handlers' helpers.

Example:
    >>> qpu_hex("qpu:uk:2:d865b5a184")
    'd865b5a184'
    >>> ApiError(404, "Unknown QPU 'x'.").status
    404
"""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error answer; rendered in the legacy or v4 error shape by the route wrapper."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def qpu_hex(qpu_id: str) -> str:
    """The 10 hex characters ending a QPU id: its per-QPU URL prefix in legacy mode."""
    return qpu_id.rsplit(":", 1)[-1]
