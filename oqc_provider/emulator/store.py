"""The emulator's task store: every task, its program and its outcome in one SQLite database.

SQLite (stdlib ``sqlite3``) rather than dicts, so a served emulator restarted on the same file still
answers for old tasks and finishes the ones it had queued: that is what a client's saved job ids
need. One connection per store, shared by the event loop and the dispatcher threads under a lock;
file databases use WAL so a reader never waits on a writer.

Several processes may share one file (the default data folder is shared by every script and
notebook of a user). Every write is a ``BEGIN IMMEDIATE`` transaction (with a busy timeout), so
claiming due tasks is atomic across processes; a claimed task records its owner (host, pid,
process start time, store instance) and a heartbeat (:mod:`.leases`). Another process takes a
RUNNING task back only when its owner is gone or its lease expired, so a task run by a live
process is never run again by another. ``executions`` counts the simulations whose outcome came
back for each task (``/_emulator/stats`` shows them) and ``crashes`` the simulator processes that
died under it, which survives restarts for the poison guard.

State changes are conditional updates (``... WHERE status = 'RUNNING' AND owner = me``), so a
task cancelled while it runs keeps its CANCELLED status when the worker comes back with a result.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from oqc_provider.emulator.leases import LEASE_SECONDS, Owner, new_owner, owner_gone, retire
from oqc_provider.emulator.store_queries import TaskQueries, not_in_qpus
from oqc_provider.emulator.store_rows import (
    ACTIVE,
    BUSY_TIMEOUT,
    COLUMNS,
    LATER_COLUMNS,
    SCHEMA,
    FinishedTask,
    JsonText,
    SubmitItem,
    SubmitOutcome,
    TaskRecord,
    private_file,
    record_of,
)
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.models import TaskStatus

__all__ = ["FinishedTask", "SubmitItem", "SubmitOutcome", "TaskRecord", "TaskStore", "TaskStoreError"]


class TaskStoreError(OqcProviderError, RuntimeError):
    """The emulator's task database cannot be used (damaged, or not an SQLite file); names the file."""


