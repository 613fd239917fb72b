"""The local job store: every job's snapshot in a folder, so a new process can find it again.

Entries are ordinary snapshots (``<job id>.json``) under ``<provider home>/jobs`` (mode 0700,
files 0600), written atomically. Front ends keep what they need to rebuild results in the
snapshot's ``annotations``; the store adds a ``store`` record there (kind, backend, created,
circuits, shots, tag) for listings. A corrupt entry is reported and skipped, never a crash, and a
job id can never name a file outside the folder.

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> from oqc_provider.engine import Job
    >>> store = JobStore()
    >>> job = Job("OPENQASM 2.0;", "qpu:uk:2:d865b5a184")
    >>> _ = store.save("my-job", job, kind="engine")
    >>> [entry.job_id for entry in store.list()]
    ['my-job']
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.cost import recorded_cost, total_cost
from oqc_provider.engine.errors import JobStoreError, SnapshotError
from oqc_provider.engine.events import JobEvent
from oqc_provider.engine.job import Job
from oqc_provider.engine.snapshots import (
    AnySnapshot,
    CompositeJobSnapshot,
    SplicedJson,
    read_snapshot,
    write_atomic,
)
from oqc_provider.paths import provider_home

logger = logging.getLogger("oqc_provider.engine")

#: ``\Z``, not ``$``: ``$`` also matches before a trailing newline, so "id\n" would pass.
_JOB_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


@dataclass(frozen=True)
class StoreEntry:
    """One job in the store, as listings show it."""

    job_id: str
    kind: str
    backend: str | None
    qpu_ids: tuple[str, ...]
    created: str
    updated: str
    state: str
    circuits: int
    shots: int | None
    tag: str | None
    path: Path
    #: The estimated cost recorded at submission (credits as the registry priced them), every task's
    #: added up; ``None`` when any is unknown (a price not published, never submitted, an older save).
    cost: Decimal | None = None


def new_job_id() -> str:
    """A fresh, unguessable job id."""
    return str(uuid.uuid4())


def job_id_of(job: Job | CompositeJob) -> str | None:
    """The store id of ``job`` (``job.annotations["store"]["job_id"]``), or ``None`` if untracked."""
    record = job.annotations.get("store")
    return record.get("job_id") if isinstance(record, dict) else None


@dataclass(frozen=True)
class Record:
    """How a job is recorded in a local job store: the one way every front end records its jobs.

    Pass it to ``OqcSdk.create_job(record=...)``, ``OqcSdk.create_batch(record=...)`` or
    ``OqcSdk.from_snapshot(record=...)``; the store then follows the job's events and writes it
    once per settled change: before anything is sent (write-ahead), with its task ids before the
    submit request, after submission, and whenever a wait, refresh or cancel changed it.

    Attributes:
        store: the store to write to.
        kind: who made the job (``"engine"``, ``"qiskit"``, ``"pytket"``, ``"cli"``), for listings.
        job_id: the entry's id; ``None`` makes a fresh one.
        backend: the backend name listings show.
        shots: the shots listings show; ``None``: the first job's config says.
    """

    store: JobStore
    kind: str = "engine"
    job_id: str | None = None
    backend: str | None = None
    shots: int | None = None


def record(job: Job | CompositeJob, how: Record) -> str:
    """Make ``how.store`` record ``job`` as ``how`` says, following its events; returns its job id.

    The id is put in the job's annotations at once, so the caller can note it before anything is
    sent; the first write happens when the job is first submitted, before any network call.
    """
    return track(how.store, job, how.job_id, kind=how.kind, backend=how.backend, shots=how.shots)


def track(
    store: JobStore,
    job: Job | CompositeJob,
    job_id: str | None = None,
    *,
    kind: str = "engine",
    backend: str | None = None,
    shots: int | None = None,
) -> str:
    """Make ``store`` record ``job`` under ``job_id`` once per settled group of its events.

    The id is put in the job's annotations at once, so the caller can note it before anything is
    sent; the first write happens when the job is first submitted (its CREATED events), before any
    network call. A write that fails raises from the operation that changed the job.
    """
    job_id = job_id or new_job_id()
    store.path_for(job_id)  # reject a bad id now, not at the first save
    stored = job.annotations.get("store")
    previous = stored if isinstance(stored, dict) else {}
    job.annotations["store"] = {
        **previous,
        "job_id": job_id,
        "kind": kind,
        **({"backend": backend} if backend is not None else {}),
        **({"shots": shots} if shots is not None else {}),
    }

    def write(_events: Sequence[JobEvent]) -> None:
        entry = job.annotations.get("store", {})
        shots = entry.get("shots")
        if shots is None:
            first = job.jobs[0] if isinstance(job, CompositeJob) and job.jobs else job
            shots = first.config_to_send().shots if isinstance(first, Job) else None
        store.save(job_id, job, kind=kind, backend=entry.get("backend"), shots=shots)

    job.events.add_recorder(write)
    return job_id


class JobStore:
    """Snapshots of jobs, by job id, in one folder."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else provider_home() / "jobs"
        #: Entries written by this store object so far (each an atomic replacement of one file).
        self.writes = 0
        # Every write rewrites a batch whose programs and configs do not change: escaped once.
        self._json = SplicedJson()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # mkdir's mode is masked by the umask and ignored for an existing folder: set it.
            self.root.chmod(0o700)
        except OSError as exc:  # e.g. a folder owned by someone else: still usable, say so
            logger.warning("Could not restrict the job store folder %s to its owner: %s", self.root, exc)

    def path_for(self, job_id: str) -> Path:
        """Where ``job_id`` is kept.

        Raises:
            JobStoreError: the id could name a file outside the store (``..``, ``/``, empty...).
        """
        if not isinstance(job_id, str) or not _JOB_ID.match(job_id) or ".." in job_id:
            raise JobStoreError(
                f"{job_id!r} is not a valid job id: use letters, digits, '.', '_' and '-' (128 at most)."
            )
        return self.root / f"{job_id}.json"

    def save(
        self,
        job_id: str,
        job: Job | CompositeJob,
        *,
        kind: str,
        backend: str | None = None,
        shots: int | None = None,
    ) -> Path:
        """Write (or update) ``job_id``'s entry atomically.

        Raises:
            JobStoreError: the entry could not be written (the folder is gone or read-only, the
                disk is full); the job is not sent further until it can be.
        """
        path = self.path_for(job_id)
        now = datetime.now(timezone.utc).isoformat()
        previous = _store_record(job.annotations) or {}
        job.annotations["store"] = {
            "job_id": job_id,
            "kind": kind,
            "backend": backend,
            "created": previous.get("created", now),
            "updated": now,
            "shots": shots,
        }
        try:
            write_atomic(path, self._json.dump(job.to_snapshot()))
        except OSError as exc:
            raise JobStoreError(
                f"Could not write job {job_id!r} to the local job store ({path}): {exc}. Nothing was "
                "sent that is not recorded; make the folder writable (or free some space) and run it again."
            ) from exc
        self.writes += 1
        return path

    def read(self, job_id: str) -> AnySnapshot:
        """The snapshot of ``job_id``.

        Raises:
            JobStoreError: no such job, or its entry is unreadable.
        """
        path = self.path_for(job_id)
        if not path.is_file():
            raise JobStoreError(f"No job {job_id!r} in the local job store ({self.root}).")
        try:
            snapshot = read_snapshot(path)
            _entry(path, snapshot)  # the store's own record must be readable too
        except (SnapshotError, ValueError) as exc:
            raise JobStoreError(f"The store entry for {job_id!r} ({path}) is damaged: {exc}") from None
        return snapshot

    def list(self) -> list[StoreEntry]:
        """Every readable entry, newest first; damaged entries are logged and skipped."""
        entries = []
        for path in self.root.glob("*.json"):
            try:
                entries.append(_entry(path, read_snapshot(path)))
            except (SnapshotError, OSError, ValueError) as exc:
                logger.warning("Skipping damaged job store entry %s: %s", path, exc)
        return sorted(entries, key=lambda entry: entry.created, reverse=True)


