"""``OqcSdk``: the entry point of the job engine, API-compatible with OQC's ``oqc-qcaas-sdk``.

Code written for OQC's SDK runs after changing only its imports. With no URL configured it talks
to the built-in emulator in-process, so the same code runs offline without an account.

Example:
    >>> import asyncio, os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> from oqc_provider.engine import OqcSdk
    >>> program = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'
    >>> async def main():
    ...     async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
    ...         job = sdk.create_job(program=program)
    ...         await job.execute(timeout_s=30)
    ...         return job.result.data
    >>> asyncio.run(main())
    {'c': {'1': 1000}}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from oqc_provider.connection import Connection, resolve_connection
from oqc_provider.engine import batch, queues
from oqc_provider.engine.broadcast import broadcast, is_broadcast
from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.dispatch import AllocationHook
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.events import flush, grouped
from oqc_provider.engine.job import Job
from oqc_provider.engine.pricing import PriceBook
from oqc_provider.engine.progress import progress_for
from oqc_provider.engine.qpu_queries import QpuQueries
from oqc_provider.engine.snapshots import AnySnapshot, CompositeJobSnapshot, parse_snapshot, read_snapshot
from oqc_provider.engine.store import JobStore, Record, StoreEntry, record, track
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.client import QcaasClient, ServerMode
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qcaas.retry import RetryPolicy

logger = logging.getLogger("oqc_provider.engine")

JobT = TypeVar("JobT", Job, CompositeJob)


class OqcSdk(QpuQueries):
    """A session with QCaaS (or the built-in emulator): creates, runs, saves and loads jobs.

    What it can ask about QPUs (features, prices, cost, queues) comes from
    :class:`~oqc_provider.engine.qpu_queries.QpuQueries`.

    Args:
        url: the service URL; ``None`` reads ``OQC_URL``, and without it uses the built-in emulator.
        authentication_token: the API token; ``None`` reads ``OQC_AUTHENTICATION_TOKEN``.
        default_qpu_id: the QPU used when ``create_job`` is given none.
        mode: ``"legacy"`` or ``"v4"``; ``None`` follows ``OQC_QCAAS_V4`` as OQC's SDK does.
        transport: an httpx transport to send requests through (tests, custom proxies).
        timeout: httpx timeouts for each request.
        retry: the retry policy for idempotent requests.
        allow_insecure: allow plain http to a non-loopback host.
        max_concurrent_requests: the most requests in flight at once from this session.
        poll_schedule: how often to poll unfinished jobs.
        on_allocated: called with jobs whose task ids are known, before they are submitted (after
            the local job store has recorded them; raising stops the submission). To follow every
            transition, subscribe to a job's ``events`` instead.
        job_store: where jobs made by ``create_job`` are recorded before anything is sent and as
            they move, so :meth:`jobs` and :meth:`resume` find them from any process. ``None`` or
            ``True``: a store under the provider's data folder; a :class:`JobStore`: that one;
            ``False``: no store.
        connection: a :class:`~oqc_provider.connection.Connection` to use instead of ``url``,
            ``authentication_token``, ``mode``, ``transport``, ``timeout``, ``retry`` and
            ``allow_insecure`` (any of those also given must agree with it).
    """

    def __init__(
        self,
        url: str | None = None,
        authentication_token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        credential: Any = None,
        default_qpu_id: str | None = None,
        *,
        mode: ServerMode | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure: bool = False,
        max_concurrent_requests: int = 8,
        poll_schedule: batch.PollSchedule | None = None,
        on_allocated: AllocationHook | None = None,
        job_store: JobStore | bool | None = None,
        connection: Connection | None = None,
    ) -> None:
        if credential is not None and (authentication_token or email):
            raise ConfigurationError("Pass either credential or authentication_token/email, not both.")
        if email is not None or password is not None or credential is not None:
            raise ConfigurationError(
                "oqc_provider authenticates with an API token only: pass authentication_token=... "
                "(or set OQC_AUTHENTICATION_TOKEN)."
            )
        if max_concurrent_requests < 1:
            raise ConfigurationError("max_concurrent_requests must be at least 1.")
        self.connection: Connection = resolve_connection(
            url,
            authentication_token,
            transport=transport,
            mode=mode,
            timeout=timeout,
            retry=retry,
            allow_insecure=allow_insecure,
            connection=connection,
        )
        self._default_qpu_id = default_qpu_id
        self.max_concurrent_requests = max_concurrent_requests
        self.poll_schedule = poll_schedule or batch.PollSchedule()
        self.on_allocated = on_allocated
        self._qcaas = self.connection.client()
        self._job_store_option = job_store
        self._job_store: JobStore | None = job_store if isinstance(job_store, JobStore) else None
        self._opened = False
        self._open_lock: asyncio.Lock | None = None
        self._background: set[asyncio.Task[Any]] = set()
        #: The registry's prices as last read, and the admission of every submission (budgets).
        self.pricing = PriceBook()

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> OqcSdk:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> OqcSdk:
        """Connect and check the service answers. Unlike OQC's SDK, a failure raises a typed error.

        Raises:
            ServiceUnavailableError: the service cannot be reached.
            AuthenticationError: the token was refused.
        """
        await self.client()
        return self

    async def close(self) -> None:
        """Cancel runs orphaned by ``reconfigure()``, then close the connection. Safe to repeat."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._qcaas.close()
        self._opened = False

    async def client(self) -> QcaasClient:
        """The open wire client (connecting on first use)."""
        if self._opened:
            return self._qcaas
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if not self._opened:
                await self._qcaas.open()
                self._opened = True
        return self._qcaas

    @property
    def is_client_initialized(self) -> bool:
        """Whether the session has connected."""
        return self._opened

    @property
    def request_count(self) -> int:
        """HTTP requests sent by this session so far."""
        return self._qcaas.request_count

    @property
    def retry_count(self) -> int:
        """Requests this session resent after a failure so far."""
        return self._qcaas.retry_count

    @property
    def url(self) -> str:
        """The service's base URL."""
        return self.connection.url

    @property
    def unreachable_since(self) -> datetime | None:
        """When the service stopped answering this session (UTC), or ``None`` while it answers."""
        return self._qcaas.unreachable_since

    # --- the local job store ---------------------------------------------------------------------

    @property
    def job_store(self) -> JobStore | None:
        """The local job store (created on first use), or ``None`` when turned off."""
        if self._job_store is None and self._job_store_option is not False:
            self._job_store = JobStore()
        return self._job_store

    def jobs(self, kind: str | None = None) -> list[StoreEntry]:
        """Jobs in the local store, newest first (damaged entries are logged and skipped).

        Args:
            kind: only entries of this kind (``"engine"``, ``"qiskit"``, ``"pytket"``).
        """
        store = self.job_store
        if store is None:
            return []
        return [entry for entry in store.list() if kind is None or entry.kind == kind]

    def resume(self, job_id: str) -> Job | CompositeJob:
        """The job ``job_id`` from the local store, attached to this session (no network yet).

        Its next ``execute()`` finishes the recorded run: tasks that reached the server are
        polled and their results fetched, never resent; tasks that never left are sent once
        (with their pre-allocated ids, if they had some). Finished children are kept as they are.

        Raises:
            JobStoreError: no store, no such job, an invalid id, or a damaged entry.
        """
        store = self.job_store
        if store is None:
            raise JobStoreError("This OqcSdk has no job store (job_store=False): nothing to resume.")
        snapshot = store.read(job_id)
        entry = snapshot.annotations.get("store", {})
        kind = entry.get("kind", "engine") if isinstance(entry, dict) else "engine"
        job = self.from_snapshot(snapshot, record=Record(store, kind=kind, job_id=job_id))
        job.resuming = True
        logger.info("Resumed job %s from the local store (%s)", job_id, type(job).__name__)
        return job

    # --- jobs ------------------------------------------------------------------------------------

    def create_job(
        self,
        *,
        program: str | Sequence[str],
        qpu_id: str | Sequence[str] | None = None,
        config: Any = None,
        fetch_diagnostics: bool = False,
        tag: str | None = None,
        record: Record | bool | None = None,
    ) -> Job | CompositeJob:
        """A Job for one program; a CompositeJob when any of program, qpu_id or config is a list.

        Lists are broadcast: each has the same length or length 1. No network call is made.
        ``record`` says how the job is recorded in a local job store: ``None``/``True`` in this
        session's store (if it has one), a :class:`~oqc_provider.engine.store.Record` as it says,
        ``False`` not at all.

        Raises:
            ValueError: lists of different lengths, an empty list, more children than
                ``OQC_SDK_MAX_BROADCAST_JOBS`` (default 200), or no QPU.
        """
        if not is_broadcast(program, qpu_id, config):
            job = self.new_job(program, qpu_id, config, tag=tag, fetch_diagnostics=fetch_diagnostics)  # type: ignore[arg-type]
            return self._record(job, record)
        jobs = [
            self.new_job(child_program, child_qpu, child_config, tag=tag, fetch_diagnostics=fetch_diagnostics)
            for child_program, child_qpu, child_config in broadcast(
                program=program, qpu_id=qpu_id, config=config
            )
        ]
        return self.create_batch(jobs, record=record)

    def new_job(
        self,
        program: str,
        qpu_id: str | None = None,
        config: Any = None,
        *,
        tag: str | None = None,
        fetch_diagnostics: bool = False,
        external_config: dict[str, Any] | None = None,
    ) -> Job:
        """One Job run by this session and recorded nowhere: a child for :meth:`create_batch`."""
        return Job(
            program,
            self._resolve_qpu(qpu_id),
            config,
            tag=tag,
            fetch_diagnostics=fetch_diagnostics,
            _client=self,
            external_config=external_config,
        )

    def create_batch(self, jobs: Sequence[Job], *, record: Record | bool | None = None) -> CompositeJob:
        """A CompositeJob of ``jobs`` (of any number, unlike a broadcast), recorded as ``record`` says.

        ``record`` is as for :meth:`create_job`.
        """
        return self._record(CompositeJob(jobs, self), record)

    def _record(self, job: JobT, how: Record | bool | None) -> JobT:
        """Record ``job`` in a local store from its first submission on: the one place that does."""
        if isinstance(how, Record):
            record(job, how)
        elif how is not False and self.job_store is not None:
            track(self.job_store, job)
        return job

    def from_snapshot(
        self, snapshot: AnySnapshot | dict[str, Any] | str, *, record: Record | None = None
    ) -> Job | CompositeJob:
        """Rebuild a Job or CompositeJob attached to this session (no network).

        With ``record``, the job goes on saving itself as it says (not recorded by default).

        Raises:
            SnapshotError: the snapshot is invalid or of an unsupported version.
        """
        model = parse_snapshot(snapshot)
        if isinstance(model, CompositeJobSnapshot):
            return self._record(CompositeJob.from_snapshot(model, self), record or False)
        return self._record(Job.from_snapshot(model, self), record or False)

    def load(self, path: str | os.PathLike[str]) -> Job | CompositeJob:
        """Load a job saved with ``save()`` (by this package or by OQC's SDK).

        Raises:
            FileNotFoundError: no such file.
            SnapshotError: not a valid snapshot (a ``ValueError``, as in OQC's SDK).
        """
        return self.from_snapshot(read_snapshot(Path(path)))

    # --- the engine's batch operations (used by Job and CompositeJob) ----------------------------

    async def submit_jobs(
        self,
        jobs: Sequence[Job],
        *,
        timeout_s: float | None = None,
        deadline: float | None = None,
        on_allocated: AllocationHook | None = None,
    ) -> None:
        """Submit jobs in batched requests; failures are stored on the jobs.

        Once task ids are known, before the submit request, the jobs' events are recorded (the
        job store's write-ahead record), then ``on_allocated`` and the session's own hook run: a
        failure there stops the submission, so nothing runs unrecorded. Every change is recorded
        once more when the submission ends. ``deadline`` (a ``time.monotonic()`` instant), when
        given, wins over ``timeout_s``.
        """
        if not jobs:
            return
        if deadline is None:
            deadline = batch.deadline_after(timeout_s)
        with grouped(job.events for job in jobs):
            await self._submit_grouped(jobs, deadline, on_allocated)

    async def _submit_grouped(
        self, jobs: Sequence[Job], deadline: float | None, on_allocated: AllocationHook | None
    ) -> None:
        try:
            client = await batch.within(deadline, self.client())
        except TimeoutError as exc:
            for job in jobs:
                job.not_sent(exc)
            return
        # Priced, checked against any budget and charged to the active trackers; raises, before
        # anything is sent, if over a budget.
        await self.pricing.admit(client, jobs, deadline=deadline)
        await self._cancel_orphans(jobs)
        hooks = [hook for hook in (self.on_allocated, on_allocated) if hook is not None]

        def allocated(chunk: Sequence[Job]) -> None:
            flush(job.events for job in chunk)  # write-ahead: every id on record before sending
            for hook in hooks:
                hook(chunk)

        await batch.submit_jobs(
            client,
            jobs,
            concurrency=self.max_concurrent_requests,
            deadline=deadline,
            on_allocated=allocated,
        )
        self.pricing.settle(jobs)

    async def wait_for(
        self,
        jobs: Sequence[Job],
        timeout_s: float | None,
        *,
        deadline: float | None = None,
        schedule: batch.PollSchedule | None = None,
    ) -> None:
        """Poll until every job has ended.

        ``deadline`` (a ``time.monotonic()`` instant), when given, wins over ``timeout_s``;
        ``schedule``, when given, paces this wait instead of the session's ``poll_schedule``.

        Raises:
            JobStillActive: the deadline passed while some tasks could not be read.
            TimeoutError: the deadline passed first (the jobs stay active).
        """
        if deadline is None:
            deadline = batch.deadline_after(timeout_s)
        if not self._opened:
            await batch.within(deadline, self.client())
        client = await self.client()
        with grouped(job.events for job in jobs):  # what ended is recorded once, when the wait ends
            await batch.wait_for(
                jobs,
                deadline=deadline,
                schedule=schedule or self.poll_schedule,
                concurrency=self.max_concurrent_requests,
                url=self.connection.url,
                read_queues=lambda queued: queues.read_queues(client, queued),
            )

    async def refresh_jobs(self, jobs: Sequence[Job]) -> None:
        """Refresh each job once, a bounded number at a time (what changed is recorded once)."""
        gate = asyncio.Semaphore(self.max_concurrent_requests)

        async def one(job: Job) -> None:
            async with gate:
                await job.refresh()

        with grouped(job.events for job in jobs):
            await asyncio.gather(*(one(job) for job in jobs))

    async def cancel_jobs(self, jobs: Sequence[Job]) -> None:
        """Cancel the jobs' runs on the server and record the outcome (once)."""
        client = await self.client()
        with grouped(job.events for job in jobs):
            await batch.cancel_jobs(client, jobs, concurrency=self.max_concurrent_requests)

    def follow(
        self, composite: CompositeJob, progress: bool | None
    ) -> contextlib.AbstractContextManager[object]:
        """A progress bar following ``composite``'s events while a block runs (see
        :func:`~oqc_provider.engine.progress.progress_for`; ``progress`` as there)."""
        return progress_for(composite, enabled=progress)

    def schedule_orphan_cancel(self, job: Job) -> None:
        """Cancel, soon, the run a ``reconfigure()`` replaced (now if an event loop is running)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop in this thread: the next submission of the job cancels it first
        task = loop.create_task(self._cancel_orphans([job]))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cancel_orphans(self, jobs: Sequence[Job]) -> None:
        orphans = [orphan for job in jobs for orphan in job.take_orphans()]
        if not orphans:
            return
        client = await self.client()
        for qpu_id in {qpu for qpu, _ in orphans}:
            ids = [task_id for qpu, task_id in orphans if qpu == qpu_id]
            try:
                await client.cancel_tasks(qpu_id, ids)
            except OqcProviderError as exc:
                logger.warning("Could not cancel replaced run(s) %s: %s", ids, exc)

    def __repr__(self) -> str:
        return (
            f"OqcSdk(url={self.connection.url!r}, target={self.connection.describe()!r}, "
            f"initialized={self._opened}, default_qpu={self._default_qpu_id!r})"
        )
