"""How a chunk of tasks can fail in a simulator process, as the pool's futures report it.

:mod:`.pool` runs chunks in simulator processes; :mod:`.worker` (the dispatcher) decides what each
failure means for the chunk's tasks: a crash is counted against them, a stop is not, a process that
died before it took the chunk ran none of it.
"""

from __future__ import annotations

import signal

from oqc_provider.errors import OqcProviderError


class WorkerCrashed(Exception):
    """The simulator process died (or failed) while running a chunk of tasks.

    Attributes:
        reason: how it died, e.g. ``"SIGSEGV"``, ``"exit status 1"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"The simulator process died ({reason})")
        self.reason = reason


class SimulationStopped(Exception):
    """The emulator stopped a chunk's simulation: its time limit passed, or every task in it was
    cancelled. The simulator process was killed (the slot starts another); no crash is counted.

    Attributes:
        reason: ``"time limit"`` or ``"cancelled"``.
        seconds: how long the chunk had run.
    """

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(f"The simulation was stopped ({reason}) after {seconds:.1f}s")
        self.reason = reason
        self.seconds = seconds


class WorkerStartError(OqcProviderError, RuntimeError):
    """A simulator process could not start; its log is on stderr.

    Attributes:
        killed: it was killed by a signal while starting (someone else's doing, or the OOM killer),
            not an installation that cannot work: the chunk waiting for it never ran and is worth
            running again.
    """

    def __init__(self, message: str, killed: bool = False) -> None:
        super().__init__(message)
        self.killed = killed


def death_reason(returncode: int | None) -> str:
    """``"SIGSEGV"`` for a child killed by a signal, ``"exit status N"`` otherwise."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"
