"""Moving many jobs at once: batched submission and grouped cancellation (polling: :mod:`.polling`).

* Submission groups jobs by QPU and packs them into requests under the service's 128 KiB limit;
  each request first pre-allocates its task ids, so the server can be asked about each one.
* Exactly once without trusting the server to de-duplicate: a submit is never resent blindly
  (the protocol does not say what a server does with an id it already has: answer it, refuse it
  with 409, or run it again). After an ambiguous failure (a timeout, a dropped connection, a
  5xx or 429, an answer it cannot read: the server may have taken it) the engine asks the
  server about each id (``GET .../status``) and sends only those it reports CREATED. Ids whose
  fate cannot be learnt stay CREATED and are marked ``submit_uncertain`` (kept in snapshots);
  they are asked about again before any later send, in this process or after a resume.
* A definitive rejection (4xx) fails only the jobs the server confirms it does not have.
* Deadlines are real: no request or sleep runs past the caller's deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from oqc_provider.engine.polling import PollSchedule, deadline_after, remaining, wait_for, within
from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.client import QcaasClient
from oqc_provider.qcaas.errors import (
    OqcProviderError,
    ProtocolError,
    QcaasError,
    RequestTooLargeError,
    ServerError,
    TransientServerError,
)
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES, TaskPayload, encode_body
from oqc_provider.qcaas.retry import provably_unsent

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job

logger = logging.getLogger("oqc_provider.engine")

#: Room left in each request for headers, the URL and the JSON envelope.
_REQUEST_HEADROOM = 4 * 1024
#: Most tasks sent in one submit request, whatever their size.
MAX_TASKS_PER_REQUEST = 500
#: Rounds (ask the server, send what it lacks) per chunk before leaving the rest for later.
SUBMIT_ROUNDS = 3


# --- submission ----------------------------------------------------------------------------------


#: One request's worth of jobs for one QPU, each with its payload (built once, without a task id).
Chunk = tuple[str, list[tuple["Job", TaskPayload]]]


def pack_requests(jobs: Sequence[Job]) -> tuple[list[Chunk], list[Job]]:
    """Group jobs by QPU and pack each group into request-sized chunks.

    Returns the chunks as ``(qpu_id, [(job, payload), ...])`` and the jobs too large to send.
    Each payload is built once, here (the task id is filled in when it is sent); a config shared
    by many jobs is encoded once.
    """
    budget = MAX_REQUEST_BYTES - _REQUEST_HEADROOM
    encoded: dict[int, str] = {}
    by_qpu: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_qpu[job.qpu_id].append(job)
    chunks: list[Chunk] = []
    too_large: list[Job] = []
    for qpu_id, group in by_qpu.items():
        current: list[tuple[Job, TaskPayload]] = []
        size = 0
        for job in group:
            config = job.config_to_send()
            config_json = encoded.get(id(config))
            if config_json is None:
                config_json = encoded[id(config)] = config.to_json()
            payload = job.payload(config_json)
            # The task id is not known yet: count a UUID's worth of room for it.
            cost = len(encode_body(payload.wire_dict())) + 64
            if cost > budget:
                too_large.append(job)
                continue
            if current and (size + cost > budget or len(current) >= MAX_TASKS_PER_REQUEST):
                chunks.append((qpu_id, current))
                current, size = [], 0
            current.append((job, payload))
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

    A job that already held an id when called may have reached the server before (an earlier
    ambiguous submit, or a process that died after sending): it is asked about first.
    """
    chunks, too_large = pack_requests(jobs)
    for job in too_large:
        job.failed(
            RequestTooLargeError(
                f"The program is too large for one request ({MAX_REQUEST_BYTES} bytes at most); shorten it."
            )
        )
    gate = asyncio.Semaphore(concurrency)
    #: Jobs whose id provably never reached the server (allocated here, or asked and CREATED).
    unsent: set[int] = set()

    def failed(members: Sequence[Job], qpu_id: str, exc: Exception) -> None:
        # Nothing was submitted: ids (if any) are merely allocated, and run nothing.
        logger.warning("Preparing %d task(s) for %s failed: %s", len(members), qpu_id, exc)
        for job in members:
            if _definitive(exc):
                job.failed(exc)
            else:
                job.not_sent(exc)

    async def allocate(qpu_id: str, members: list[Job]) -> None:
        async with gate:
            try:
                ids = await within(deadline, client.create_task_ids(qpu_id, len(members)))
            except (OqcProviderError, TimeoutError) as exc:
                failed(members, qpu_id, exc)
                return
        for job, task_id in zip(members, ids, strict=True):
            job.allocated(task_id)
            unsent.add(id(job))

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
                (job, payload)
                for job, payload in chunk
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

    async def send(qpu_id: str, chunk: list[tuple[Job, TaskPayload]]) -> None:
        async with gate:
            await _submit_chunk(client, qpu_id, chunk, deadline, unsent)

    await asyncio.gather(*(send(qpu_id, chunk) for qpu_id, chunk in ready))


def _definitive(exc: BaseException) -> bool:
    """Whether ``exc`` proves the request was refused (4xx, or refused before sending).

    Timeouts, dropped connections, 5xx and 429 are not: the server may have acted on it. Nor is
    an answer this client cannot read (a 200 with an unreadable body or an unexpected shape,
    :class:`~oqc_provider.qcaas.errors.ProtocolError`): the server answered, so it may well have
    taken the tasks.
    """
    if isinstance(exc, TransientServerError | TimeoutError | ProtocolError):
        return False
    if isinstance(exc, ServerError):
        return 400 <= exc.status_code < 500
    return isinstance(exc, OqcProviderError) and not isinstance(exc, QcaasError)


