"""A job's lifecycle state and the outcome of each of its runs, as the server reported them.

:class:`JobOutcomes` is the bookkeeping half of :class:`~oqc_provider.engine.job.Job`, with no
network: the state and its listeners, the latest result or error, the history of every run (never
duplicated), and how the server's record of a task (:class:`~oqc_provider.qcaas.models.TaskInfo`)
becomes one of those. ``Job`` inherits it and adds the actions: submit, poll, cancel, reconfigure.

Example:
    >>> from oqc_provider.engine import Job, JobState
    >>> job = Job("OPENQASM 2.0;", "qpu:uk:2:d865b5a184")
    >>> job.state is JobState.CREATED, job.ended, len(job.history)
    (True, False, 0)
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, NamedTuple
from uuid import UUID

from oqc_provider.engine.events import KIND_OF_STATE, EventPublisher, JobEvent, JobEventKind
from oqc_provider.engine.outputs import JobError, JobOutput, JobOutputProxy, JobResult
from oqc_provider.engine.states import EXPIRED_ERROR_CODE, STATE_OF_TASK_STATUS, JobState
from oqc_provider.qcaas.compiler_config import CompilerConfig
from oqc_provider.qcaas.errors import ServerError
from oqc_provider.qcaas.models import TaskInfo, TaskStatus

logger = logging.getLogger("oqc_provider.engine")


class Outcomes(NamedTuple):
    """A job's lifecycle state and every run's outcome: what a snapshot keeps besides the settings."""

    state: JobState
    result: JobResult | None
    error: JobError | None
    history: list[JobOutput]
    #: The task id may be on the server unconfirmed (see ``Job.submit_uncertain``).
    submit_uncertain: bool = False


def code_for_exception(exc: Exception) -> int:
    """An error code for failures that are not server answers (too large: 413, unknown QPU: 404)."""
    from oqc_provider.qcaas.errors import RequestTooLargeError, UnknownQpuError

    if isinstance(exc, RequestTooLargeError):
        return 413
    if isinstance(exc, UnknownQpuError):
        return 404
    return -1


def completion_time(info: TaskInfo) -> datetime:
    """When the server finished the task, if it says; otherwise now (UTC, timezone-aware)."""
    finished = (info.timings or {}).get("RECEIVER_FROM_SCC")
    if isinstance(finished, str):
        try:
            return datetime.fromisoformat(finished)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


class JobOutcomes:
    """A job's state and its runs' outcomes (the base of :class:`~oqc_provider.engine.job.Job`)."""

    # The job's settings, set by Job.__init__.
    program: str
    qpu_id: str
    config: CompilerConfig | None
    task_id: UUID | None
    fetch_diagnostics: bool
    timings: dict[str, Any] | None
    metrics: dict[str, Any] | None
    metadata: dict[str, Any] | None

    def __init__(self) -> None:
        self._state = JobState.CREATED
        self._result: JobResult | None = None
        self._error: JobError | None = None
        self._history: list[JobOutput] = []
        self._recorded_task: UUID | None = None  # the task whose outcome is already in history
        self._submit_uncertain = False  # see Job.submit_uncertain
        #: Every transition of this job, as events (see :mod:`oqc_provider.engine.events`).
        self.events = EventPublisher()

    # --- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> JobState:
        """Where the job is in its lifecycle."""
        return self._state

    @property
    def result(self) -> JobResult | None:
        """The latest run's result, or ``None``."""
        return self._result

    @property
    def error(self) -> JobError | None:
        """The latest run's error, or ``None``."""
        return self._error

    @property
    def ended(self) -> bool:
        """Whether the job is in a terminal state."""
        return self._state.is_terminal

    @property
    def completed(self) -> bool:
        """Whether the latest run completed without error."""
        return self._state is JobState.COMPLETED and self._error is None

    @property
    def outputs(self) -> JobOutputProxy:
        """The latest run's outcome: ``[result]``, ``[error]`` or ``[]``."""
        latest = self._result if self._result is not None else self._error
        return JobOutputProxy([latest] if latest is not None else [])

    @property
    def history(self) -> JobOutputProxy:
        """Every completed or failed run, oldest first."""
        return JobOutputProxy(self._history)

    def _set_state(self, new: JobState, detail: str | None = None) -> None:
        old, self._state = self._state, new
        if old is not new:
            logger.debug("Job %s: %s -> %s", self.task_id, old.value, new.value)
            self._publish(KIND_OF_STATE[new], old, detail)

    def _publish(self, kind: JobEventKind, old: JobState, detail: str | None = None) -> None:
        """Tell the job's subscribers what happened (the job's own state is already updated)."""
        self.events.publish(JobEvent(kind, self, self.task_id, old, self._state, detail=detail))

    def config_to_send(self) -> CompilerConfig:
        """The config that goes on the wire: the job's own, or the SDK default (1000 shots, BinaryCount)."""
        return self.config if self.config is not None else CompilerConfig.sdk_default()

    # --- outcomes ------------------------------------------------------------------------------

    def cancelled_locally(self) -> None:
        """Record the run as cancelled on our side (the server took the request, but was not read)."""
        self._result = self._error = None
        self._recorded_task = self.task_id
        self._set_state(JobState.CANCELLED)

    def _fail(self, code: int | None, message: str) -> None:
        """Record a failed run (a submission or polling error, or a FAILED/EXPIRED task)."""
        error = JobError(
            error_code=code,
            error_message=message,
            **self._output_fields(),
        )
        self._record(error)
        self._set_state(JobState.FAILED, detail=error.short)

    def failed(self, exc: Exception) -> None:
        """Record this run as failed because of ``exc`` (a refused submission, a request too large)."""
        code = exc.server_error_code if isinstance(exc, ServerError) else code_for_exception(exc)
        message = exc.message if isinstance(exc, ServerError) else str(exc)
        self._fail(code, message)

    def _output_fields(self) -> dict[str, Any]:
        return {
            "qpu_id": self.qpu_id,
            "task_id": self.task_id,
            "program": self.program,
            "compiler_config": self.config_to_send(),
            "job": self,
        }

    def _record(self, output: JobResult | JobError) -> None:
        if isinstance(output, JobResult):
            self._result, self._error = output, None
        else:
            self._result, self._error = None, output
        self._history.append(output)
        self._recorded_task = self.task_id

    def apply_task_info(self, info: TaskInfo) -> None:
        """Bring the job in line with the server's record of its task."""
        status = info.task_status
        state = STATE_OF_TASK_STATUS[status]
        if not state.is_terminal:
            if not self._state.is_terminal:
                self._set_state(state)
            return
        if self._recorded_task == self.task_id and self._state.is_terminal:
            return  # this run's outcome is already recorded: never duplicate history
        if self.fetch_diagnostics:
            self._take_diagnostics(info)
        if status is TaskStatus.COMPLETED:
            if info.results is None:
                self._fail(-1, "The server reported the task COMPLETED but sent no results.")
                return
            self._record(
                JobResult(
                    data=info.results,
                    timings=self.timings,
                    metrics=self.metrics,
                    metadata=self.metadata,
                    received=completion_time(info),
                    **self._output_fields(),
                )
            )
            self._set_state(JobState.COMPLETED)
        elif status is TaskStatus.FAILED:
            error = info.task_error
            self._fail(error.error_code if error else -1, error.error_message if error else "Unknown error.")
        elif status is TaskStatus.EXPIRED:
            self._fail(EXPIRED_ERROR_CODE, f"Task {self.task_id} expired on the server before it ran.")
        else:  # CANCELLED: no outcome to keep
            self._result = self._error = None
            self._recorded_task = self.task_id
            self._set_state(JobState.CANCELLED)

    def _take_diagnostics(self, info: TaskInfo) -> None:
        self.timings = info.timings
        self.metrics = info.execution_metadata
        # v4 sends an empty metadata document; rebuild it from the top-level fields, as the SDK.
        self.metadata = info.metadata or {
            "config": info.config,
            "created_at": info.created_at,
            "id": info.id,
            "qpu_id": info.qpu_id,
            "tag": info.tag,
        }

    # --- snapshots -----------------------------------------------------------------------------

    def export_outcomes(self) -> Outcomes:
        """The state and outcomes a snapshot records (the history list is a copy)."""
        return Outcomes(self._state, self._result, self._error, list(self._history), self._submit_uncertain)

    def restore_outcomes(self, outcomes: Outcomes) -> None:
        """Take the state and outcomes a snapshot recorded (a freshly rebuilt job, before any run)."""
        self._submit_uncertain = outcomes.submit_uncertain
        self._history = list(outcomes.history)
        self._result, self._error = outcomes.result, outcomes.error
        self._state = outcomes.state
        if self._state.is_terminal:
            self._recorded_task = self.task_id


__all__ = ["JobOutcomes", "Outcomes", "code_for_exception", "completion_time"]
