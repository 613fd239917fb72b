"""How ``run`` and ``jobs result`` end when not every circuit has its result: one line, one exit code.

The engine says how the wait ended (:mod:`oqc_provider.engine.waiting`); the sentence comes from
:mod:`oqc_provider.wait_messages`, with the commands that go on from there, and the exit code
from :mod:`oqc_provider.cli.common`:

======================  ==============================  ===========================================
outcome                 exit code                       what to do
======================  ==============================  ===========================================
a circuit FAILED        1 (``EXIT_FAILURE``)            read its error; fix the program
still running           3 (``EXIT_STILL_RUNNING``)      ``oqc-provider jobs result ID --wait N`` later
service unreachable     4 (``EXIT_UNREACHABLE``)        the same, once the service is back
never sent              4 (``EXIT_UNREACHABLE``)        the same: it sends what the service lacks
unknown to the service  5 (``EXIT_TASK_UNKNOWN``)       ``oqc-provider jobs cancel ID``; run again
======================  ==============================  ===========================================

Example:
    >>> exit_code(WaitEnd.STILL_RUNNING), exit_code(WaitEnd.NEVER_SENT)
    (3, 4)
"""

from __future__ import annotations

from typing import Any

import typer

from oqc_provider.cli.common import (
    EXIT_FAILURE,
    EXIT_STILL_RUNNING,
    EXIT_TASK_UNKNOWN,
    EXIT_UNREACHABLE,
    fail,
)
from oqc_provider.engine.waiting import WaitEnd, WaitOutcome
from oqc_provider.wait_messages import NextSteps, wait_message

_EXIT_CODES = {
    WaitEnd.STILL_RUNNING: EXIT_STILL_RUNNING,
    WaitEnd.UNREACHABLE: EXIT_UNREACHABLE,
    WaitEnd.NEVER_SENT: EXIT_UNREACHABLE,
    WaitEnd.UNKNOWN_TASK: EXIT_TASK_UNKNOWN,
}


def exit_code(end: WaitEnd) -> int:
    """The exit code of a wait that ended ``end`` (0 for a finished one)."""
    return _EXIT_CODES.get(end, 0)


def fail_wait(outcome: WaitOutcome, *, job_id: str, saved_at: object, wait: float) -> typer.Exit:
    """Print the outcome's one line on stderr; return the ``typer.Exit`` to raise.

    Args:
        saved_at: where the job is saved (its snapshot's path).
        wait: the ``--wait`` the resume hint suggests.
    """
    steps = NextSteps(
        subject=f"job {job_id}",
        saved=f"It is saved at {saved_at}.",
        resume=f"run 'oqc-provider jobs result {job_id} --wait {wait:g}'.",
        drop=f"run 'oqc-provider jobs cancel {job_id}'.",
        resubmit="run the program(s) again with 'oqc-provider run'.",
    )
    return fail(wait_message(outcome, steps), exit_code(outcome.end))


def fail_if_failed(results: list[dict[str, Any]]) -> None:
    """Exit with ``EXIT_FAILURE`` when a circuit failed (``results`` as ``common.outcome`` gives them).

    Raises:
        typer.Exit: a circuit failed.
    """
    failed = [item for item in results if item["error"]]
    if failed:
        first = failed[0]
        raise fail(
            f"{len(failed)} of {len(results)} circuit(s) failed; {first['circuit']}: {first['error']}",
            EXIT_FAILURE,
        )
