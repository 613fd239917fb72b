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