def _store_record(annotations: dict[str, Any]) -> dict[str, Any] | None:
    """The ``store`` record of a job's annotations, or None when absent or not an object."""
    record = annotations.get("store")
    return record if isinstance(record, dict) else None


def _field(record: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    """``record[name]`` when it has the expected type (or is absent: ``default``).

    Raises:
        ValueError: the field holds another type (a damaged or hand-edited entry).
    """
    value = record.get(name, default)
    if value is default or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ValueError(f"annotations.store.{name} should be {kind.__name__}, not {type(value).__name__}")


def _entry(path: Path, snapshot: AnySnapshot) -> StoreEntry:
    """The listing of one entry.

    Raises:
        ValueError: the store's record in the entry is damaged (not an object, a field of the wrong
            type): the entry is skipped by listings, and named.
    """
    if "store" in snapshot.annotations and _store_record(snapshot.annotations) is None:
        found = type(snapshot.annotations["store"]).__name__
        raise ValueError(f"annotations.store should be an object, not {found}")
    record = _store_record(snapshot.annotations) or {}
    children = snapshot.jobs if isinstance(snapshot, CompositeJobSnapshot) else [snapshot]
    states = {child.state for child in children}
    if not children:
        state = "CREATED"
    elif len(states) == 1:
        state = next(iter(states))
    else:
        active = states & {"CREATED", "SUBMITTED", "RUNNING"}
        state = "RUNNING" if active else ("FAILED" if "FAILED" in states else "COMPLETED")
    return StoreEntry(
        job_id=_field(record, "job_id", str, path.stem),
        kind=_field(record, "kind", str, "engine"),
        backend=_field(record, "backend", str, None),
        qpu_ids=tuple(dict.fromkeys(child.qpu_id for child in children)),
        created=_field(record, "created", str, ""),
        updated=_field(record, "updated", str, ""),
        state=state,
        circuits=len(children),
        shots=_field(record, "shots", int, None),
        tag=next((child.tag for child in children if child.tag), None),
        path=path,
        cost=total_cost(recorded_cost(child.annotations) for child in children),
    )
