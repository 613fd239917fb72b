"""One wording for every way a wait can end short of the result, with what to do next.

The engine says how a wait ended (:class:`~oqc_provider.engine.waiting.WaitOutcome`); the Qiskit
and pytket front ends and the CLI each raise their own typed error (or exit code) with the
sentence :func:`wait_message` writes here. Each front end fills in :class:`NextSteps` in its
own terms (``result()`` again, ``get_result`` again, ``oqc-provider jobs result ID``).

Example:
    >>> from datetime import datetime, timezone
    >>> from oqc_provider.engine.waiting import WaitEnd, WaitOutcome
    >>> outcome = WaitOutcome(
    ...     WaitEnd.UNREACHABLE, url="http://127.0.0.1:8000", total=2, done=0,
    ...     since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), attempts=4,
    ...     last_error=ConnectionError("refused"))
    >>> steps = NextSteps(subject="Job 5ef9", saved="It is saved.", resume="call X.",
    ...                   drop="call Y.", resubmit="call Z.")
    >>> print(wait_message(outcome, steps))  # doctest: +NORMALIZE_WHITESPACE
    Job 5ef9 is still active, but the service at http://127.0.0.1:8000 cannot be reached: reading
    its task(s) failed since 03:04:05 UTC (4 failed read(s), retried with backoff; last error:
    refused). Nothing was failed or resent. It is saved. Once the service is back, call X.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oqc_provider.engine.waiting import WaitEnd, WaitOutcome


@dataclass(frozen=True)
class NextSteps:
    """What a front end tells its user to do, in its own terms.

    Attributes:
        subject: what was waited for (``"Job 5ef9..."``, ``"2 of 3 circuits on Lucy Simulator"``).
        saved: where the job is kept (a sentence).
        resume: how to go on waiting (a sentence, after "Once the service is back, " or "It goes on: ").
        drop: how to let go of tasks the service no longer knows (a sentence, after "To let them go, ").
        resubmit: how to run the circuits again (a sentence, after "to get results, ").
    """

    subject: str
    saved: str
    resume: str
    drop: str
    resubmit: str


def wait_message(outcome: WaitOutcome, steps: NextSteps) -> str:
    """The sentence a user reads for ``outcome`` (a finished wait has nothing to say: ``""``)."""
    if outcome.end is WaitEnd.UNREACHABLE:
        return (
            f"{steps.subject} is still active, but the service at {outcome.url} cannot be reached: reading "
            f"its task(s) failed since {_clock(outcome.since)} ({outcome.attempts} failed read(s), retried "
            f"with backoff{_last(outcome.last_error)}). Nothing was failed or resent. {steps.saved} "
            f"Once the service is back, {steps.resume}"
        )
    if outcome.end is WaitEnd.UNKNOWN_TASK:
        ids = ", ".join(outcome.task_ids[:3]) + (
            f" and {len(outcome.task_ids) - 3} more" if len(outcome.task_ids) > 3 else ""
        )
        return (
            f"{steps.subject}: the service at {outcome.url} does not know task(s) {ids}: every read since "
            f"{_clock(outcome.since)} was answered 404 Not Found ({outcome.attempts} read(s)"
            f"{_last(outcome.last_error)}). The service lost or purged them (an emulator that keeps tasks in "
            "memory forgets them when it restarts; QCaaS scrubs old tasks), so waiting longer will not "
            f"help. {steps.saved} To let them go, {steps.drop} To get results, {steps.resubmit}"
        )
    if outcome.end is WaitEnd.NEVER_SENT:
        count = f"{len(outcome.jobs)} of {outcome.total} task(s)"
        doubt = (
            f" {outcome.uncertain} of them may have reached it (its answer was lost); they are asked about "
            "before anything is resent, so nothing runs twice."
            if outcome.uncertain
            else ""
        )
        if outcome.since is not None:
            why = f"were never sent: the service at {outcome.url} cannot be reached (no answer since "
            why += f"{_clock(outcome.since)}){_last(outcome.last_error)}"
            then = "Once the service is back,"
        elif outcome.last_error is not None:
            why = f"were never sent: the service at {outcome.url} did not take them"
            why += _last(outcome.last_error)
            then = "To send them,"
        else:
            why, then = "have not been sent yet", "To send them,"
        return (
            f"{steps.subject}: {count} {why}.{doubt} {steps.saved} {then} {steps.resume} Only tasks the "
            "service does not have are sent."
        )
    if outcome.end is WaitEnd.STILL_RUNNING:
        waited = (
            f"still running after {outcome.timeout:g} s"
            if outcome.timeout
            else f"still {outcome.state.value if outcome.state else 'active'}"
        )
        reason = f"; {outcome.reason}" if outcome.reason else ""
        return (
            f"{steps.subject} is {waited} ({outcome.done}/{outcome.total} tasks done{reason}). "
            f"{steps.saved} It goes on: {steps.resume}"
        )
    return ""


def _last(error: BaseException | None) -> str:
    """``"; last error: ..."`` (nothing for an error with no words, such as a bare deadline)."""
    text = str(error or "").strip().rstrip(".")
    return f"; last error: {text}" if text else ""


def _clock(moment: datetime | None) -> str:
    return "an unknown time" if moment is None else f"{moment:%H:%M:%S} UTC"


__all__ = ["NextSteps", "wait_message"]
