"""The batches an ``OQCTketBackend`` made or read, and how a result handle finds its job in them.

Each ``process_circuits`` call is one engine CompositeJob, kept here by its local job store key. A
handle's job comes from memory, else from the local job store (a handle from another process), else
from the server by its task id (a lone job, when the store has no record of the batch).
"""

from __future__ import annotations

import logging
import threading
from uuid import UUID

from pytket.backends import ResultHandle

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.job import Job
from oqc_provider.engine.snapshots import JobSnapshot
from oqc_provider.engine.store import JobStore, Record
from oqc_provider.pytket.errors import HandleError
from oqc_provider.pytket.handles import HandleData
from oqc_provider.session import ProviderSession, QpuInfo

logger = logging.getLogger("oqc_provider.pytket")

#: The store's ``kind`` for batches made by this front end.
STORE_KIND = "pytket"


class BatchIndex:
    """One backend's batches by store key (thread-safe), and the lone jobs read by task id."""

    def __init__(self, session: ProviderSession, qpu: QpuInfo, store: JobStore) -> None:
        self._session = session
        self._qpu = qpu
        self._store = store
        self.batches: dict[str, CompositeJob] = {}
        self._lone: dict[tuple[str, int], Job] = {}
        self._lock = threading.RLock()

    def record(self, key: str) -> Record:
        """How this backend's batches are recorded (shots: the first circuit's)."""
        return Record(self._store, kind=STORE_KIND, job_id=key, backend=self._qpu.name)

    def add(self, key: str, composite: CompositeJob) -> None:
        """Keep a batch just made under its store key."""
        with self._lock:
            self.batches[key] = composite

    def locate(self, handle: ResultHandle) -> tuple[HandleData, Job, CompositeJob | None]:
        """The handle's job: from memory, else the local job store, else the server by task id.

        Raises:
            HandleError: not a handle of this backend's QPU.
        """
        data = HandleData.from_handle(handle)
        if data.qpu_id != self._qpu.qpu_id:
            raise HandleError(
                f"This handle is for QPU {data.qpu_id!r}, but this backend runs {self._qpu.name!r} "
                f"({self._qpu.qpu_id}): use OQCTketBackend({data.qpu_id!r}) to read it."
            )
        with self._lock:
            composite = self.batches.get(data.store_key)
            if composite is None:
                composite = self._load(data.store_key)
            if composite is not None and 0 <= data.index < len(composite.jobs):
                job = composite.jobs[data.index]
                if not data.task_id or str(job.task_id) == data.task_id:
                    return data, job, composite
            if not data.task_id:
                raise HandleError(f"{handle!r} names no task and is not in the local job store.")
            lone = self._lone.get((data.store_key, data.index))
            if lone is None:
                try:
                    task_id = UUID(data.task_id)
                except ValueError:
                    raise HandleError(
                        f"{handle!r} names the task {data.task_id!r}, which is not a task id (a UUID): "
                        "pass a handle that process_circuits returned."
                    ) from None
                snapshot = JobSnapshot(
                    program="OPENQASM 2.0;", qpu_id=data.qpu_id, task_id=task_id, state="SUBMITTED"
                )
                restored = self._session.sdk.from_snapshot(snapshot)
                assert isinstance(restored, Job)  # a JobSnapshot is always rebuilt as a Job
                lone = self._lone[(data.store_key, data.index)] = restored
            return data, lone, None

    def clear(self) -> None:
        """Forget every batch and lone job (they stay in the local job store)."""
        with self._lock:
            self.batches.clear()
            self._lone.clear()

    def _load(self, key: str) -> CompositeJob | None:
        try:
            snapshot = self._store.read(key)
        except JobStoreError as exc:
            logger.info("Batch %s is not in the local job store (%s); asking the server.", key, exc)
            return None
        batch = self._session.sdk.from_snapshot(snapshot, record=self.record(key))
        if not isinstance(batch, CompositeJob):
            return None
        self.batches[key] = batch
        return batch


__all__ = ["STORE_KIND", "BatchIndex"]
