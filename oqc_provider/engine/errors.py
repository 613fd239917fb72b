"""Errors of the job engine."""

from __future__ import annotations

from typing import Any

from oqc_provider.qcaas.errors import OqcProviderError


class JobFailed(OqcProviderError, RuntimeError):
    """A job's latest run failed; raised by ``raise_for_status()`` (never by ``execute()`` by default).

    A ``RuntimeError`` too, because OQC's SDK raises RuntimeError from ``raise_for_error()``.

    Attributes:
        task_id: the failed task's id, or ``"<unsubmitted>"`` when it never reached the server.
        qpu_id: the QPU it was sent to.
        code: the server's error code, the HTTP status of a failed request, or -1.
        details: the server's message.
        failures: for a CompositeJob, every failed child's ``JobFailed``.
    """

    def __init__(
        self,
        task_id: Any,
        qpu_id: str | None,
        code: int | None,
        details: str | None,
        failures: list[JobFailed] | None = None,
    ) -> None:
        self.task_id = task_id
        self.qpu_id = qpu_id
        self.code = code
        self.details = details
        self.failures = failures or [self]
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"JobFailed(task_id={self.task_id}, qpu_id={self.qpu_id}, code={self.code}, {self.details})"
        if len(self.failures) > 1:
            text += f" and {len(self.failures) - 1} more failed job(s)"
        return text


class JobNotSubmittedError(OqcProviderError, RuntimeError):
    """An operation needs a task on the server, but the job was never submitted."""


class SnapshotError(OqcProviderError, ValueError):
    """A snapshot could not be read: not JSON, wrong kind, unsupported version, or invalid fields."""


class JobStoreError(OqcProviderError):
    """The local job store could not be read or written."""


class SubmissionIncomplete(OqcProviderError, TimeoutError):
    """Some jobs could not be submitted (the service kept failing); they are safe to resend.

    Each keeps its pre-allocated task id (or has none yet), so ``execute()``/``wait()`` again sends
    the same ids and the service recognises any that did arrive: nothing runs twice. A
    ``TimeoutError`` too, like every "not finished yet, call again" outcome of the engine.

    Attributes:
        jobs: the jobs still CREATED.
    """

    def __init__(self, jobs: list[Any]) -> None:
        self.jobs = jobs
        errors = [job.last_submit_error for job in jobs if getattr(job, "last_submit_error", None)]
        cause = f" Last error: {errors[-1]}" if errors else ""
        super().__init__(
            f"{len(jobs)} task(s) could not be submitted yet.{cause} They keep their task ids: call "
            "execute() or wait() again to resend them safely (the service ignores an id it already has)."
        )
