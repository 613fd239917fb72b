"""The emulator's task store: every task, its program and its outcome in one SQLite database.

SQLite (stdlib ``sqlite3``) rather than dicts, so a served emulator restarted on the same file still
answers for old tasks and finishes the ones it had queued: that is what a client's saved job ids
need. One connection shared by the event loop and the worker thread, guarded by a lock; file
databases use WAL so a reader never waits on the worker's writes.

State changes are conditional updates (``... WHERE status = 'RUNNING'``), so a task cancelled
while it runs keeps its CANCELLED status when the worker comes back with a result.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oqc_provider.qcaas.models import TaskStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    qpu_id TEXT NOT NULL,
    status TEXT NOT NULL,
    tag TEXT,
    program TEXT,
    config TEXT,
    external_config TEXT,
    created_at REAL NOT NULL,
    due_at REAL,
    results TEXT,
    task_error TEXT,
    execution_metadata TEXT,
    timings TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tasks_status_due ON tasks (status, due_at);
"""

_COLUMNS = (
    "id, qpu_id, status, tag, program, config, external_config, created_at, due_at, "
    "results, task_error, execution_metadata, timings"
)
_ACTIVE = (TaskStatus.CREATED.value, TaskStatus.SUBMITTED.value, TaskStatus.RUNNING.value)


@dataclass(frozen=True)
class TaskRecord:
    """One stored task. Times are epoch seconds; JSON columns are decoded."""

    id: str
    qpu_id: str
    status: TaskStatus
    tag: str | None
    program: str | None
    config: str | None
    external_config: dict[str, Any] | None
    created_at: float
    due_at: float | None
    results: Any
    task_error: dict[str, Any] | None
    execution_metadata: dict[str, Any] | None
    timings: dict[str, float]


@dataclass(frozen=True)
class SubmitOutcome:
    """What :meth:`TaskStore.submit` did with one payload."""

    task_id: str
    #: False when the id was already submitted: nothing was queued again.
    queued: bool
    #: True when the id was already submitted with a different program.
    conflict: bool = False


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _record(row: tuple[Any, ...]) -> TaskRecord:
    return TaskRecord(
        id=row[0],
        qpu_id=row[1],
        status=TaskStatus(row[2]),
        tag=row[3],
        program=row[4],
        config=row[5],
        external_config=_loads(row[6]),
        created_at=row[7],
        due_at=row[8],
        results=_loads(row[9]),
        task_error=_loads(row[10]),
        execution_metadata=_loads(row[11]),
        timings=json.loads(row[12]),
    )


