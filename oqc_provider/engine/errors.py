"""Errors of the job engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oqc_provider.errors import OqcProviderError


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
    """Some jobs could not be submitted before the deadline; they are safe to send again.

    Each keeps its pre-allocated task id (or has none yet). Before any later send, the engine
    asks the server about every id that may have reached it (``GET .../status``) and sends only
    those the server does not have, so nothing runs twice even on a service that would run a
    re-submitted id again. A ``TimeoutError`` too, like every "not finished yet, call again"
    outcome of the engine.

    Attributes:
        jobs: the jobs still CREATED.
    """

    def __init__(self, jobs: list[Any]) -> None:
        self.jobs = jobs
        errors = [job.last_submit_error for job in jobs if getattr(job, "last_submit_error", None)]
        cause = f" Last error: {errors[-1]}" if errors else ""
        uncertain = sum(1 for job in jobs if getattr(job, "submit_uncertain", False))
        doubt = (
            f" {uncertain} of them may have reached the server (its answer was lost and it could not be "
            "asked); they will be asked about before anything is resent."
            if uncertain
            else ""
        )
        super().__init__(
            f"{len(jobs)} task(s) could not be submitted yet.{cause}{doubt} They keep their task ids: "
            "call execute() or wait() again to send them safely (only ids the server does not have "
            "are sent)."
        )


class JobStillActive(OqcProviderError, TimeoutError):
    """The deadline passed while the service could not be reached, or the task could not be read.

    Distinct from a plain ``TimeoutError`` (the queue is slow): here the engine does not know how
    the task is doing. Only the server ends a job, so it stays active, keeps its task id and is
    never sent again by ``execute()``/``submit()``: call ``execute()`` or ``wait()`` again (or
    ``OqcSdk.resume(job_id)`` from another process) to go on waiting for the same task.

    Attributes:
        jobs: the jobs whose task could not be read.
        url: the service asked.
        since: when reads of the task started failing (wall clock, UTC).
        attempts: how many reads failed since then.
        last_error: the last failure.
    """

    def __init__(
        self, jobs: list[Any], *, url: str, since: datetime, attempts: int, last_error: BaseException
    ) -> None:
        self.jobs = jobs
        self.url = url
        self.since = since
        self.attempts = attempts
        self.last_error = last_error
        ids = ", ".join(str(job.task_id) for job in jobs[:3])
        more = f" and {len(jobs) - 3} more" if len(jobs) > 3 else ""
        super().__init__(
            f"Task {ids}{more} is still active, but {url} could not be reached or the task could not be "
            f"read since {since:%H:%M:%S} UTC ({attempts} failed read(s) of .../all_info, retried with "
            f"backoff; last error: {last_error}). The job was not failed and will not be resent; it stays "
            "saved in the SDK's job store (when it has one). Once the service is back, call execute() or "
            "wait() again (or OqcSdk.resume(job_id) from another process) to go on waiting for that task."
        )


class BudgetExceededError(OqcProviderError, RuntimeError):
    """A submission was refused before anything was sent: its estimate would cross a budget.

    Raised by ``Tracker(budget=...)`` and the ``max_cost=`` run option. Nothing already submitted is
    touched; the refused tasks were never sent (the job stays CREATED, so it can be run later).

    Attributes:
        estimate: the refused submission's estimated cost (``None`` when a price is not published).
        budget: the budget (or ``max_cost``) it would cross.
        spent: what the tracker had already spent when it refused (0 for ``max_cost``).
    """

    def __init__(self, message: str, *, estimate: Any = None, budget: Any = None, spent: Any = None) -> None:
        self.estimate = estimate
        self.budget = budget
        self.spent = spent
        super().__init__(message)


class PriceNotPublishedError(BudgetExceededError):
    """A budget is set, and a QPU of the submission has no published price, so its cost is unknown.

    Refused unless the tracker opts in with ``Tracker(budget=..., allow_unpriced=True)``.
    """
