"""Waiting for pytket handles' circuits: one polling loop for many, deadlines, a progress bar.

``get_results`` over many handles follows every unfinished circuit with one engine polling loop
(about one request per circuit) and shows a bar of circuits done in a terminal; ``get_result``
on one handle waits for that circuit alone, on the engine's back-off schedule or at the
caller's own polling interval (pytket's ``wait`` keyword).

A deadline that passes raises :class:`ResultTimeoutError` (:class:`ServiceUnreachableError` when
the service could not be reached meanwhile); the circuits keep running and their handles stay
valid, from any process.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from pytket.backends.status import CircuitStatus

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.errors import JobStillActive
from oqc_provider.engine.job import Job
from oqc_provider.engine.progress import progress_for
from oqc_provider.engine.queues import closed_window_text
from oqc_provider.engine.states import JobState
from oqc_provider.pytket.errors import ResultTimeoutError, ServiceUnreachableError
from oqc_provider.pytket.handles import STATUS_OF_STATE
from oqc_provider.qcaas.errors import OqcProviderError
from oqc_provider.session import ProviderSession
from oqc_provider.unreachable import unreachable_message

logger = logging.getLogger("oqc_provider.pytket")

RESUME = (
    "call get_result(s) again with the same handles (they are valid in any process, with a new "
    "backend), or `oqc-provider jobs result ID --wait 60` with the batch's id from `oqc-provider jobs list`."
)
SAVED = "Its batch is saved in the local job store."


def _unreachable(error: JobStillActive, subject: str) -> ServiceUnreachableError:
    return ServiceUnreachableError(
        unreachable_message(error, subject=subject, saved=SAVED, resume=RESUME),
        url=error.url,
        since=error.since,
        attempts=error.attempts,
        last_error=error.last_error,
    )


def wait_for_jobs(session: ProviderSession, jobs: list[Job], timeout: float | None, qpu_name: str) -> None:
    """Wait until every job has ended, with a progress bar when there are several.

    Raises:
        ServiceUnreachableError: ``timeout`` seconds passed while the service could not be reached.
        ResultTimeoutError: ``timeout`` seconds passed first.
    """
    # A view over jobs that may come from several batches, so that one bar counts them all.
    view = CompositeJob(jobs, session.sdk)
    try:
        with progress_for(view, enabled=None if len(jobs) > 1 else False, description=qpu_name):
            session.run(session.sdk.wait_for(jobs, timeout))
    except JobStillActive as exc:
        done = sum(job.state.is_terminal for job in jobs)
        raise _unreachable(exc, f"{len(jobs) - done} of {len(jobs)} circuits on {qpu_name}") from exc
    except TimeoutError:
        done = sum(job.state.is_terminal for job in jobs)
        raise ResultTimeoutError(
            f"{len(jobs) - done} of {len(jobs)} circuits on {qpu_name} had not finished after {timeout} s; "
            f"{_closed(jobs)}they keep running: call get_results again (from any process) to collect them."
        ) from None


def wait_for_job(
    session: ProviderSession, job: Job, timeout: float | None, interval: float | None, qpu_name: str
) -> None:
    """Wait until ``job`` has ended, sending it first if it was recorded but never accepted.

    Args:
        interval: seconds between polls; ``None`` follows the engine's back-off schedule.

    Raises:
        ServiceUnreachableError: ``timeout`` seconds passed while the service could not be reached.
        ResultTimeoutError: ``timeout`` seconds passed first.
    """
    try:
        if job.state is JobState.CREATED:  # recorded but never accepted: send it (same task id)
            session.run(job.submit())
        if interval is None:
            session.run(session.sdk.wait_for([job], timeout))
        else:
            _poll(session, job, timeout, interval)
    except JobStillActive as exc:
        raise _unreachable(exc, f"Task {job.task_id} on {qpu_name}") from exc
    except TimeoutError:
        raise ResultTimeoutError(
            f"Task {job.task_id} on {qpu_name} had not finished after {timeout} s; {_closed([job])}it keeps "
            "running: call get_result again (from any process) to collect it."
        ) from None


def _closed(jobs: list[Job]) -> str:
    """``"<QPU> is outside its execution window: next window opens ... "`` for a timeout, or nothing."""
    text = closed_window_text(jobs)
    return f"{text} " if text else ""


def read_queue(session: ProviderSession, job: Job) -> None:
    """Read the queue of the QPU a queued job waits on (noted on ``job.queue``; failures only logged)."""
    if job.state is JobState.SUBMITTED:
        session.run(CompositeJob([job], session.sdk).read_queue())


def _poll(session: ProviderSession, job: Job, timeout: float | None, interval: float) -> None:
    """Read ``job`` every ``interval`` seconds until it ends.

    A failed read changes nothing on the job (as in the engine's own loop): it is counted, and
    reading goes on until the deadline, which then raises ``JobStillActive`` instead of a plain
    ``TimeoutError`` when the latest read failed.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    since: datetime | None = None
    attempts = 0
    while True:
        try:
            session.run(job.refresh(deadline=deadline))  # no retry of a read runs past the deadline
        except OqcProviderError as exc:
            since = since or datetime.now(timezone.utc)
            attempts += 1
            last_error: BaseException = exc
            logger.info("Reading task %s failed (%s); it stays active, retrying", job.task_id, exc)
        else:
            since, attempts = None, 0
            if job.state.is_terminal:
                return
        if deadline is not None and time.monotonic() >= deadline:
            if since is not None:
                url = session.sdk.connection.url
                raise JobStillActive([job], url=url, since=since, attempts=attempts, last_error=last_error)
            raise TimeoutError
        pause = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
        time.sleep(pause)  # the caller's requested polling interval


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
