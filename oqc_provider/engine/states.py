"""Job states, and how the server's task statuses map onto them.

Unlike OQC's SDK, ``EXPIRED`` is terminal (the job fails with a message saying the task expired)
rather than an ``UNKNOWN`` state the job would poll until its timeout.
"""

from __future__ import annotations

from enum import Enum

from oqc_provider.qcaas.models import TaskStatus


class JobState(str, Enum):
    """Where a job is in its lifecycle.

    Active: CREATED, SUBMITTED, RUNNING. Terminal: COMPLETED, FAILED, CANCELLED. UNKNOWN means the
    server reported a status this client does not know; the job keeps polling until its deadline.
    """

    CREATED = "CREATED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """Whether the job has ended (a new ``execute()`` starts a fresh run)."""
        return self in TERMINAL_STATES

    @property
    def is_active(self) -> bool:
        """Whether the job is in flight (``execute()`` resumes it)."""
        return not self.is_terminal

    def __str__(self) -> str:
        return self.value


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})

#: The one place where server statuses become job states.
STATE_OF_TASK_STATUS: dict[TaskStatus, JobState] = {
    TaskStatus.CREATED: JobState.CREATED,
    TaskStatus.SUBMITTED: JobState.SUBMITTED,
    TaskStatus.RUNNING: JobState.RUNNING,
    TaskStatus.COMPLETED: JobState.COMPLETED,
    TaskStatus.FAILED: JobState.FAILED,
    TaskStatus.CANCELLED: JobState.CANCELLED,
    TaskStatus.EXPIRED: JobState.FAILED,
    TaskStatus.UNKNOWN: JobState.UNKNOWN,
}

#: The error code recorded when the server reports a task EXPIRED.
EXPIRED_ERROR_CODE = 410
