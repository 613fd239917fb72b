"""The Qiskit errors for a wait that ended short of the result, one per engine wait outcome.

:meth:`OQCJob.result` and :meth:`OQCJob.wait_for_final_state` wait through the engine
(:mod:`oqc_provider.engine.waiting`) and raise, with the words of :mod:`oqc_provider.wait_messages`:

* :class:`OQCJobTimeoutError` (a Qiskit ``JobTimeoutError``): the queue is slow; the job goes on;
* :class:`OQCServiceUnreachableError` (a timeout too): the service stopped answering;
* :class:`OQCJobNotSentError` (an unreachable error too): the service could not be reached while the
  job was being submitted, so (some of) its circuits were never sent;
* :class:`OQCTaskUnknownError` (a Qiskit ``JobError``): the service no longer knows the tasks;
  waiting cannot help.

Example:
    >>> issubclass(OQCJobNotSentError, OQCServiceUnreachableError)
    True
    >>> from qiskit.providers import JobError
    >>> issubclass(OQCTaskUnknownError, JobError)
    True
"""

from __future__ import annotations

from datetime import datetime

from qiskit.providers import JobError, JobTimeoutError

from oqc_provider.engine.waiting import WaitEnd, WaitOutcome
from oqc_provider.errors import OqcProviderError
from oqc_provider.wait_messages import NextSteps, wait_message


class OQCJobTimeoutError(OqcProviderError, JobTimeoutError):
    """``result(timeout=...)`` gave up waiting; the job goes on and can be waited for again."""


class OQCServiceUnreachableError(OQCJobTimeoutError):
    """``result(timeout=...)`` gave up because the service could not be reached, not because the
    queue is slow: nobody knows how the job is doing. It stays active and saved; wait again once
    the service is back.

    Attributes:
        url: the service asked.
        since: when the service stopped answering (UTC; ``None`` when it answered, but refused).
        attempts: how many requests failed.
        last_error: the last failure.
        outcome: the engine's account of the wait.
    """

    def __init__(self, message: str, outcome: WaitOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.url = outcome.url
        self.since: datetime | None = outcome.since
        self.attempts = outcome.attempts
        self.last_error = outcome.last_error


class OQCJobNotSentError(OQCServiceUnreachableError):
    """Some circuits were never sent: the service could not be reached (or did not take them)
    while submitting. They keep their task ids and stay saved: ``result()`` again, once the
    service is back, sends only what the service does not have."""


class OQCTaskUnknownError(OqcProviderError, JobError):
    """The service does not know the job's tasks (404): an in-memory emulator restarted, or the
    tasks were purged. Waiting cannot help: cancel the job and run the circuits again.

    Attributes:
        url: the service asked.
        task_ids: the tasks it does not know.
        outcome: the engine's account of the wait.
    """

    def __init__(self, message: str, outcome: WaitOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.url = outcome.url
        self.task_ids = outcome.task_ids


def wait_error(outcome: WaitOutcome, job_id: str) -> OqcProviderError:
    """The error ``result()`` raises for a wait that did not finish."""
    steps = NextSteps(
        subject=f"Job {job_id}",
        saved="It is saved in the local job store.",
        resume=f"call result() again, or backend.retrieve_job({job_id!r}).result() "
        f"(or `oqc-provider jobs result {job_id} --wait 60`) from any process.",
        drop=f"job.cancel() (or `oqc-provider jobs cancel {job_id}`).",
        resubmit="run the circuits again with backend.run().",
    )
    message = wait_message(outcome, steps)
    if outcome.end is WaitEnd.UNKNOWN_TASK:
        return OQCTaskUnknownError(message, outcome)
    if outcome.end is WaitEnd.NEVER_SENT:
        return OQCJobNotSentError(message, outcome)
    if outcome.end is WaitEnd.UNREACHABLE:
        return OQCServiceUnreachableError(message, outcome)
    return OQCJobTimeoutError(message)


__all__ = [
    "OQCJobNotSentError",
    "OQCJobTimeoutError",
    "OQCServiceUnreachableError",
    "OQCTaskUnknownError",
    "wait_error",
]
