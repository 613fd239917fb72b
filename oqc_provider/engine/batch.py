"""Moving many jobs at once: batched submission, group polling and grouped cancellation.

* Submission groups jobs by QPU and packs them into requests under the service's 128 KiB limit;
  each request first pre-allocates its task ids, so a failed or ambiguous submit can be resent
  with the same ids and never runs a program twice. Requests run concurrently up to a cap.
* Polling follows one job at a time per group (the oldest still running) and, when it finishes,
  fetches the next few together: a queue finishes roughly in order, so this costs about one
  request per job instead of one request stream per job.
* Deadlines are real: no request or sleep runs past the caller's timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.client import QcaasClient
from oqc_provider.qcaas.errors import OqcProviderError, RequestTooLargeError, TransientServerError
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job

logger = logging.getLogger("oqc_provider.engine")

T = TypeVar("T")

#: Room left in each request for headers, the URL and the JSON envelope.
_REQUEST_HEADROOM = 4 * 1024
#: Most tasks sent in one submit request, whatever their size.
MAX_TASKS_PER_REQUEST = 500


@dataclass(frozen=True)
class PollSchedule:
    """How often to ask the server about a job that has not finished.

    The first check is immediate; later ones back off from ``first`` by ``factor`` up to ``longest``.
    """

    first: float = 0.02
    factor: float = 2.0
    longest: float = 5.0
    #: Jobs fetched together once the one being followed has finished.
    window: int = 16

    def delays(self) -> Callable[[], float]:
        """A fresh sequence of waits."""
        current = self.first / self.factor

        def next_delay() -> float:
            nonlocal current
            current = min(self.longest, current * self.factor)
            return current

        return next_delay


def deadline_after(timeout_s: float | None) -> float | None:
    """The ``time.monotonic()`` instant ``timeout_s`` from now (``None``: no deadline)."""
    return None if timeout_s is None else time.monotonic() + timeout_s


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (a ``time.monotonic()`` instant), or ``None`` for no deadline."""
    return None if deadline is None else deadline - time.monotonic()