def _never_left(exc: BaseException) -> bool:
    """Whether the request provably never reached the server: the connection was refused, or the
    client refused it before sending (a configuration error, a request too large). Any error about
    an answer (:class:`~oqc_provider.qcaas.errors.QcaasError`) means something arrived."""
    return provably_unsent(exc) or (isinstance(exc, OqcProviderError) and not isinstance(exc, QcaasError))


async def _submit_chunk(
    client: QcaasClient,
    qpu_id: str,
    chunk: list[tuple[Job, TaskPayload]],
    deadline: float | None,
    unsent: set[int],
) -> None:
    """Submit one request's worth of jobs (all holding ids) without ever sending an id twice.

    Each round first asks the server about every id that may have reached it, then sends the ids
    known not to have; the rounds stop after ``SUBMIT_ROUNDS``, at the deadline, or when nothing
    is left. What is left stays CREATED with its id, for a later call (which asks again first).
    """
    pending = chunk
    for round_number in range(1, SUBMIT_ROUNDS + 1):
        doubtful = [job for job, _ in pending if id(job) not in unsent]
        if doubtful:
            known, absent, _unclear = await _ask_server(client, qpu_id, doubtful, deadline)
            for job in known:
                job.submitted()
            unsent.update(id(job) for job in absent)
        sendable = [(job, payload) for job, payload in pending if id(job) in unsent]
        if sendable:
            await _send_once(client, qpu_id, sendable, deadline, unsent, round_number)
        pending = [(job, payload) for job, payload in pending if job.state is JobState.CREATED]
        left = remaining(deadline)
        if not pending or round_number == SUBMIT_ROUNDS or (left is not None and left <= 0):
            return
        wait = client.retry_policy.backoff(round_number)
        await asyncio.sleep(wait if left is None else min(wait, left))


async def _send_once(
    client: QcaasClient,
    qpu_id: str,
    sendable: list[tuple[Job, TaskPayload]],
    deadline: float | None,
    unsent: set[int],
    round_number: int,
) -> None:
    """One submit request for ids known not to be on the server; a failure is stored, not raised."""
    members = [job for job, _ in sendable]
    try:
        payloads = [payload.model_copy(update={"task_id": str(job.task_id)}) for job, payload in sendable]
        await within(deadline, client.submit_tasks(qpu_id, payloads, deadline=deadline))
    except (OqcProviderError, TimeoutError) as exc:
        logger.warning(
            "Submitting %d task(s) to %s failed (round %d): %s", len(members), qpu_id, round_number, exc
        )
        if _never_left(exc):
            for job in members:
                if _definitive(exc):
                    job.failed(exc)
                else:
                    job.not_sent(exc)
            return
        # The server may have taken them: from now on they are asked about before any send.
        for job in members:
            unsent.discard(id(job))
            job.may_have_been_sent(exc)
        if _definitive(exc):
            # Even a 4xx is checked against the server: only the ids it lacks are failed.
            known, absent, _unclear = await _ask_server(client, qpu_id, members, deadline)
            for job in known:
                job.submitted()
            for job in absent:
                job.failed(exc)
        return
    for job in members:
        job.submitted()


async def _ask_server(
    client: QcaasClient, qpu_id: str, jobs: Sequence[Job], deadline: float | None
) -> tuple[list[Job], list[Job], list[Job]]:
    """Ask the server which of ``jobs``' pre-allocated ids it has taken (``GET .../status``).

    Returns ``(known, absent, unclear)``: ids past CREATED on the server; ids it holds only as
    allocated (CREATED: never submitted, safe to send); ids whose fate could not be learnt (no
    answer, a 404 that may be a proxy's, a status it does not define). Unclear jobs keep their
    ids, stay CREATED and are marked ``submit_uncertain``: never resent until the server answers.
    """
    gate = asyncio.Semaphore(8)
    known: list[Job] = []
    absent: list[Job] = []
    unclear: list[Job] = []

    async def ask(job: Job) -> None:
        assert job.task_id is not None
        async with gate:
            try:
                status = await within(
                    deadline, client.get_task_status(qpu_id, job.task_id, deadline=deadline)
                )
            except (OqcProviderError, TimeoutError) as exc:
                logger.warning("Could not learn whether task %s reached %s: %s", job.task_id, qpu_id, exc)
                unclear.append(job)
                job.may_have_been_sent(exc)
                return
        status = status.upper()
        if status == "CREATED":
            absent.append(job)
            job.not_on_server()
        elif status == "UNKNOWN":
            unclear.append(job)
            job.may_have_been_sent(ProtocolError(f"the server reports task {job.task_id} as UNKNOWN"))
        else:
            known.append(job)  # submitted() follows, which also clears the doubt

    await asyncio.gather(*(ask(job) for job in jobs if job.task_id is not None))
    return known, absent, unclear


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
            try:
                await job.refresh()
            except OqcProviderError as exc:
                # The server took the cancellation; only reading the task back failed. Record it
                # as OQC's SDK does (cancelled locally), so the job can be run afresh.
                logger.warning("Task %s: cancel sent, but the task could not be read (%s)", job.task_id, exc)
                job.cancelled_locally()
                return
        if not job.state.is_terminal:
            logger.warning(
                "Cancellation of task %s was requested; the server still reports %s.",
                job.task_id,
                job.state.value,
            )

    await asyncio.gather(*(confirm(job) for group in by_qpu.values() for job in group))


__all__ = [
    "PollSchedule",
    "cancel_jobs",
    "deadline_after",
    "group_states",
    "pack_requests",
    "remaining",
    "submit_jobs",
    "wait_for",
    "within",
]


def group_states(jobs: Sequence[Job]) -> dict[JobState, int]:
    """How many jobs are in each state."""
    counts: dict[JobState, int] = dict.fromkeys(JobState, 0)
    for job in jobs:
        counts[job.state] += 1
    return counts
