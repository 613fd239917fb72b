"""Waiting for pytket handles' circuits: deadlines, a progress bar, and pytket's errors.

``get_results`` over many handles follows every unfinished circuit with the engine's one polling
loop (about one request per circuit) and shows a bar of circuits done in a terminal;
``get_result`` on one handle waits for that circuit alone, on the engine's back-off schedule or at
the caller's own polling interval (pytket's ``wait`` keyword), through the same loop.

A wait that ends short of the result raises, with the words of :mod:`oqc_provider.wait_messages`:
:class:`ResultTimeoutError` for a slow queue, :class:`ServiceUnreachableError` when the service
stopped answering, :class:`CircuitsNotSentError` when circuits could not be sent, and
:class:`TaskUnknownError` when the service no longer knows the tasks. The circuits' handles stay
valid, from any process.
"""

from __future__ import annotations

import logging

from pytket.backends.status import CircuitStatus

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.job import Job
from oqc_provider.engine.polling import PollSchedule, deadline_after, remaining
from oqc_provider.engine.progress import progress_for
from oqc_provider.engine.states import JobState
from oqc_provider.engine.waiting import WaitEnd, WaitOutcome, wait_outcome
from oqc_provider.pytket.errors import (
    CircuitsNotSentError,
    ResultTimeoutError,
    ServiceUnreachableError,
    TaskUnknownError,
)
from oqc_provider.pytket.handles import STATUS_OF_STATE
from oqc_provider.session import ProviderSession
from oqc_provider.wait_messages import NextSteps, wait_message

logger = logging.getLogger("oqc_provider.pytket")

RESUME = (
    "call get_result(s) again with the same handles (they are valid in any process, with a new "
    "backend), or `oqc-provider jobs result ID --wait 60` with the batch's id from `oqc-provider jobs list`."
)
SAVED = "Its batch is saved in the local job store."
DROP = (
    "call backend.cancel(handle) for each handle (or `oqc-provider jobs cancel ID` with the batch's id "
    "from `oqc-provider jobs list`)."
)
RESUBMIT = "process the circuits again with process_circuits()."
#: The longest a single circuit's (re)submission may take inside a get_result call.
SUBMIT_TIMEOUT = 30.0


def raise_for(outcome: WaitOutcome, subject: str) -> None:
    """Raise pytket's error for a wait that did not finish (nothing when it did)."""
    if outcome.finished:
        return
    message = wait_message(outcome, NextSteps(subject, SAVED, RESUME, DROP, RESUBMIT))
    if outcome.end is WaitEnd.UNKNOWN_TASK:
        raise TaskUnknownError(message, url=outcome.url, task_ids=outcome.task_ids)
    if outcome.end in (WaitEnd.NEVER_SENT, WaitEnd.UNREACHABLE):
        kind = CircuitsNotSentError if outcome.end is WaitEnd.NEVER_SENT else ServiceUnreachableError
        raise kind(
            message,
            url=outcome.url,
            since=outcome.since,
            attempts=outcome.attempts,
            last_error=outcome.last_error,
        )
    raise ResultTimeoutError(message)


def wait_for_jobs(session: ProviderSession, jobs: list[Job], timeout: float | None, qpu_name: str) -> None:
    """Wait until every job has ended, with a progress bar when there are several.

    Raises:
        ServiceUnreachableError: ``timeout`` seconds passed while the service could not be reached.
        TaskUnknownError: the service does not know the tasks (404).
        ResultTimeoutError: ``timeout`` seconds passed first.
    """
    # A view over jobs that may come from several batches, so that one bar counts them all.
    view = CompositeJob(jobs, session.sdk)
    sdk = session.sdk
    with progress_for(view, enabled=None if len(jobs) > 1 else False, description=qpu_name):
        outcome = session.run(wait_outcome(sdk.wait_for(jobs, timeout), jobs, service=sdk, timeout=timeout))
    raise_for(outcome, f"{len(jobs)} circuit(s) on {qpu_name}")


def wait_for_job(
    session: ProviderSession, job: Job, timeout: float | None, interval: float | None, qpu_name: str
) -> None:
    """Wait until ``job`` has ended, sending it first if it was recorded but never accepted.

    Args:
        interval: seconds between polls; ``None`` follows the engine's back-off schedule.

    Raises:
        CircuitsNotSentError: the circuit could not be sent (the service could not be reached).
        ServiceUnreachableError: ``timeout`` seconds passed while the service could not be reached.
        TaskUnknownError: the service does not know the task (404).
        ResultTimeoutError: ``timeout`` seconds passed first.
    """
    deadline = deadline_after(timeout)
    schedule = (
        None
        if interval is None
        else PollSchedule(first=interval, factor=1.0, longest=interval, floor=interval)
    )

    async def wait() -> None:
        if job.state is JobState.CREATED:  # recorded but never accepted: send it (same task id)
            left = remaining(deadline)
            await job.submit(
                timeout_s=SUBMIT_TIMEOUT if left is None else max(0.001, min(SUBMIT_TIMEOUT, left))
            )
        await session.sdk.wait_for([job], timeout, deadline=deadline, schedule=schedule)

    outcome = session.run(wait_outcome(wait(), [job], service=session.sdk, timeout=timeout))
    raise_for(outcome, f"Task {job.task_id} on {qpu_name}" if job.task_id else f"A circuit for {qpu_name}")


def read_queue(session: ProviderSession, job: Job) -> None:
    """Read the queue of the QPU a queued job waits on (noted on ``job.queue``; failures only logged)."""
    if job.state is JobState.SUBMITTED:
        session.run(CompositeJob([job], session.sdk).read_queue())


def status_of(job: Job) -> CircuitStatus:
    """The job's state as a pytket ``CircuitStatus``, with the server's message on failure."""
    status = STATUS_OF_STATE[job.state]
    if job.error is not None:
        message = job.error.error_message or "The circuit failed."
        return CircuitStatus(
            status, message, error_detail=f"code {job.error.error_code}", error_time=job.error.received
        )
    if job.state is JobState.COMPLETED and job.result is not None:
        return CircuitStatus(status, f"Task {job.task_id} completed.", completed_time=job.result.received)
    reason = job.waiting_reason()
    if reason is not None:
        return CircuitStatus(status, f"Task {job.task_id} on {job.qpu_id} is {reason}.")
    return CircuitStatus(status, f"Task {job.task_id} is {job.state.value} on {job.qpu_id}.")