class TaskStore:
    """Tasks in SQLite, safe to share between the event loop and the worker thread.

    Args:
        path: the database file, or ``None`` for a private in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        target = ":memory:" if path is None else str(path)
        if path is not None:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            # WAL: readers (the event loop) never block on the worker's writes, and a crash
            # loses at most the last transaction.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database; the store is unusable afterwards."""
        with self._lock:
            self._db.close()

    # --- writes ----------------------------------------------------------------------------------

    def allocate(self, qpu_id: str, tags: list[str | None]) -> list[str]:
        """Pre-allocate one CREATED task per entry of ``tags`` (§1.3) and return their ids."""
        now = time.time()
        ids = [str(uuid.uuid4()) for _ in tags]
        with self._lock, self._db:
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
        """Queue a program. An id already past CREATED is answered, not re-queued (``rerun``: re-queued)."""
        now = time.time()
        task_id = task_id or str(uuid.uuid4())
        external = None if external_config is None else json.dumps(external_config)
        timings = json.dumps({"SERVER_RECEIVED": now, "SERVER_ENQUEUED": now})
        with self._lock, self._db:
            row = self._db.execute("SELECT status, program FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is not None and row[0] != TaskStatus.CREATED.value and not rerun:
                return SubmitOutcome(task_id, queued=False, conflict=row[1] != program)
            if row is None:
                self._db.execute(
                    "INSERT INTO tasks (id, qpu_id, status, tag, created_at, timings) VALUES (?,?,?,?,?,?)",
                    (task_id, qpu_id, TaskStatus.CREATED.value, tag, now, "{}"),
                )
            self._db.execute(
                "UPDATE tasks SET status = ?, qpu_id = ?, program = ?, config = ?, external_config = ?, "
                "tag = COALESCE(?, tag), due_at = ?, timings = ? WHERE id = ?",
                (
                    TaskStatus.SUBMITTED.value,
                    qpu_id,
                    program,
                    config,
                    external,
                    tag,
                    due_at,
                    timings,
                    task_id,
                ),
            )
        return SubmitOutcome(task_id, queued=True)

    def cancel(self, task_ids: list[str]) -> int:
        """Cancel every active task among ``task_ids``; unknown and terminal ids are left alone."""
        if not task_ids:
            return 0
        marks = ",".join("?" * len(task_ids))
        with self._lock, self._db:
            cursor = self._db.execute(
                f"UPDATE tasks SET status = ?, results = NULL WHERE id IN ({marks}) "
                f"AND status IN ({','.join('?' * len(_ACTIVE))})",
                (TaskStatus.CANCELLED.value, *task_ids, *_ACTIVE),
            )
        return cursor.rowcount

    def take_due(self, now: float | None = None) -> list[TaskRecord]:
        """Mark every SUBMITTED task whose time has come RUNNING, and return them (oldest first)."""
        now = time.time() if now is None else now
        with self._lock, self._db:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE status = ? AND due_at <= ? ORDER BY seq",
                (TaskStatus.SUBMITTED.value, now),
            ).fetchall()
            records = []
            for row in rows:
                timings = json.loads(row[12])
                timings.update(SERVER_DEQUEUED=now, RECEIVER_DEQUEUED=now, RECEIVER_ENQUEUED=now)
                self._db.execute(
                    "UPDATE tasks SET status = ?, timings = ? WHERE id = ?",
                    (TaskStatus.RUNNING.value, json.dumps(timings), row[0]),
                )
                records.append(_record((*row[:2], TaskStatus.RUNNING.value, *row[3:12], json.dumps(timings))))
        return records

    def finish(
        self,
        task_id: str,
        *,
        results: Any = None,
        execution_metadata: dict[str, Any] | None = None,
        error: tuple[int, str] | None = None,
        started: float | None = None,
    ) -> bool:
        """Store a RUNNING task's outcome; False when it was cancelled meanwhile (outcome dropped)."""
        now = time.time()
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT timings FROM tasks WHERE id = ? AND status = ?", (task_id, TaskStatus.RUNNING.value)
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
                    None if error is not None else json.dumps(results),
                    error_json,
                    None if execution_metadata is None else json.dumps(execution_metadata),
                    json.dumps(timings),
                    task_id,
                    TaskStatus.RUNNING.value,
                ),
            )
        return True

    def requeue_interrupted(self, latency: float = 0.0) -> int:
        """Re-queue what a previous process left SUBMITTED or RUNNING; return how many tasks.

        They become due within this process's ``latency``: a restarted emulator finishes old work
        on its own schedule, not on the one of the process that accepted it.
        """
        with self._lock, self._db:
            cursor = self._db.execute(
                "UPDATE tasks SET status = ?, due_at = MIN(COALESCE(due_at, 0), ?) WHERE status IN (?, ?)",
                (
                    TaskStatus.SUBMITTED.value,
                    time.time() + max(0.0, latency),
                    TaskStatus.SUBMITTED.value,
                    TaskStatus.RUNNING.value,
                ),
            )
        return cursor.rowcount

    # --- reads -----------------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord | None:
        """The task ``task_id``, or None when the store never heard of it."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else _record(row)

    def between(self, start: float, end: float, qpu_id: str | None = None) -> list[TaskRecord]:
        """Tasks created in ``[start, end]`` (optionally of one QPU), oldest first."""
        query = f"SELECT {_COLUMNS} FROM tasks WHERE created_at BETWEEN ? AND ?"
        params: tuple[Any, ...] = (start, end)
        if qpu_id is not None:
            query += " AND qpu_id = ?"
            params += (qpu_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [_record(row) for row in rows]

    def status_counts(self) -> dict[str, int]:
        """How many tasks are in each status."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def queued(self, qpu_id: str | None = None) -> int:
        """How many tasks wait or run (SUBMITTED or RUNNING), optionally on one QPU."""
        query = "SELECT COUNT(*) FROM tasks WHERE status IN (?, ?)"
        params: tuple[Any, ...] = (TaskStatus.SUBMITTED.value, TaskStatus.RUNNING.value)
        if qpu_id is not None:
            query += " AND qpu_id = ?"
            params += (qpu_id,)
        with self._lock:
            return int(self._db.execute(query, params).fetchone()[0])

    def next_due(self) -> float | None:
        """When the earliest SUBMITTED task becomes due, or None when nothing waits."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(due_at) FROM tasks WHERE status = ?", (TaskStatus.SUBMITTED.value,)
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])
