"""A :class:`Job`: a mutable handle for one program, its lifecycle and every run's outcome.

Behaviour follows OQC's Jobs document, with the SDK's rough edges fixed: EXPIRED ends a job
instead of leaving it polling; ``refresh()`` never duplicates history; ``cancel()`` asks the
server and never turns a completed job into a cancelled one; ``reconfigure()`` accepts only
public settings and cancels the run it would orphan; a second ``submit()`` never re-sends;
timeouts are real deadlines; every output records the config actually sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from oqc_provider.engine import polling
from oqc_provider.engine.cost import recorded_cost
from oqc_provider.engine.errors import JobFailed, JobNotSubmittedError
from oqc_provider.engine.events import JobEvent, JobEventKind
from oqc_provider.engine.job_outcomes import JobOutcomes, Outcomes
from oqc_provider.engine.outputs import JobOutput, JobOutputProxy
from oqc_provider.engine.queues import QueueStatus
from oqc_provider.engine.snapshot_codec import ConfigCache, job_from_snapshot, job_to_snapshot
from oqc_provider.engine.snapshots import JobSnapshot, write_atomic
from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.compiler_config import CompilerConfig
from oqc_provider.qcaas.models import TaskPayload

if TYPE_CHECKING:
    from oqc_provider.engine.dispatch import Dispatcher

logger = logging.getLogger("oqc_provider.engine")

#: Called as ``listener(job, old_state, new_state)`` on every state change.
StateListener = Callable[["Job", JobState, JobState], None]

#: Settings ``reconfigure()`` may change; anything else (notably private state) is refused.
RECONFIGURABLE = (
    "program",
    "qpu_id",
    "config",
    "tag",
    "hybrid_marker",
    "fetch_diagnostics",
    "raise_on_error",
)


def coerce_config(config: Any) -> CompilerConfig | None:
    """Accept our CompilerConfig, tagged JSON text, or an object of OQC's ``compiler-config``."""
    if config is None or isinstance(config, CompilerConfig):
        return config
    if isinstance(config, str | dict):
        return CompilerConfig.from_json(config)
    to_json = getattr(config, "to_json", None)
    if callable(to_json):  # compiler_config.config.CompilerConfig from OQC's library
        return CompilerConfig.from_json(to_json())
    raise TypeError(f"config must be a CompilerConfig (or its JSON), got {type(config).__name__}.")


