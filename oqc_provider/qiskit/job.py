"""``OQCJob``: a Qiskit ``JobV1`` over one engine :class:`~oqc_provider.engine.CompositeJob`.

One child task per circuit. The batch is recorded in the local job store before anything is sent
(write-ahead), with everything needed to rebuild its Result in another process, so
``backend.retrieve_job(job.job_id())`` and ``OQCJob.load(path, provider)`` work after a restart.

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
from typing import Any

from qiskit.providers import BackendV2, JobStatus, JobV1
from qiskit.result import Result

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.progress import progress_for
from oqc_provider.engine.queues import QueueStatus
from oqc_provider.engine.snapshots import CompositeJobSnapshot, read_snapshot
from oqc_provider.engine.states import JobState
from oqc_provider.engine.waiting import WaitOutcome, outcome_of, wait_outcome
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit.provider_services import ProviderServices
from oqc_provider.qiskit.results import CircuitRecord, build_result
from oqc_provider.qiskit.waiting import wait_error

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


class OQCJob(JobV1):
    """The Qiskit job of one ``backend.run()``: a batch of tasks, one per circuit.

    Create jobs with :meth:`OQCBackend.run`; find old ones with :meth:`OQCBackend.retrieve_job`
    or :meth:`OQCJob.load`.
    """

    def __init__(
        self,
        backend: BackendV2,
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

    def _submission_outcome(self, deadline: float | None, wait_s: float | None) -> WaitOutcome | None:
        """``None`` once the submission (if any) has ended by ``deadline``; otherwise how the wait
        ended (never sent while the service is unreachable, or still being submitted).

        Raises:
            Exception: what the submission raised (e.g. a budget refusal).
        """
        if self._submission is None:
            return None
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            self._submission.result(remaining)
        except concurrent.futures.TimeoutError:
            sdk = self._session.sdk
            jobs = self.composite.jobs
            return outcome_of(
                TimeoutError(), jobs, url=sdk.url, timeout=wait_s, unreachable_since=sdk.unreachable_since
            )
        return None

    def _wait_for_submission(self, deadline: float | None) -> None:
        """Let the submission end before ``deadline``, or raise how it stands."""
        pending = self._submission_outcome(
            deadline, None if deadline is None else deadline - time.monotonic()
        )
        if pending is not None:
            raise wait_error(pending, self._job_id)

    def _wait(self, deadline: float | None, wait_s: float | None, *, bar: bool) -> WaitOutcome:
        """Wait through the engine until every circuit has ended or ``deadline``; how it ended."""
        pending = self._submission_outcome(deadline, wait_s)
        if pending is not None:
            return pending
        left = None if deadline is None else max(0.001, deadline - time.monotonic())
        sdk = self._session.sdk
        waiting = wait_outcome(
            self.composite.wait(timeout_s=left), self.composite.jobs, service=sdk, timeout=wait_s
        )
        with progress_for(self.composite, enabled=None if bar else False, description=self._backend.name):
            outcome: WaitOutcome = self._session.run(waiting)
        return outcome

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
        if not self._ended():
            outcome = self._wait(deadline, wait_s, bar=True)
            if not outcome.finished:
                raise wait_error(outcome, self._job_id)
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
        submission = self._submission
        if submission is not None and submission.done() and submission.exception() is not None:
            return  # status() is ERROR; result() raises the submission's error
        last: WaitOutcome | None = None  # consecutive failed waits are reported as one
        while not self._ended():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise wait_error(last or self._wait(deadline, timeout, bar=False), self._job_id)
            step = wait if left is None else min(wait, left)
            outcome = self._wait(time.monotonic() + step, timeout, bar=False)
            if outcome.finished:
                break
            last = outcome.after(last)
            if callback is not None:
                callback(self._job_id, STATUS_OF_STATE[self.composite.state], self)

    def _ended(self) -> bool:
        return self.composite.state.is_terminal and not any(
            job.state is JobState.CREATED for job in self.composite.jobs
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
    def load(cls, path: str | Path, source: ProviderServices | BackendV2 | None = None) -> OQCJob:
        """A job saved with :meth:`save`, attached to a provider (an ``OQCProvider()``, or the backend
        of its QPU or of another); no network call.

        Raises:
            ConfigurationError: no provider or backend was given, or the file is not a Qiskit job.
            SnapshotError: the file is not a valid snapshot.
        """
        if source is None:  # the provider decides where requests go, so the caller names it
            raise ConfigurationError(
                f"OQCJob.load({str(path)!r}) needs the provider or backend to attach the job to: "
                f"OQCJob.load({str(path)!r}, OQCProvider()), or with a backend in place of the provider."
            )
        snapshot = read_snapshot(Path(path))
        if not isinstance(snapshot, CompositeJobSnapshot) or ANNOTATION_KEY not in snapshot.annotations:
            raise ConfigurationError(f"{path} does not hold a job saved by OQCJob.save().")
        data = snapshot.annotations[ANNOTATION_KEY]
        return _backend_for(source, str(data["qpu_id"])).job_from_snapshot(str(data["job_id"]), snapshot)


def _backend_for(source: ProviderServices | BackendV2, qpu_id: str) -> Any:
    """The backend of ``qpu_id``: ``source`` itself when it is that backend, else its provider's."""
    if isinstance(source, BackendV2):
        if getattr(source, "qpu_id", None) == qpu_id:
            return source
        source = source.provider
    return source.get_backend(qpu_id)
