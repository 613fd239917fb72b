"""How a wait ended, as one typed value every front end turns into its own error.

Waiting for jobs can end five ways, and a user needs a different next step for each:

* **finished**: every job ended (completed, failed or cancelled);
* **still running**: the deadline passed while the service answered: the queue is slow, or the
  QPU is outside its execution window (then ``reason`` says which window it waits for);
* **unreachable**: the deadline passed while reads of the tasks got no good answer since
  ``since`` (connection refused, timeouts, 5xx): nobody knows how the tasks are doing;
* **unknown task**: every read of a task we submitted was answered 404 Not Found: the service no
  longer has it (an in-memory emulator restarted, a task purged after its retention period), so
  waiting longer cannot help;
* **never sent**: some jobs could not be submitted, because the service could not be reached
  (or refused to take them) while submitting; they keep their task ids and are asked about
  before anything is sent again.

:func:`wait_outcome` runs one engine wait (``Job.wait``, ``CompositeJob.wait``,
``OqcSdk.wait_for``: the engine's one polling loop) and says how it ended; :func:`outcome_of`
reads the same from an error already caught. The words for each outcome are in
:mod:`oqc_provider.wait_messages`; the Qiskit and pytket front ends and the CLI map the outcome
to their own error types and exit codes.

Example:
    >>> from oqc_provider.engine.job import Job
    >>> job = Job("OPENQASM 2.0;", "qpu:uk:2:d865b5a184")
    >>> job.not_sent(ConnectionError("refused"))  # a submission that could not reach the service
    >>> outcome = outcome_of(TimeoutError(), [job], url="http://127.0.0.1:8000", timeout=5.0)
    >>> outcome.end, outcome.done, outcome.total
    (<WaitEnd.NEVER_SENT: 'never sent'>, 0, 1)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from oqc_provider.engine.errors import JobStillActive, SubmissionIncomplete
from oqc_provider.engine.queues import closed_window_text
from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.errors import NotFoundError, ServiceUnavailableError

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job

logger = logging.getLogger("oqc_provider.engine")


class WaitEnd(str, Enum):
    """The five ways a wait ends (see the module docstring)."""

    FINISHED = "finished"
    STILL_RUNNING = "still running"
    UNREACHABLE = "unreachable"
    UNKNOWN_TASK = "unknown task"
    NEVER_SENT = "never sent"


class Service(Protocol):
    """What a wait needs to know about the session it waits through (``OqcSdk`` is one)."""

    @property
    def url(self) -> str:
        """The service's base URL."""
        ...

    @property
    def unreachable_since(self) -> datetime | None:
        """When the service stopped answering (UTC), or ``None`` while it answers."""
        ...


@dataclass(frozen=True)
class WaitOutcome:
    """How one wait ended.

    Attributes:
        end: which of the five ways.
        url: the service waited on.
        total: jobs waited for.
        done: how many of them have ended.
        timeout: the seconds waited (``None``: no deadline; 0: looked once).
        jobs: the jobs the outcome is about (unreadable, unknown to the server, or never sent).
        state: the least advanced state of the jobs not ended (``None`` when all ended).
        since: when the service stopped answering (UTC), for unreachable, unknown or never sent.
        attempts: how many reads failed since then.
        last_error: the last failure.
        reason: why still-running jobs wait (their QPU's queue or closed window), if known.
        uncertain: of the jobs never sent, how many may have reached the server.
    """

    end: WaitEnd
    url: str
    total: int
    done: int
    timeout: float | None = None
    jobs: tuple[Job, ...] = ()
    state: JobState | None = None
    since: datetime | None = None
    attempts: int = 0
    last_error: BaseException | None = None
    reason: str | None = None
    uncertain: int = 0

    @property
    def finished(self) -> bool:
        """Whether every job ended."""
        return self.end is WaitEnd.FINISHED

    @property
    def task_ids(self) -> list[str]:
        """The ids of the tasks the outcome is about (``"-"`` for one never allocated)."""
        return [str(job.task_id) if job.task_id is not None else "-" for job in self.jobs]

    def after(self, earlier: WaitOutcome | None) -> WaitOutcome:
        """This outcome, continuing ``earlier`` when both are the same failure: since the first,
        every failed read counted (one report for consecutive waits that each could not read)."""
        if earlier is None or earlier.end is not self.end or earlier.since is None or self.since is None:
            return self
        return replace(self, since=min(earlier.since, self.since), attempts=earlier.attempts + self.attempts)


