"""``OQCJob``: a Qiskit ``JobV1`` over one engine :class:`~oqc_provider.engine.CompositeJob`.

One child task per circuit. The batch is recorded in the local job store before anything is sent
(write-ahead), with everything needed to rebuild its Result in another process, so
``backend.retrieve_job(job.job_id())`` and ``OQCJob.load(path)`` work after a restart.

Example:
    >>> from qiskit import QuantumCircuit, transpile
    >>> from oqc_provider.qiskit import OQCProvider
    >>> backend = OQCProvider().get_backend("Lucy Simulator")
    >>> qc = QuantumCircuit(1, 1, name="flip")
    >>> _ = qc.x(0)
    >>> _ = qc.measure(0, 0)
    >>> job = backend.run(transpile(qc, backend), shots=10)
    >>> job.result(timeout=60).get_counts("flip")
    {'1': 10}
    >>> job.status().name
    'DONE'
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qiskit.providers import JobStatus, JobTimeoutError, JobV1
from qiskit.result import Result

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.errors import JobStillActive
from oqc_provider.engine.progress import progress_for
from oqc_provider.engine.queues import QueueStatus, closed_window_text
from oqc_provider.engine.snapshots import CompositeJobSnapshot, read_snapshot
from oqc_provider.engine.states import JobState
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit.results import CircuitRecord, build_result
from oqc_provider.unreachable import unreachable_message

if TYPE_CHECKING:
    from oqc_provider.qiskit.backend import OQCBackend
    from oqc_provider.qiskit.provider import OQCProvider

logger = logging.getLogger("oqc_provider.qiskit")

#: The key of the job's data in the CompositeJob's annotations.
ANNOTATION_KEY = "qiskit"
ANNOTATION_SCHEMA = 1

#: Every engine state as a Qiskit job status (UNKNOWN: the server said something this client does
#: not know; the job is still in flight, so it reads as queued).
STATUS_OF_STATE: dict[JobState, JobStatus] = {
    JobState.CREATED: JobStatus.INITIALIZING,
    JobState.SUBMITTED: JobStatus.QUEUED,
    JobState.RUNNING: JobStatus.RUNNING,
    JobState.UNKNOWN: JobStatus.QUEUED,
    JobState.COMPLETED: JobStatus.DONE,
    JobState.FAILED: JobStatus.ERROR,
    JobState.CANCELLED: JobStatus.CANCELLED,
}


class OQCJobTimeoutError(OqcProviderError, JobTimeoutError):
    """``result(timeout=...)`` gave up waiting; the job goes on and can be waited for again."""


class OQCServiceUnreachableError(OQCJobTimeoutError):
    """``result(timeout=...)`` gave up because the service could not be reached, not because the
    queue is slow: nobody knows how the job is doing. It stays active and saved; wait again once
    the service is back.

    Attributes:
        url: the service asked.
        since: when reads of the job's tasks started failing (UTC).
        attempts: how many reads failed.
        last_error: the last failure.
    """

    def __init__(self, message: str, cause: JobStillActive) -> None:
        super().__init__(message)
        self.url = cause.url
        self.since = cause.since
        self.attempts = cause.attempts
        self.last_error = cause.last_error


class OQCJob(JobV1):
    """The Qiskit job of one ``backend.run()``: a batch of tasks, one per circuit.

    Create jobs with :meth:`OQCBackend.run`; find old ones with :meth:`OQCBackend.retrieve_job`
    or :meth:`OQCJob.load`.
    """

    def __init__(
        self,
        backend: OQCBackend,
        job_id: str,
        composite: CompositeJob,
        *,
        live_metadata: list[Any] | None = None,
    ) -> None:
        super().__init__(backend, job_id)
        data = composite.annotations.get(ANNOTATION_KEY)
        if not isinstance(data, dict) or "circuits" not in data:
            raise ConfigurationError(f"Job {job_id!r} was not created by the Qiskit front end.")
        self.composite = composite
        self._records = [CircuitRecord.from_json(record) for record in data["circuits"]]
        self._shots = int(data["shots"])
        self._memory = bool(data["memory"])
        self._timeout: float | None = data.get("timeout")
        self._live_metadata = live_metadata
        self._submission: concurrent.futures.Future[Any] | None = None
        self._result: Result | None = None

    def __repr__(self) -> str:
        return f"<OQCJob {self._job_id} on {self._backend.name}: {len(self._records)} circuit(s)>"

    @property
    def estimated_cost(self) -> Decimal | None:
        """The run's estimated cost when it was submitted (credits as the registry priced them).

        ``None`` when a price was not published or no estimate was recorded. Kept in the local job
        store, so a job retrieved in another process reports it too. Waits for the submission,
        which records it, if that is still under way.
        """
        if self._submission is not None and not self._submission.done():
            self._wait_for_submission(time.monotonic() + 60.0)
        return self.composite.estimated_cost

    @property
    def _session(self) -> Any:
        return self._backend.provider.session

    # --- submission ----------------------------------------------------------------------------

    def submit(self) -> None:
        """Send the batch without waiting (``backend.run`` already does; a second call does nothing)."""
        if self._submission is not None:
            return
        if not all(job.state is JobState.CREATED for job in self.composite.jobs):
            return  # tasks already on the server are never sent twice (result() resumes the rest)
        # Every child is CREATED (nothing is re-run). Calling submit() records the batch at once
        # (the engine's write-ahead), so it is in the job store before run() returns.
        self._submission = self._session.loop.submit(self.composite.submit(timeout_s=60.0))

    def _wait_for_submission(self, deadline: float | None) -> None:
        if self._submission is None:
            return
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            self._submission.result(remaining)
        except concurrent.futures.TimeoutError:
            raise OQCJobTimeoutError(
                f"Job {self._job_id} is still being submitted; call result() again later."
            ) from None

    # --- state ---------------------------------------------------------------------------------

    def status(self) -> JobStatus:
        """The job's status, read from the server when it has not finished.

        A batch is DONE when every circuit completed, ERROR when any failed, CANCELLED when all
        were cancelled, and otherwise as far as its least advanced circuit.
        """
        if self._submission is not None:
            if not self._submission.done():
                return JobStatus.INITIALIZING
            if self._submission.exception() is not None:
                return JobStatus.ERROR
        if not self.composite.state.is_terminal:
            try:
                self._session.run(self.composite.refresh(), timeout=60)  # recorded by the engine
            except (OqcProviderError, TimeoutError) as exc:
                logger.warning("Could not refresh job %s: %s", self._job_id, exc)
        return STATUS_OF_STATE[self.composite.state]

    def result(self, timeout: float | None = None) -> Result:
        """Wait for every circuit to end and return the Result (failed circuits unsuccessful).

        Args:
            timeout: seconds to wait; ``None`` uses the run's ``timeout`` option.

        While it waits, a bar of circuits done (with an ETA) shows on stderr in a terminal;
        ``OQC_PROVIDER_PROGRESS=0`` turns it off.

        Raises:
            OQCServiceUnreachableError: the deadline passed while the service could not be
                reached (the job stays active and saved; call again once it is back).
            OQCJobTimeoutError: the deadline passed first (the job goes on; call again later).
        """
        if self._result is not None:
            return self._result
        wait_s = timeout if timeout is not None else self._timeout
        deadline = None if wait_s is None else time.monotonic() + wait_s
        self._wait_for_submission(deadline)
        if self._submission is not None and self._submission.exception() is not None:
            raise self._submission.exception()  # type: ignore[misc]
        if not self._ended():
            remaining = None if deadline is None else max(0.001, deadline - time.monotonic())
            try:
                with progress_for(self.composite, description=self._backend.name):
                    self._session.run(self.composite.wait(timeout_s=remaining))
            except JobStillActive as exc:
                raise self._unreachable(exc) from exc
            except TimeoutError:
                raise self._still_running(wait_s) from None
        result = build_result(
            self.composite,
            self._records,
            job_id=self._job_id,
            backend_name=self._backend.name,
            shots=self._shots,
            memory=self._memory,
            metadata=self._live_metadata,
        )
        self._result = result
        return result

    def wait_for_final_state(
        self, timeout: float | None = None, wait: float = 5, callback: Callable[..., Any] | None = None
    ) -> None:
        """Wait until every circuit has ended (Qiskit's ``JobV1`` API), without fetching the Result.

        The engine's poller reads the server (the base class's loop would only see ``status()``
        fall back to the last known state when the service cannot be reached).

        Args:
            timeout: seconds to wait; ``None``: until the job ends.
            wait: seconds between calls of ``callback``.
            callback: called as ``callback(job_id, status, job)`` every ``wait`` seconds until the end.

        Raises:
            OQCServiceUnreachableError: the deadline passed while the service could not be
                reached (the job stays active and saved; call again once it is back).
            OQCJobTimeoutError: the deadline passed first (the job goes on; call again later).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wait_for_submission(deadline)
        if self._submission is not None and self._submission.exception() is not None:
            return  # status() is ERROR; result() raises the submission's error
        failing: JobStillActive | None = None  # the current run of unreadable slices, merged
        while not self._ended():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise (self._unreachable(failing) if failing else self._still_running(timeout))
            step = wait if left is None else min(wait, left)
            try:
                self._session.run(self.composite.wait(timeout_s=max(0.001, step)))
                failing = None
            except JobStillActive as exc:
                failing = exc if failing is None else _merged(failing, exc)
            except TimeoutError:
                failing = None
            if callback is not None and not self._ended():
                callback(self._job_id, STATUS_OF_STATE[self.composite.state], self)

    def _ended(self) -> bool:
        return self.composite.state.is_terminal and not any(
            job.state is JobState.CREATED for job in self.composite.jobs
        )

    def _unreachable(self, error: JobStillActive) -> OQCServiceUnreachableError:
        """The error for a wait that ended while the service could not be reached."""
        return OQCServiceUnreachableError(
            unreachable_message(
                error,
                subject=f"Job {self._job_id}",
                saved="It is saved in the local job store.",
                resume=f"call result() again, or backend.retrieve_job({self._job_id!r}).result() "
                f"(or `oqc-provider jobs result {self._job_id} --wait 60`) from any process.",
            ),
            error,
        )

    def _still_running(self, wait_s: float | None) -> OQCJobTimeoutError:
        """The error for a wait that ended while the service answered: the queue is slow (or the
        QPU is outside its execution window, which it then says)."""
        progress = self.composite.progress
        closed = closed_window_text(self.composite.jobs)
        return OQCJobTimeoutError(
            f"Job {self._job_id} did not finish within {wait_s} s ({progress.done} of "
            f"{progress.total} circuits done). {closed + ' ' if closed else ''}It goes on: call result() "
            f"again, or backend.retrieve_job({self._job_id!r}) later."
        )

    def queue_info(self) -> QueueStatus | None:
        """The queue and execution windows of the QPU this job waits on, read now; None when no
        circuit of it is queued. A reading that fails is logged and gives None."""
        if self.status() is not JobStatus.QUEUED:
            return None
        statuses = self._session.run(self.composite.read_queue(), timeout=60)
        return next(iter(statuses.values()), None)

    def status_message(self) -> str:
        """The status in words, saying why a queued job waits, e.g. ``"queued (21 tasks in the
        QPU's queue); next window opens 00:50 UTC, in 3 h 12 min"`` (one extra request while queued)."""
        if self.queue_info() is not None:
            reason = self.composite.waiting_reason()
            if reason is not None:
                return reason
        return STATUS_OF_STATE[self.composite.state].value

    def estimated_start(self) -> datetime | None:
        """When the service expects the last queued circuit of this job to start
        (``task_wait_time``); None when none is queued or the service gives no estimate."""
        starts = self._session.run(self._session.sdk.estimated_starts(self.composite.jobs), timeout=60)
        known = [start for start in starts.values() if start is not None]
        return max(known, default=None)

    def cancel(self) -> bool:
        """Ask the server to cancel every circuit still in flight; ``True`` if any was cancelled."""
        self._wait_for_submission(time.monotonic() + 60)
        self._session.run(self.composite.cancel(), timeout=60)
        return any(job.state is JobState.CANCELLED for job in self.composite.jobs)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the job (the engine snapshot with its Qiskit data) to ``path`` as JSON, atomically."""
        self._wait_for_submission(time.monotonic() + 60)
        self.composite.save(str(path))

    @classmethod
    def load(cls, path: str | Path, source: OQCProvider | OQCBackend | None = None) -> OQCJob:
        """A job saved with :meth:`save`, attached to a provider (or backend); no network call.

        With no ``source`` a new :class:`OQCProvider` is made from the environment (nothing
        configured: the built-in emulator).

        Raises:
            ConfigurationError: the file is not a Qiskit job.
            SnapshotError: the file is not a valid snapshot.
        """
        snapshot = read_snapshot(Path(path))
        if not isinstance(snapshot, CompositeJobSnapshot) or ANNOTATION_KEY not in snapshot.annotations:
            raise ConfigurationError(f"{path} does not hold a job saved by OQCJob.save().")
        data = snapshot.annotations[ANNOTATION_KEY]
        return _backend_for(source, str(data["qpu_id"])).job_from_snapshot(str(data["job_id"]), snapshot)


def _merged(first: JobStillActive, latest: JobStillActive) -> JobStillActive:
    """One report for consecutive unreadable waits: since the first, every failed read, the last error."""
    return JobStillActive(
        latest.jobs,
        url=latest.url,
        since=first.since,
        attempts=first.attempts + latest.attempts,
        last_error=latest.last_error,
    )


def _backend_for(source: OQCProvider | OQCBackend | None, qpu_id: str) -> OQCBackend:
    from oqc_provider.qiskit.backend import OQCBackend
    from oqc_provider.qiskit.provider import OQCProvider

    if isinstance(source, OQCBackend):
        if source.qpu_id == qpu_id:
            return source
        source = source.provider
    provider = source if isinstance(source, OQCProvider) else OQCProvider()
    return provider.get_backend(qpu_id)
