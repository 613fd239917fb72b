"""A :class:`CompositeJob`: many jobs run as one, with the same API as a single :class:`Job`.

Unlike OQC's SDK, a CompositeJob is a full job: it has a ``state``, a ``history``, ``submit``,
``refresh``, ``wait`` and ``raise_for_status``, progress counts, one deadline for the whole
batch, and it keeps every child's error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from oqc_provider.engine.batch import group_states
from oqc_provider.engine.cost import total_cost
from oqc_provider.engine.errors import JobFailed
from oqc_provider.engine.events import EventPublisher, JobEvent
from oqc_provider.engine.job import Job
from oqc_provider.engine.outputs import JobOutputProxy
from oqc_provider.engine.polling import deadline_after
from oqc_provider.engine.queues import QueueStatus, read_queues
from oqc_provider.engine.snapshot_codec import ConfigCache
from oqc_provider.engine.snapshots import CompositeJobSnapshot, write_atomic
from oqc_provider.engine.states import JobState

if TYPE_CHECKING:
    from oqc_provider.engine.dispatch import Dispatcher


@dataclass(frozen=True)
class Progress:
    """How far a CompositeJob has got."""

    total: int
    created: int
    submitted: int
    running: int
    completed: int
    failed: int
    cancelled: int
    unknown: int

    @property
    def done(self) -> int:
        """Children that have ended, whatever the outcome."""
        return self.completed + self.failed + self.cancelled


class CompositeJob:
    """A batch of jobs, submitted together and followed by one polling loop.

    Create one with ``OqcSdk.create_job(program=[...])``.
    """

    def __init__(self, jobs: Iterable[Job] | None = None, _client: Dispatcher[Job] | None = None) -> None:
        self.jobs: list[Job] = []
        self._client = _client
        #: Free-form data a front end keeps with the batch; persisted in snapshots.
        self.annotations: dict[str, Any] = {}
        #: Every child's events, forwarded (see :mod:`oqc_provider.engine.events`).
        self.events = EventPublisher()
        #: Set by ``OqcSdk.resume``: the next ``execute()`` finishes this run (fetching what the
        #: server has, sending only what never left) instead of starting a fresh one.
        self.resuming = False
        self.add(jobs or [])

    def add_listener(self, listener: Callable[[CompositeJob, Progress], None]) -> Callable[[], None]:
        """Call ``listener(composite, progress)`` whenever a child changes state (progress bars).

        A shorthand for subscribing to :attr:`events`; returns a function that stops it.
        """

        def on_event(event: JobEvent) -> None:
            if event.old_state is not event.new_state:
                listener(self, self.progress)

        return self.events.subscribe(on_event)

    def add(self, job: Job | Iterable[Job]) -> CompositeJob:
        """Add a job, or several (the batch forwards their events from now on)."""
        added = [job] if isinstance(job, Job) else list(job)
        for child in added:
            child.events.forward_to(self.events)
        self.jobs.extend(added)
        return self

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self.jobs)

    def __getitem__(self, index: int) -> Job:
        return self.jobs[index]

    def _sdk(self) -> Dispatcher[Job]:
        if self._client is None:
            raise RuntimeError("This CompositeJob has no SDK; create it with OqcSdk.create_job().")
        return self._client

    # --- state ---------------------------------------------------------------------------------

    @property
    def progress(self) -> Progress:
        """How many children are in each state."""
        counts = group_states(self.jobs)
        return Progress(
            total=len(self.jobs),
            created=counts[JobState.CREATED],
            submitted=counts[JobState.SUBMITTED],
            running=counts[JobState.RUNNING],
            completed=counts[JobState.COMPLETED],
            failed=counts[JobState.FAILED],
            cancelled=counts[JobState.CANCELLED],
            unknown=counts[JobState.UNKNOWN],
        )

    def waiting_reason(self, now: datetime | None = None) -> str | None:
        """Why the batch waits: the first queued child's reason (see :meth:`Job.waiting_reason`)."""
        return next((reason for job in self.jobs if (reason := job.waiting_reason(now))), None)

    async def read_queue(self) -> dict[str, QueueStatus]:
        """Read the queues of the QPUs its queued children wait on (see :attr:`Job.queue`)."""
        return await read_queues(await self._sdk().client(), self.jobs)

    @property
    def state(self) -> JobState:
        """The batch's state: active while any child is; then FAILED if any child failed,
        CANCELLED if every child was cancelled, else COMPLETED."""
        counts = group_states(self.jobs)
        for active in (JobState.RUNNING, JobState.SUBMITTED, JobState.UNKNOWN, JobState.CREATED):
            if counts[active]:
                return active
        if counts[JobState.FAILED]:
            return JobState.FAILED
        if self.jobs and counts[JobState.CANCELLED] == len(self.jobs):
            return JobState.CANCELLED
        return JobState.COMPLETED

    @property
    def estimated_cost(self) -> Decimal | None:
        """Every child's recorded estimate added up; ``None`` if any child's is unknown."""
        return total_cost(job.estimated_cost for job in self.jobs)

    @property
    def completed(self) -> bool:
        """Whether there are children and every one completed without error."""
        return bool(self.jobs) and all(job.completed for job in self.jobs)

    @property
    def completed_jobs(self) -> list[Job]:
        """Children whose latest run completed."""
        return [job for job in self.jobs if job.completed]

    @property
    def failed_jobs(self) -> list[Job]:
        """Children whose latest run failed."""
        return [job for job in self.jobs if job.error is not None]

    @property
    def active_jobs(self) -> list[Job]:
        """Children still in flight."""
        return [job for job in self.jobs if not job.state.is_terminal]

    @property
    def terminal_jobs(self) -> list[Job]:
        """Children that have ended."""
        return [job for job in self.jobs if job.state.is_terminal]

    @property
    def outputs(self) -> JobOutputProxy:
        """Each child's latest outcome, in child order (children without one are left out)."""
        return JobOutputProxy(item for job in self.jobs for item in job.outputs)

    @property
    def history(self) -> JobOutputProxy:
        """Every run of every child, child by child, oldest first."""
        return JobOutputProxy(item for job in self.jobs for item in job.history)

    # --- running -------------------------------------------------------------------------------

    def submit(self, *, timeout_s: float = 30.0) -> Coroutine[Any, Any, CompositeJob]:
        """Send every child not already on the server, in batched requests; return without waiting.

        The run is recorded (the children's CREATED events, and so the job store's write-ahead
        record) when ``submit()`` is called, before the returned coroutine is awaited: a front end
        that submits in the background has its batch on disk when it hands it to its user.
        """
        deadline = deadline_after(timeout_s)
        with self.events.grouped():  # every child starting over and its CREATED: one write
            self._start_over_finished()
            self._begin_submission()
        return self._submitted(deadline)

    def _start_over_finished(self) -> None:
        """Finished children start fresh runs (in a group: the batch is written once, not per child)."""
        with self.events.grouped():
            for job in self.jobs:
                if job.state.is_terminal:
                    job.start_over()

    async def _submitted(self, deadline: float | None) -> CompositeJob:
        with self.events.grouped():
            await self._submit_pending(deadline)
        return self

    def _begin_submission(self) -> None:
        """Publish CREATED for every child about to be sent, recorded as one write (write-ahead)."""
        with self.events.grouped():
            for job in self.jobs:
                if job.state is JobState.CREATED:
                    job.begin_submission()
        self.events.flush()  # even inside a wait's group: on record before any request leaves

    async def _submit_pending(self, deadline: float | None) -> None:
        """Send the children that have not reached the server (CREATED), leaving the others alone.

        Children holding an id from an earlier attempt are asked about first (see :mod:`.batch`).
        """
        await self._sdk().submit_jobs(
            [job for job in self.jobs if job.state is JobState.CREATED], deadline=deadline
        )

    async def refresh(self) -> CompositeJob:
        """Read every submitted, unfinished child's state from the server once."""
        jobs = [job for job in self.jobs if job.task_id is not None and not job.state.is_terminal]
        with self.events.grouped():  # recorded once, whatever changed
            await self._sdk().refresh_jobs(jobs)
        return self

    async def wait(self, timeout_s: float | None = 120.0) -> CompositeJob:
        """Poll until every child has ended; submits unsent children first.

        ``timeout_s`` bounds the whole call (the batch, submission included).

        Raises:
            JobStillActive: the deadline passed while some tasks could not be read.
            SubmissionIncomplete: some children could not be submitted before the deadline.
            TimeoutError: the deadline passed first; children keep their state.
        """
        deadline = deadline_after(timeout_s)
        with self.events.grouped():  # submitted and ended: recorded once, when the wait ends
            if any(job.state is JobState.CREATED for job in self.jobs):
                self._begin_submission()
                await self._submit_pending(deadline)
            await self._sdk().wait_for(self.jobs, timeout_s, deadline=deadline)
        return self

    async def execute(
        self,
        *,
        timeout_s: float | None = 120.0,
        raise_on_error: bool | None = None,
        progress: bool | None = None,
    ) -> JobOutputProxy:
        """Run every child to the end; finished children start fresh runs, active ones resume.

        Returns every child's outcome. Errors stay on the children unless ``raise_on_error``.
        ``progress`` shows a bar of tasks done on stderr: ``None`` (the default) shows it in a
        terminal unless ``OQC_PROVIDER_PROGRESS=0`` (see :mod:`oqc_provider.engine.progress`); the
        bar follows the batch's events and is made by the session (``OqcSdk.follow``), not here.
        """
        with self.events.grouped():  # fresh runs are recorded with the write-ahead, once
            if not self.resuming:
                self._start_over_finished()
            self.resuming = False
            with self._sdk().follow(self, progress):
                await self.wait(timeout_s)
        if raise_on_error:
            self.raise_for_status()
        return self.outputs

    async def cancel(self) -> CompositeJob:
        """Ask the server to cancel every child in flight, and record what it says."""
        with self.events.grouped():
            await self._sdk().cancel_jobs(self.jobs)
        return self

    async def cancel_if_active(self) -> CompositeJob:
        """Cancel the children in flight; finished ones are left alone."""
        return await self.cancel()

    def raise_for_status(self) -> CompositeJob:
        """Raise :class:`JobFailed` naming every failed child, if any failed."""
        failures: list[JobFailed] = []
        for job in self.failed_jobs:
            try:
                job.raise_for_status()
            except JobFailed as failure:
                failures.append(failure)
        if failures:
            first = failures[0]
            raise JobFailed(first.task_id, first.qpu_id, first.code, first.details, failures)
        return self

    # --- snapshots -----------------------------------------------------------------------------

    def to_snapshot(self) -> CompositeJobSnapshot:
        """Every child's state as one pydantic model."""
        encoded: ConfigCache = {}  # the children's shared configs, encoded once
        return CompositeJobSnapshot(
            jobs=[job.to_snapshot(encoded) for job in self.jobs], annotations=self.annotations
        )

    def save(self, path: str) -> None:
        """Write the batch's snapshot to ``path`` as JSON, atomically."""
        write_atomic(path, self.to_snapshot().model_dump_json(indent=2))

    @classmethod
    def from_snapshot(
        cls, snapshot: CompositeJobSnapshot, client: Dispatcher[Job] | None = None
    ) -> CompositeJob:
        """Rebuild a batch from its snapshot (no network)."""
        composite = cls([Job.from_snapshot(child, client) for child in snapshot.jobs], client)
        composite.annotations = dict(snapshot.annotations)
        return composite

    def __repr__(self) -> str:
        p = self.progress
        active = p.total - p.done
        return f"CompositeJob(jobs={p.total}, completed={p.completed}, failed={p.failed}, active={active})"