def outcome_of(
    error: BaseException | None,
    jobs: Sequence[Job],
    *,
    url: str,
    timeout: float | None,
    unreachable_since: datetime | None = None,
) -> WaitOutcome:
    """How a wait for ``jobs`` ended, given what it raised (``None``: it returned).

    Args:
        error: the engine's ``JobStillActive``, ``SubmissionIncomplete`` or ``TimeoutError``, or a
            ``ServiceUnavailableError`` / ``NotFoundError`` from a single read.
        unreachable_since: when the service stopped answering, as the session saw it.

    Raises:
        BaseException: ``error`` itself when it is none of those (a bug or a refusal, not a wait).
    """
    done = sum(job.state.is_terminal for job in jobs)
    base = WaitOutcome(WaitEnd.FINISHED, url=url, total=len(jobs), done=done, timeout=timeout)
    active = [job for job in jobs if not job.state.is_terminal]
    unsent = [job for job in active if job.state is JobState.CREATED]
    if isinstance(error, JobStillActive):
        end = WaitEnd.UNKNOWN_TASK if isinstance(error.last_error, NotFoundError) else WaitEnd.UNREACHABLE
        return replace(
            base,
            end=end,
            jobs=tuple(error.jobs),
            state=_least_advanced(active),
            since=error.since,
            attempts=error.attempts,
            last_error=error.last_error,
        )
    if isinstance(error, NotFoundError):  # one read (no wait) answered 404
        return replace(
            base,
            end=WaitEnd.UNKNOWN_TASK,
            jobs=tuple(job for job in active if job.task_id is not None),
            state=_least_advanced(active),
            since=datetime.now(timezone.utc),
            attempts=1,
            last_error=error,
        )
    if isinstance(error, ServiceUnavailableError) and unsent:  # the first contact, before sending
        since = unreachable_since or datetime.now(timezone.utc)
        return _never_sent(base, unsent, since=since, attempts=1, last_error=error)
    if isinstance(error, ServiceUnavailableError):  # one read, or the first contact, got no answer
        return replace(
            base,
            end=WaitEnd.UNREACHABLE,
            jobs=tuple(active),
            state=_least_advanced(active),
            since=unreachable_since or datetime.now(timezone.utc),
            attempts=1,
            last_error=error,
        )
    if error is not None and not isinstance(error, TimeoutError):
        raise error
    errors = [job.last_submit_error for job in unsent if job.last_submit_error is not None]
    failing = isinstance(error, SubmissionIncomplete) or bool(errors) or unreachable_since is not None
    if unsent and error is not None and not failing:  # a submission still under way, and answered
        submitting = f"{len(unsent)} task(s) still being submitted"
        return replace(base, end=WaitEnd.STILL_RUNNING, state=JobState.CREATED, reason=submitting)
    if unsent and (error is not None or len(unsent) == len(active)):
        # Submission did not go through (SubmissionIncomplete, or a deadline that passed while
        # sending): the jobs wait CREATED, each with the reason its latest send failed.
        last: BaseException | None = errors[-1] if errors else error
        return _never_sent(base, unsent, since=unreachable_since, attempts=len(errors), last_error=last)
    if not active:
        return base
    closed = closed_window_text(active) if timeout else None  # the QPU is outside its window
    reason = closed.rstrip(".") if closed else _waiting_reason(active)
    return replace(base, end=WaitEnd.STILL_RUNNING, state=_least_advanced(active), reason=reason)


async def wait_outcome(
    waiting: Awaitable[object], jobs: Sequence[Job], *, service: Service, timeout: float | None
) -> WaitOutcome:
    """Run one engine wait for ``jobs`` and say how it ended (never raises for a wait's end).

    Args:
        waiting: the wait, e.g. ``composite.wait(timeout_s=5)`` (not yet awaited).
        jobs: the jobs it waits for.
        service: the session it waits through (its URL, and since when it stopped answering).
        timeout: the seconds it waits (for the words; ``waiting`` enforces it).
    """
    error: BaseException | None = None
    try:
        await waiting
    except (TimeoutError, ServiceUnavailableError, NotFoundError) as exc:
        logger.debug("The wait for %d job(s) ended with %s", len(jobs), type(exc).__name__)
        error = exc
    since = service.unreachable_since
    return outcome_of(error, jobs, url=service.url, timeout=timeout, unreachable_since=since)


def _never_sent(
    base: WaitOutcome,
    unsent: Sequence[Job],
    *,
    since: datetime | None,
    attempts: int,
    last_error: BaseException | None,
) -> WaitOutcome:
    return replace(
        base,
        end=WaitEnd.NEVER_SENT,
        jobs=tuple(unsent),
        state=JobState.CREATED,
        since=since,
        attempts=attempts,
        last_error=last_error,
        uncertain=sum(job.submit_uncertain for job in unsent),
    )


def _least_advanced(jobs: Sequence[Job]) -> JobState | None:
    order = (JobState.CREATED, JobState.UNKNOWN, JobState.SUBMITTED, JobState.RUNNING)
    states = {job.state for job in jobs}
    return next((state for state in order if state in states), None)


def _waiting_reason(jobs: Sequence[Job]) -> str | None:
    """Why the first queued job waits, when its queue was read."""
    return next((reason for job in jobs if (reason := job.waiting_reason()) is not None), None)


__all__ = ["Service", "WaitEnd", "WaitOutcome", "outcome_of", "wait_outcome"]