class Job(JobOutcomes):
    """One quantum program submitted to one QPU, re-runnable, with its full history.

    Create jobs with ``OqcSdk.create_job``; run them with ``await job.execute()``. Its state and
    outcomes are kept by :class:`~oqc_provider.engine.job_outcomes.JobOutcomes`.
    """

    def __init__(
        self,
        program: str,
        qpu_id: str,
        config: CompilerConfig | Any = None,
        task_id: UUID | str | None = None,
        tag: str | None = None,
        hybrid_marker: str | None = None,
        fetch_diagnostics: bool = False,
        _client: Dispatcher[Job] | None = None,
        *,
        raise_on_error: bool = False,
        external_config: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(program, str) or not program.strip():
            raise ValueError("program must be a non-empty string of OpenQASM (or QIR) text.")
        self.program = program
        self.qpu_id = str(qpu_id)
        self.config = coerce_config(config)
        self.task_id = UUID(str(task_id)) if task_id else None
        self.tag = tag
        self.hybrid_marker = hybrid_marker
        self.fetch_diagnostics = fetch_diagnostics
        self.raise_on_error = raise_on_error
        #: Settings for simulators beside ``config`` (e.g. ``{"seed": 7}`` for the emulator).
        self.external_config = external_config
        self.timings: dict[str, Any] | None = None
        self.metrics: dict[str, Any] | None = None
        self.metadata: dict[str, Any] | None = None
        #: Free-form data a front end keeps with the job; persisted in snapshots.
        self.annotations: dict[str, Any] = {}
        self._client = _client
        super().__init__()
        self._orphans: list[tuple[str, UUID]] = []  # runs replaced by reconfigure(), to cancel
        self._submit_lock: asyncio.Lock | None = None
        self._last_submit_error: Exception | None = None
        #: Set by ``OqcSdk.resume``: the next ``execute()`` finishes this run instead of starting one.
        self.resuming = False
        #: This run's admission (``engine.tracker.Charge``): the trackers it counts in and its estimated
        #: cost; ``None`` until admitted, and again for a fresh run.
        self.cost_charge: Any = None
        #: The latest reading of the QPU's queue and windows while this job waited SUBMITTED
        #: (information only: never saved, never changes the job's state).
        self.queue: QueueStatus | None = None

    # --- state ---------------------------------------------------------------------------------

    @property
    def estimated_cost(self) -> Decimal | None:
        """The latest run's estimated cost (credits as the registry priced them when it was submitted).

        ``None`` when its QPU's price was not published, or no estimate was recorded (a job never
        submitted, or saved by an older version). Kept in snapshots, so a resumed job reports it too.
        """
        return recorded_cost(self.annotations)

    def add_listener(self, listener: StateListener) -> None:
        """Call ``listener(job, old_state, new_state)`` on every state change (a shorthand for
        subscribing to :attr:`events` and keeping the events that change the state)."""

        def on_event(event: JobEvent) -> None:
            if event.old_state is not event.new_state:
                listener(self, event.old_state, event.new_state)

        self.events.subscribe(on_event)

    def waiting_reason(self, now: datetime | None = None) -> str | None:
        """Why the job waits, when it is queued and its QPU's queue was read, e.g. ``"queued (21
        tasks in the QPU's queue); next window opens 00:50 UTC, in 3 h 12 min"``; else None."""
        if self._state is not JobState.SUBMITTED or self.queue is None:
            return None
        return self.queue.describe(now)

    def _sdk(self) -> Dispatcher[Job]:
        if self._client is None:
            raise RuntimeError("This job has no SDK; create it with OqcSdk.create_job() or OqcSdk.load().")
        return self._client

    # --- submission ----------------------------------------------------------------------------

    def payload(self, config_json: str | None = None) -> TaskPayload:
        """The submit payload for this job (``config_json`` lets a batch encode a shared config once)."""
        return TaskPayload(
            program=self.program,
            qpu_id=self.qpu_id,
            config=config_json or self.config_to_send().to_json(),
            task_id=str(self.task_id) if self.task_id else None,
            tag=self.tag,
            hybrid_marker=self.hybrid_marker,
            external_config=self.external_config,
        )

    def needs_submission(self) -> bool:
        """Whether :meth:`submit` would send this job: it finished, or never reached the server.

        A CREATED job may already hold a pre-allocated id (a lost submit answer, or a crash
        between allocation and submit): before sending it, the engine asks the server whether it
        has that id, and sends it only if the server says it does not.
        """
        return self._state.is_terminal or self._state is JobState.CREATED

    def submit(self, *, timeout_s: float = 30.0) -> Coroutine[Any, Any, Job]:
        """Send the program to the QPU and return without waiting for it to run.

        A job that may be on the server is left alone (never sent twice); a finished job starts a
        fresh run with a new task id. Failures are stored on the job (``job.error``), not raised.
        The run is recorded (its CREATED event, and so the job store's write-ahead record) when
        ``submit()`` is called, before the returned coroutine is awaited.
        """
        deadline = polling.deadline_after(timeout_s)
        if self.needs_submission():
            with self.events.grouped():  # start over and the run's CREATED: one write
                if self._state.is_terminal:
                    self.start_over()
                self.begin_submission()
        return self._submitted(deadline)

    async def _submitted(self, deadline: float | None) -> Job:
        await self._submit(deadline)
        return self

    async def _submit(self, deadline: float | None) -> None:
        if self._submit_lock is None:
            self._submit_lock = asyncio.Lock()
        async with self._submit_lock:
            if not self.needs_submission():
                return  # already on the server: never sent twice
            if self._state.is_terminal:
                self.start_over()
                self.begin_submission()
            self.events.flush()  # write-ahead: the run is on record before any request leaves
            with self.events.grouped():
                await self._sdk().submit_jobs([self], deadline=deadline)

    # What the batch machinery tells a job (engine/batch.py): the job changes its own state, and
    # publishes each change as an event (engine/events.py).

    @property
    def submit_uncertain(self) -> bool:
        """The task id may have reached the server (a submit's answer was lost) and the server
        could not be asked yet: it is asked before anything is sent again. Kept in snapshots."""
        return self._submit_uncertain

    @property
    def last_submit_error(self) -> Exception | None:
        """Why the latest submission did not go through, while the job waits CREATED to be resent."""
        return self._last_submit_error

    def begin_submission(self) -> None:
        """A run of this CREATED job is about to be sent: publish CREATED, so it is recorded first.

        Whoever sends it then flushes the job's events (:meth:`EventPublisher.flush`), so the job
        store holds the run before any request about it leaves (write-ahead).
        """
        self._publish(JobEventKind.CREATED, self._state, "recorded before sending")

    def allocated(self, task_id: UUID) -> None:
        """The server allocated ``task_id`` for this run (nothing was sent yet)."""
        self.task_id = task_id
        self._publish(JobEventKind.ALLOCATED, self._state)

    def not_sent(self, error: Exception) -> None:
        """A submission did not go through and provably did not reach the server: the job stays
        CREATED, to be sent again (``error`` says why)."""
        self._last_submit_error = error

    def may_have_been_sent(self, error: Exception) -> None:
        """A submit's fate is unknown (its answer was lost, the server could not be asked): the
        task id is asked about before anything is sent again, in this process or after a resume."""
        self._last_submit_error = error
        if not self._submit_uncertain:
            self._submit_uncertain = True
            self._publish(JobEventKind.SUBMIT_UNCERTAIN, self._state, str(error) or type(error).__name__)

    def not_on_server(self) -> None:
        """The server says it holds this run's id only as allocated: it is safe to send.

        The doubt stays recorded until the server has the task (:meth:`submitted`): a send that
        then fails is asked about again first, which costs one read and never a duplicate.
        """
        logger.debug("Task %s is not on the server yet: it will be sent", self.task_id)

    def submitted(self) -> None:
        """The server has this run's task: it is SUBMITTED, no longer uncertain."""
        self._submit_uncertain = False
        self._last_submit_error = None
        self.queue = None  # a fresh run's queue is read afresh
        self._set_state(JobState.SUBMITTED)

    def start_over(self) -> None:
        """Forget the latest run's task and outcome (history is kept): the job is CREATED again."""
        self.task_id = None
        self._result = None
        self._error = None
        self._recorded_task = None
        self.timings = self.metrics = self.metadata = None
        self.cost_charge = None  # a fresh run is admitted (and charged) again
        self._set_state(JobState.CREATED)

    # --- polling -------------------------------------------------------------------------------

    async def refresh(self, *, deadline: float | None = None) -> Job:
        """Read the task's state from the server once (results too, when it has finished).

        Only the server ends a job: a read that fails (a dropped connection, a 5xx, a 404, an
        expired token) raises and leaves the job as it was.

        Args:
            deadline: a ``time.monotonic()`` instant no retry of the read may run past.

        Raises:
            JobNotSubmittedError: the job was never submitted.
            OqcProviderError: the task could not be read (a subclass says why); the job is unchanged.
        """
        if self.task_id is None:
            raise JobNotSubmittedError(
                f"Job for {self.qpu_id} was never submitted: call submit() or execute() first."
            )
        client = await self._sdk().client()
        info = await client.get_task(self.qpu_id, self.task_id, deadline=deadline)
        with self.events.grouped():  # a state change and a result: recorded once
            self.apply_task_info(info)
        return self

    async def wait(self, timeout_s: float | None = 120.0) -> Job:
        """Poll until the job ends; submits first if it was never sent.

        ``timeout_s`` bounds the whole call, submission included.

        Raises:
            JobStillActive: the deadline passed while the task could not be read (the job stays
                active: call ``execute()`` or ``wait()`` again to resume).
            SubmissionIncomplete: the job could not be submitted before the deadline.
            TimeoutError: the deadline passed first (the job stays active: call ``execute()`` or
                ``wait()`` again to resume).
        """
        if self._state.is_terminal:
            return self
        deadline = polling.deadline_after(timeout_s)
        with self.events.grouped():  # submitted and ended: recorded once, when the wait ends
            if self._state is JobState.CREATED:
                self.begin_submission()  # recorded by _submit's flush, before any request
                await self._submit(deadline)
            await self._sdk().wait_for([self], timeout_s, deadline=deadline)
        return self

    async def execute(
        self, *, timeout_s: float | None = 120.0, raise_on_error: bool | None = None
    ) -> JobOutputProxy:
        """Run the job to the end and return its outputs.

        A finished job starts a fresh run (new task id; history kept); a job in flight is resumed,
        never re-sent. Errors are stored on the job; pass ``raise_on_error=True`` (or call
        :meth:`raise_for_status`) to raise :class:`JobFailed` instead.
        """
        with self.events.grouped():  # a fresh run's CREATED is recorded with the write-ahead, once
            if self._state.is_terminal and not self.resuming:
                self.start_over()
            self.resuming = False
            await self.wait(timeout_s)
        if raise_on_error if raise_on_error is not None else self.raise_on_error:
            self.raise_for_status()
        return self.outputs

    # --- cancellation --------------------------------------------------------------------------

    async def cancel(self) -> Job:
        """Ask the server to cancel the run, then record what the server says happened.

        A run that finished before the request arrived keeps its result. Without a task id this
        does nothing.
        """
        if self.task_id is None:
            return self
        await self._sdk().cancel_jobs([self])
        return self

    async def cancel_if_active(self) -> Job:
        """Cancel only if the job is in flight; safe to call in any state."""
        if self._state.is_terminal or self.task_id is None:
            return self
        return await self.cancel()

    # --- reconfiguration -----------------------------------------------------------------------

    def reconfigure(self, memento: JobOutput | None = None, **overrides: Any) -> Job:
        """Change the job's settings for its next run, from a past output and/or keywords.

        Only public settings may change: ``program``, ``qpu_id``, ``config``, ``tag``,
        ``hybrid_marker``, ``fetch_diagnostics``, ``raise_on_error``. A run in flight is cancelled
        on the server (it would otherwise be orphaned). History is kept.

        Raises:
            AttributeError: an override names anything else (nothing is changed).
        """
        unknown = sorted(set(overrides) - set(RECONFIGURABLE))
        if unknown:
            raise AttributeError(f"Cannot reconfigure {unknown}: only {list(RECONFIGURABLE)} may change.")
        settings: dict[str, Any] = {}
        if memento is not None:
            settings.update(program=memento.program, qpu_id=memento.qpu_id, config=memento.compiler_config)
        settings.update(overrides)
        if "config" in settings:
            settings["config"] = coerce_config(settings["config"])
        if self._state.is_active and self.task_id is not None:
            self._orphans.append((self.qpu_id, self.task_id))
            self._sdk().schedule_orphan_cancel(self)
        for name, value in settings.items():
            if value is not None or name in ("config", "tag", "hybrid_marker"):
                setattr(self, name, value)
        self.start_over()
        return self

    def take_orphans(self) -> list[tuple[str, UUID]]:
        """Runs replaced by :meth:`reconfigure` that still need cancelling on the server."""
        orphans, self._orphans = self._orphans, []
        return orphans

    def raise_for_status(self) -> Job:
        """Raise :class:`JobFailed` if the latest run failed; else return the job."""
        if self._state is JobState.FAILED or self._error is not None:
            error = self._error
            raise JobFailed(
                self.task_id or "<unsubmitted>",
                self.qpu_id,
                error.error_code if error else -1,
                error.error_message if error else "Unknown error.",
            )
        return self

    # --- snapshots -----------------------------------------------------------------------------

    def to_snapshot(self, encoded: ConfigCache | None = None) -> JobSnapshot:
        """The job's whole state as a pydantic model (no network, no live client).

        ``encoded`` (one dict per snapshot of a batch) lets children that share a config encode it once.
        """
        return job_to_snapshot(self, encoded)

    def save(self, path: str) -> None:
        """Write the job's snapshot to ``path`` as JSON, atomically."""
        write_atomic(path, self.to_snapshot().model_dump_json(indent=2))

    @classmethod
    def from_snapshot(cls, snapshot: JobSnapshot, client: Dispatcher[Job] | None = None) -> Job:
        """Rebuild a job from its snapshot (no network).

        Raises:
            SnapshotError: the snapshot's config cannot be read.
        """
        return job_from_snapshot(cls, snapshot, client)

    def __repr__(self) -> str:
        text = (
            f"Job(id={self.task_id}, qpu={self.qpu_id!r}, state={self._state.value}, "
            f"history_len={len(self._history)}"
        )
        if self._error is not None:
            text += f", error={self._error.short}"
        if self._result is not None and isinstance(self._result.data, dict):
            text += f", result_keys={list(self._result.data)}"
        return text + ")"


__all__ = ["RECONFIGURABLE", "Job", "Outcomes", "StateListener"]
