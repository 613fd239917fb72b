"""Moving many jobs at once: batched submission, group polling and grouped cancellation.

* Submission groups jobs by QPU and packs them into requests under the service's 128 KiB limit;
  each request first pre-allocates its task ids, so a failed or ambiguous submit can be resent
  with the same ids and never runs a program twice. Requests run concurrently up to a cap.
* A submit that fails for good is never assumed lost: the server is asked about the ids it
  carried. Ids it knows are SUBMITTED; the others stay CREATED *with their ids*, so the next
  submission resends the same ids; only a definitive rejection (4xx) marks a job FAILED. A FAILED
  job is the only kind a later ``execute()`` gives a new id, so no program ever runs twice.
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

from oqc_provider.engine.errors import SubmissionIncomplete
from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.client import QcaasClient
from oqc_provider.qcaas.errors import (
    NotFoundError,
    OqcProviderError,
    RequestTooLargeError,
    ServerError,
    TransientServerError,
)
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from oqc_provider.qcaas.retry import provably_unsent

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job

logger = logging.getLogger("oqc_provider.engine")

T = TypeVar("T")

#: Room left in each request for headers, the URL and the JSON envelope.
_REQUEST_HEADROOM = 4 * 1024
#: Most tasks sent in one submit request, whatever their size.
MAX_TASKS_PER_REQUEST = 500
#: Submit rounds per chunk (each already retried by the wire layer) before leaving it for later.
SUBMIT_ROUNDS = 3
#: Seconds granted to asking the server about ids after the caller's deadline has passed.
RECONCILE_GRACE = 15.0


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

    Every missing task id is allocated first (one request per QPU and ``MAX_TASKS_PER_REQUEST``
    jobs), then ``on_allocated`` is called ONCE with every job holding an id, before any submit
    request is sent (the write-ahead hook of the local job store). One write per batch, not one
    per request-sized chunk: the store rewrites the whole batch each time, so a write per chunk
    made submission quadratic in the batch size (minutes for 10,000 circuits).
    """
    chunks, too_large = pack_requests(jobs)
    for job in too_large:
        job._fail_from_exception(
            RequestTooLargeError(
                f"The program is too large for one request ({MAX_REQUEST_BYTES} bytes at most); shorten it."
            )
        )
    gate = asyncio.Semaphore(concurrency)

    def failed(members: Sequence[Job], qpu_id: str, exc: BaseException) -> None:
        # Nothing was submitted: ids (if any) are merely allocated, and run nothing.
        logger.warning("Preparing %d task(s) for %s failed: %s", len(members), qpu_id, exc)
        for job in members:
            if _definitive(exc):
                job._fail_from_exception(exc)
            else:
                job.last_submit_error = exc

    async def allocate(qpu_id: str, members: list[Job]) -> None:
        async with gate:
            try:
                ids = await within(deadline, client.create_task_ids(qpu_id, len(members)))
            except (OqcProviderError, TimeoutError) as exc:
                failed(members, qpu_id, exc)
                return
        for job, task_id in zip(members, ids, strict=True):
            job._mark_allocated(task_id)

    missing: dict[str, list[Job]] = defaultdict(list)
    for qpu_id, chunk in chunks:
        missing[qpu_id].extend(job for job, _ in chunk if job.task_id is None)
    await asyncio.gather(
        *(
            allocate(qpu_id, group[start : start + MAX_TASKS_PER_REQUEST])
            for qpu_id, group in missing.items()
            for start in range(0, len(group), MAX_TASKS_PER_REQUEST)
        )
    )
    ready = [
        (
            qpu_id,
            [
                (job, config)
                for job, config in chunk
                if job.task_id is not None and job.state is JobState.CREATED
            ],
        )
        for qpu_id, chunk in chunks
    ]
    ready = [(qpu_id, chunk) for qpu_id, chunk in ready if chunk]
    if on_allocated is not None and ready:
        members = [job for _, chunk in ready for job, _ in chunk]
        try:
            on_allocated(members)
        except (OqcProviderError, TimeoutError) as exc:
            failed(members, "the local job store", exc)
            return

    async def send(qpu_id: str, chunk: list[tuple[Job, str]]) -> None:
        async with gate:
            await _submit_chunk(client, qpu_id, chunk, deadline)

    await asyncio.gather(*(send(qpu_id, chunk) for qpu_id, chunk in ready))