class TaskStore(TaskQueries):
    """Tasks in SQLite, safe to share between threads and between processes (the reads are
    :class:`~oqc_provider.emulator.store_queries.TaskQueries`).

    Args:
        path: the database file, or ``None`` for a private in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self.owner: Owner = new_owner()
        target = ":memory:" if path is None else str(Path(path).expanduser())
        if path is not None:
            private_file(Path(target))  # before connecting: see private_file
        self._db = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT
        )
        try:
            self._prepare(path is not None)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise  # busy, not damaged
            raise TaskStoreError(
                f"The emulator's task database {target} cannot be read ({exc}): it is damaged or not "
                "an SQLite file. Move it aside (rename it) and the emulator starts an empty one; "
                "results already saved in the local job store do not depend on it."
            ) from None

    def _prepare(self, on_disk: bool) -> None:
        """Set the journal up and create (or extend) the schema."""
        if on_disk:
            # WAL: readers never block on writers (other processes' included), and a crash
            # loses at most the last transaction.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        with self._write():
            for statement in SCHEMA.split(";"):  # not executescript: it would COMMIT early
                if statement.strip():
                    self._db.execute(statement)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
            for column, declaration in LATER_COLUMNS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE tasks ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Close the database; the store is unusable afterwards and owns no task any more."""
        retire(self.owner)
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with ``BEGIN IMMEDIATE``: every process's writes serialise
        here (waiting up to the busy timeout), so a read-then-update cannot interleave with another
        process's."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- writes ----------------------------------------------------------------------------------

    def allocate(self, qpu_id: str, tags: list[str | None]) -> list[str]:
        """Pre-allocate one CREATED task per entry of ``tags`` (§1.3) and return their ids."""
        now = time.time()
        ids = [str(uuid.uuid4()) for _ in tags]
        with self._write():
            self._db.executemany(
                "INSERT INTO tasks (id, qpu_id, status, tag, created_at, timings) VALUES (?,?,?,?,?,?)",
                [
                    (task_id, qpu_id, TaskStatus.CREATED.value, tag, now, "{}")
                    for task_id, tag in zip(ids, tags, strict=True)
                ],
            )
        return ids

    def submit(
        self,
        *,
        task_id: str | None,
        qpu_id: str,
        program: str,
        config: str,
        tag: str | None,
        external_config: dict[str, Any] | None,
        due_at: float,
        rerun: bool = False,
    ) -> SubmitOutcome:
        """Queue one program (see :meth:`submit_many`)."""
        item = SubmitItem(task_id, qpu_id, program, config, tag, external_config)
        return self.submit_many([item], due_at=due_at, rerun=rerun)[0]

    def submit_many(
        self, items: Sequence[SubmitItem], *, due_at: float, rerun: bool = False
    ) -> list[SubmitOutcome]:
        """Queue programs in one transaction (a submit request's worth: one commit, not one per task).

        An id already past CREATED is answered, not re-queued (``rerun``: re-queued).
        """
        now = time.time()
        timings = json.dumps({"SERVER_RECEIVED": now, "SERVER_ENQUEUED": now})
        outcomes = []
        with self._write():
            for item in items:
                task_id = item.task_id or str(uuid.uuid4())
                row = self._db.execute(
                    "SELECT status, program FROM tasks WHERE id = ?", (task_id,)
                ).fetchone()
                if row is not None and row[0] != TaskStatus.CREATED.value and not rerun:
                    outcomes.append(SubmitOutcome(task_id, queued=False, conflict=row[1] != item.program))
                    continue
                if row is None:
                    self._db.execute(
                        "INSERT INTO tasks (id, qpu_id, status, tag, created_at, timings) "
                        "VALUES (?,?,?,?,?,?)",
                        (task_id, item.qpu_id, TaskStatus.CREATED.value, item.tag, now, "{}"),
                    )
                self._db.execute(
                    "UPDATE tasks SET status = ?, qpu_id = ?, program = ?, config = ?, external_config = ?, "
                    "tag = COALESCE(?, tag), due_at = ?, timings = ?, submissions = submissions + 1 "
                    "WHERE id = ?",
                    (
                        TaskStatus.SUBMITTED.value,
                        item.qpu_id,
                        item.program,
                        item.config,
                        None if item.external_config is None else json.dumps(item.external_config),
                        item.tag,
                        due_at,
                        timings,
                        task_id,
                    ),
                )
                outcomes.append(SubmitOutcome(task_id, queued=True))
        return outcomes

    def submitted_programs(self, task_ids: Sequence[str]) -> dict[str, tuple[TaskStatus, str | None]]:
        """The status and program of each of ``task_ids`` the store knows (one query)."""
        found: dict[str, tuple[TaskStatus, str | None]] = {}
        for start in range(0, len(task_ids), 500):  # SQLite's bound-parameter limit
            chunk = list(task_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT id, status, program FROM tasks WHERE id IN ({marks})", chunk
                ).fetchall()
            found.update((row[0], (TaskStatus(row[1]), row[2])) for row in rows)
        return found

    def cancel(self, task_ids: list[str]) -> int:
        """Cancel every active task among ``task_ids``; unknown and terminal ids are left alone."""
        if not task_ids:
            return 0
        marks = ",".join("?" * len(task_ids))
        with self._write():
            cursor = self._db.execute(
                f"UPDATE tasks SET status = ?, results = NULL WHERE id IN ({marks}) "
                f"AND status IN ({','.join('?' * len(ACTIVE))})",
                (TaskStatus.CANCELLED.value, *task_ids, *ACTIVE),
            )
        return cursor.rowcount

    def take_due(
        self, now: float | None = None, limit: int | None = None, *, skip_qpus: Sequence[str] = ()
    ) -> list[TaskRecord]:
        """Claim SUBMITTED tasks whose time has come (oldest first, at most ``limit``): mark them
        RUNNING, owned by this store with a fresh heartbeat, and return them. Tasks of
        ``skip_qpus`` (QPUs outside their execution window) stay queued.

        Atomic across processes: two stores on one file never claim the same task.
        """
        now = time.time() if now is None else now
        owner = self.owner
        skip = not_in_qpus(skip_qpus)
        with self._write():
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM tasks WHERE status = ? AND due_at <= ?{skip} ORDER BY seq LIMIT ?",
                (TaskStatus.SUBMITTED.value, now, *skip_qpus, -1 if limit is None else limit),
            ).fetchall()
            records = []
            for row in rows:
                timings = json.loads(row[12])
                timings.update(SERVER_DEQUEUED=now, RECEIVER_DEQUEUED=now, RECEIVER_ENQUEUED=now)
                self._db.execute(
                    "UPDATE tasks SET status = ?, timings = ?, owner_host = ?, owner_pid = ?, "
                    "owner_started = ?, owner_instance = ?, heartbeat = ? WHERE id = ? AND status = ?",
                    (
                        TaskStatus.RUNNING.value,
                        json.dumps(timings),
                        owner.host,
                        owner.pid,
                        owner.started,
                        owner.instance,
                        now,
                        row[0],
                        TaskStatus.SUBMITTED.value,
                    ),
                )
                records.append(
                    record_of((*row[:2], TaskStatus.RUNNING.value, *row[3:12], json.dumps(timings)))
                )
        return records

    def heartbeat(self) -> int:
        """Renew the lease on every task this store runs; return how many."""
        with self._write():
            cursor = self._db.execute(
                "UPDATE tasks SET heartbeat = ? WHERE status = ? AND owner_instance = ?",
                (time.time(), TaskStatus.RUNNING.value, self.owner.instance),
            )
        return cursor.rowcount

    def finish(
        self,
        task_id: str,
        *,
        results: Any = None,
        execution_metadata: dict[str, Any] | None = None,
        error: tuple[int, str] | None = None,
        started: float | None = None,
        executed: bool = True,
    ) -> bool:
        """Store the outcome of a task this store runs; False when it was cancelled (or taken back
        after a lost lease) meanwhile: the outcome is dropped.

        ``executed`` says a simulation came back for it (counted in ``executions`` even when the
        outcome is dropped: a duplicate run is what the counter is there to show).
        """
        with self._write():
            return self._finish(task_id, results, execution_metadata, error, started, executed)

    def finish_many(self, outcomes: Iterable[FinishedTask]) -> list[str]:
        """Store a chunk's outcomes (all simulated) in one transaction; return the ids dropped."""
        with self._write():
            return [
                outcome.task_id
                for outcome in outcomes
                if not self._finish(
                    outcome.task_id, outcome.results, outcome.metadata, outcome.error, outcome.started, True
                )
            ]

    def _finish(
        self,
        task_id: str,
        results: Any,
        execution_metadata: dict[str, Any] | None,
        error: tuple[int, str] | None,
        started: float | None,
        executed: bool,
    ) -> bool:
        now = time.time()
        if executed:
            self._db.execute("UPDATE tasks SET executions = executions + 1 WHERE id = ?", (task_id,))
        row = self._db.execute(
            "SELECT timings FROM tasks WHERE id = ? AND status = ? AND owner_instance = ?",
            (task_id, TaskStatus.RUNNING.value, self.owner.instance),
        ).fetchone()
        if row is None:
            return False
        timings = json.loads(row[0])
        timings.update(RECEIVER_TO_SCC=started or now, RECEIVER_FROM_SCC=now)
        if error is None:
            status, error_json = TaskStatus.COMPLETED, None
        else:
            status = TaskStatus.FAILED
            error_json = json.dumps({"error_code": error[0], "error_message": error[1]})
        self._db.execute(
            "UPDATE tasks SET status = ?, results = ?, task_error = ?, execution_metadata = ?, "
            "timings = ? WHERE id = ? AND status = ?",
            (
                status.value,
                None
                if error is not None
                else results
                if isinstance(results, JsonText)
                else json.dumps(results),
                error_json,
                None if execution_metadata is None else json.dumps(execution_metadata),
                json.dumps(timings),
                task_id,
                TaskStatus.RUNNING.value,
            ),
        )
        return True

    def record_crash(self, task_id: str) -> int:
        """Count one simulator death under ``task_id``; return its crashes so far (kept on disk, so
        the poison guard holds across restarts)."""
        with self._write():
            self._db.execute("UPDATE tasks SET crashes = crashes + 1 WHERE id = ?", (task_id,))
            row = self._db.execute("SELECT crashes FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def crashes(self, task_id: str) -> int:
        """How many simulator processes died under ``task_id``."""
        with self._lock:
            row = self._db.execute("SELECT crashes FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def reclaim(self, due_at: float | None = None) -> int:
        """Re-queue RUNNING tasks whose owner is gone or whose lease expired; return how many.

        A task another live process runs is left alone: that is what keeps two processes from
        simulating one task. Re-queued tasks become due at ``due_at`` (now by default).
        """
        now = time.time()
        with self._write():
            rows = self._db.execute(
                "SELECT id, owner_host, owner_pid, owner_started, owner_instance, heartbeat FROM tasks "
                "WHERE status = ? AND (owner_instance IS NULL OR owner_instance != ?)",
                (TaskStatus.RUNNING.value, self.owner.instance),
            ).fetchall()
            lost = [
                row[0]
                for row in rows
                if row[5] is None
                or now - row[5] > LEASE_SECONDS
                or owner_gone(self.owner, row[1], row[2], row[3], row[4])
            ]
            for task_id in lost:
                self._db.execute(
                    "UPDATE tasks SET status = ?, due_at = ?, owner_instance = NULL "
                    "WHERE id = ? AND status = ?",
                    (TaskStatus.SUBMITTED.value, now if due_at is None else due_at, task_id,
                     TaskStatus.RUNNING.value),
                )  # fmt: skip
        return len(lost)

    def requeue_interrupted(self, latency: float = 0.0) -> int:
        """At start-up: re-queue what gone processes left RUNNING, and bring forward what waits
        SUBMITTED; return how many tasks were re-queued.

        Both become due within this process's ``latency``: a restarted emulator finishes old work
        on its own schedule, not on the one of the process that accepted it.
        """
        due = time.time() + max(0.0, latency)
        with self._write():
            self._db.execute(
                "UPDATE tasks SET due_at = MIN(COALESCE(due_at, 0), ?) WHERE status = ?",
                (due, TaskStatus.SUBMITTED.value),
            )
        return self.reclaim(due)