async def within(deadline: float | None, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, cancelling it at ``deadline`` with ``TimeoutError``."""
    left = remaining(deadline)
    if left is None:
        return await awaitable
    if left <= 0:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise TimeoutError("deadline reached")
    try:
        return await asyncio.wait_for(awaitable, left)
    except asyncio.TimeoutError:  # a distinct class before Python 3.11
        raise TimeoutError("deadline reached") from None


# --- submission ----------------------------------------------------------------------------------


def pack_requests(jobs: Sequence[Job]) -> tuple[list[tuple[str, list[tuple[Job, str]]]], list[Job]]:
    """Group jobs by QPU and pack each group into request-sized chunks.

    Returns the chunks as ``(qpu_id, [(job, config_json), ...])`` and the jobs too large to send.
    A config shared by many jobs is encoded once.
    """
    budget = MAX_REQUEST_BYTES - _REQUEST_HEADROOM
    encoded: dict[int, str] = {}
    by_qpu: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_qpu[job.qpu_id].append(job)
    chunks: list[tuple[str, list[tuple[Job, str]]]] = []
    too_large: list[Job] = []
    for qpu_id, group in by_qpu.items():
        current: list[tuple[Job, str]] = []
        size = 0
        for job in group:
            config = job.config_to_send()
            config_json = encoded.get(id(config))
            if config_json is None:
                config_json = encoded[id(config)] = config.to_json()
            # The task id is not known yet: count a UUID's worth of room for it.
            cost = len(json.dumps(job.payload(config_json).wire_dict())) + 64
            if cost > budget:
                too_large.append(job)
                continue
            if current and (size + cost > budget or len(current) >= MAX_TASKS_PER_REQUEST):
                chunks.append((qpu_id, current))
                current, size = [], 0
            current.append((job, config_json))
            size += cost
        if current:
            chunks.append((qpu_id, current))
    return chunks, too_large


async def submit_jobs(
    client: QcaasClient,
    jobs: Sequence[Job],
    *,
    concurrency: int,
    deadline: float | None,
    on_allocated: Callable[[Sequence[Job]], None] | None = None,
) -> None:
    """Submit jobs in batches; every failure is stored on the jobs it concerns, never raised.

    ``on_allocated`` is called with each chunk's jobs once their task ids are known and before
    the submit request is sent (the write-ahead hook of the local job store).
    """
    chunks, too_large = pack_requests(jobs)
    for job in too_large:
        job._fail_from_exception(
            RequestTooLargeError(
                f"The program is too large for one request ({MAX_REQUEST_BYTES} bytes at most); shorten it."
            )
        )
    gate = asyncio.Semaphore(concurrency)

    async def send(qpu_id: str, chunk: list[tuple[Job, str]]) -> None:
        members = [job for job, _ in chunk]
        async with gate:
            try:
                missing = [job for job in members if job.task_id is None]
                if missing:
                    ids = await within(deadline, client.create_task_ids(qpu_id, len(missing)))
                    for job, task_id in zip(missing, ids, strict=True):
                        job._mark_allocated(task_id)
                if on_allocated is not None:
                    on_allocated(members)
                payloads = [job.payload(config_json) for job, config_json in chunk]
                await within(deadline, client.submit_tasks(qpu_id, payloads, deadline=deadline))
            except (OqcProviderError, TimeoutError) as exc:
                logger.warning("Submitting %d task(s) to %s failed: %s", len(members), qpu_id, exc)
                for job in members:
                    if isinstance(exc, TimeoutError):
                        job._fail(-1, "Timed out submitting the task; execute() again to resend it safely.")
                    else:
                        job._fail_from_exception(exc)
                return
        for job in members:
            job._mark_submitted()

    await asyncio.gather(*(send(qpu_id, chunk) for qpu_id, chunk in chunks))


# --- polling -------------------------------------------------------------------------------------


async def wait_for(
    jobs: Sequence[Job],
    *,
    deadline: float | None,
    schedule: PollSchedule,
    concurrency: int,
) -> None:
    """Poll until every job has ended.

    Raises:
        TimeoutError: the deadline passed first; the jobs that had not ended stay active.
    """
    pending = [job for job in jobs if not job.state.is_terminal and job.task_id is not None]
    next_delay = schedule.delays()
    last_error: Exception | None = None
    gate = asyncio.Semaphore(concurrency)

    async def refresh(job: Job) -> None:
        nonlocal last_error
        async with gate:
            try:
                await within(deadline, job.refresh())
            except TransientServerError as exc:
                last_error = exc

    while pending:
        try:
            await refresh(pending[0])
        except TimeoutError:
            break
        if pending[0].state.is_terminal:
            # The followed job ended: the next ones in the queue have probably ended too.
            following = pending[1 : 1 + schedule.window]
            try:
                await asyncio.gather(*(refresh(job) for job in following))
            except TimeoutError:
                break
            pending = [job for job in pending if not job.state.is_terminal]
            next_delay = schedule.delays()
            continue
        left = remaining(deadline)
        delay = next_delay()
        if left is not None:
            if left <= 0:
                break
            delay = min(delay, left)
        await asyncio.sleep(delay)
    pending = [job for job in pending if not job.state.is_terminal]
    if pending:
        task_ids = ", ".join(str(job.task_id) for job in pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        detail = f": {last_error}" if last_error else ""
        raise TimeoutError(
            f"Timed out waiting for task {task_ids}{more}{detail}. "
            "The job(s) are still active: call execute() or wait() again to resume."
        )


# --- cancellation --------------------------------------------------------------------------------


async def cancel_jobs(client: QcaasClient, jobs: Sequence[Job], *, concurrency: int) -> None:
    """Ask the server to cancel the jobs' runs (one request per QPU), then record what it says.

    A run that finished first keeps its result: the state comes from the server, not from hope.
    """
    by_qpu: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        if job.task_id is not None and not job.state.is_terminal:
            by_qpu[job.qpu_id].append(job)
    await asyncio.gather(
        *(
            client.cancel_tasks(qpu_id, [job.task_id for job in group if job.task_id])
            for qpu_id, group in by_qpu.items()
        )
    )
    gate = asyncio.Semaphore(concurrency)

    async def confirm(job: Job) -> None:
        async with gate:
            await job.refresh()
        if not job.state.is_terminal:
            logger.warning(
                "Cancellation of task %s was requested; the server still reports %s.",
                job.task_id,
                job.state.value,
            )

    await asyncio.gather(*(confirm(job) for group in by_qpu.values() for job in group))


def group_states(jobs: Sequence[Job]) -> dict[JobState, int]:
    """How many jobs are in each state."""
    counts: dict[JobState, int] = dict.fromkeys(JobState, 0)
    for job in jobs:
        counts[job.state] += 1
    return counts