def _definitive(exc: BaseException) -> bool:
    """Whether ``exc`` proves the request was refused (4xx, or refused before sending).

    Timeouts, dropped connections, 5xx and 429 are not: the server may have acted on it.
    """
    if isinstance(exc, TransientServerError | TimeoutError):
        return False
    if isinstance(exc, ServerError):
        return 400 <= exc.status_code < 500
    return isinstance(exc, OqcProviderError) and not isinstance(exc, ServerError)


async def _submit_chunk(
    client: QcaasClient, qpu_id: str, chunk: list[tuple[Job, str]], deadline: float | None
) -> None:
    """Submit one request's worth of jobs (all holding ids), reconciling after any failure."""
    pending = chunk
    for round_number in range(1, SUBMIT_ROUNDS + 1):
        members = [job for job, _ in pending]
        try:
            payloads = [job.payload(config_json) for job, config_json in pending]
            await within(deadline, client.submit_tasks(qpu_id, payloads, deadline=deadline))
        except (OqcProviderError, TimeoutError) as exc:
            logger.warning(
                "Submitting %d task(s) to %s failed (round %d): %s", len(members), qpu_id, round_number, exc
            )
            known, unknown = await _reconcile(client, qpu_id, members, exc)
            for job in known:
                job._mark_submitted()
            if known:
                logger.info(
                    "%d of %d task(s) had reached %s despite the error", len(known), len(members), qpu_id
                )
            if _definitive(exc):
                for job in unknown:
                    job._fail_from_exception(exc)
                return
            for job in members:
                if job.state is JobState.CREATED:
                    job.last_submit_error = exc
            pending = [(job, config_json) for job, config_json in pending if job.state is JobState.CREATED]
            left = remaining(deadline)
            if not pending or (left is not None and left <= 0):
                return
            wait = client.retry_policy.backoff(round_number)
            await asyncio.sleep(wait if left is None else min(wait, left))
            continue
        for job in members:
            job.last_submit_error = None
            job._mark_submitted()
        return


async def _reconcile(
    client: QcaasClient, qpu_id: str, jobs: Sequence[Job], error: BaseException
) -> tuple[list[Job], list[Job]]:
    """Ask the server which of ``jobs``' pre-allocated ids it has accepted.

    Returns ``(known, unknown)``: ids past CREATED on the server, and ids it holds only as
    allocated (or not at all). Jobs whose fate cannot be learnt now are in neither list: they keep
    their ids and CREATED state, which is always safe (a resend with the same id cannot duplicate).
    """
    if provably_unsent(error) or isinstance(error, RequestTooLargeError):
        return [], list(jobs)  # the request never left this machine
    gate = asyncio.Semaphore(8)
    known: list[Job] = []
    unknown: list[Job] = []
    budget = time.monotonic() + RECONCILE_GRACE

    async def ask(job: Job) -> None:
        assert job.task_id is not None
        async with gate:
            try:
                status = await within(budget, client.get_task_status(qpu_id, job.task_id, deadline=budget))
            except NotFoundError:
                unknown.append(job)
                return
            except (OqcProviderError, TimeoutError) as exc:
                logger.warning("Could not learn whether task %s reached %s: %s", job.task_id, qpu_id, exc)
                return
        (unknown if status.upper() in ("CREATED", "UNKNOWN") else known).append(job)

    await asyncio.gather(*(ask(job) for job in jobs if job.task_id is not None))
    return known, unknown


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
    # A CREATED job holding an id was never accepted (its submit failed): polling it would only
    # hear CREATED until the deadline. It is reported below, to be resent with the same id.
    unsent = [job for job in jobs if job.state is JobState.CREATED]
    pending = [
        job
        for job in jobs
        if not job.state.is_terminal and job.state is not JobState.CREATED and job.task_id is not None
    ]
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
    if unsent and not pending:
        raise SubmissionIncomplete(unsent)
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
