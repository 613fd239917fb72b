"""What the emulator reads from its task store: one task, tasks by time, counts, the queue.

:class:`TaskQueries` is the read half of :class:`~oqc_provider.emulator.store.TaskStore` (which
opens the database and writes it): every query here takes the store's lock for one statement or a
few, and never writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from oqc_provider.emulator.store_rows import COLUMNS, TaskRecord, record_of
from oqc_provider.qcaas.models import TaskStatus


class TaskQueries:
    """The task store's reads, over the connection and lock its subclass opens."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def get(self, task_id: str, *, decode_results: bool = True) -> TaskRecord | None:
        """The task ``task_id``, or None when the store never heard of it (``decode_results=False``:
        its results as the stored JSON text)."""
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else record_of(row, decode_results)

    def between(self, start: float, end: float, qpu_id: str | None = None) -> list[TaskRecord]:
        """Tasks created in ``[start, end]`` (optionally of one QPU), oldest first."""
        query = f"SELECT {COLUMNS} FROM tasks WHERE created_at BETWEEN ? AND ?"
        params: tuple[Any, ...] = (start, end)
        if qpu_id is not None:
            query += " AND qpu_id = ?"
            params += (qpu_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [record_of(row) for row in rows]

    def status_counts(self) -> dict[str, int]:
        """How many tasks are in each status."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def execution_stats(self) -> dict[str, Any]:
        """Submissions and simulations per task: totals, tasks queued or run more than once, crashes."""
        with self._lock:
            total, crashes, submissions = self._db.execute(
                "SELECT COALESCE(SUM(executions), 0), COALESCE(SUM(crashes), 0), "
                "COALESCE(SUM(submissions), 0) FROM tasks"
            ).fetchone()
            queued_again = [
                row[0] for row in self._db.execute("SELECT id FROM tasks WHERE submissions > 1 ORDER BY id")
            ]
            repeated = [
                {"id": row[0], "executions": row[1]}
                for row in self._db.execute(
                    "SELECT id, executions FROM tasks WHERE executions > 1 ORDER BY seq LIMIT 20"
                )
            ]
            executed = self._db.execute("SELECT COUNT(*) FROM tasks WHERE executions > 0").fetchone()[0]
        return {
            "executions": int(total),
            "executed_tasks": int(executed),
            "repeated_executions": repeated,
            "crashes": int(crashes),
            "submissions": int(submissions),
            "queued_more_than_once": queued_again,
        }

    def queued(self, qpu_id: str | None = None) -> int:
        """How many tasks wait or run (SUBMITTED or RUNNING), optionally on one QPU."""
        query = "SELECT COUNT(*) FROM tasks WHERE status IN (?, ?)"
        params: tuple[Any, ...] = (TaskStatus.SUBMITTED.value, TaskStatus.RUNNING.value)
        if qpu_id is not None:
            query += " AND qpu_id = ?"
            params += (qpu_id,)
        with self._lock:
            return int(self._db.execute(query, params).fetchone()[0])

    def next_due(self, *, skip_qpus: Sequence[str] = ()) -> float | None:
        """When the earliest SUBMITTED task (not of ``skip_qpus``) becomes due, or None when none waits."""
        with self._lock:
            row = self._db.execute(
                f"SELECT MIN(due_at) FROM tasks WHERE status = ?{not_in_qpus(skip_qpus)}",
                (TaskStatus.SUBMITTED.value, *skip_qpus),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def waiting_qpus(self) -> list[str]:
        """The QPUs that have SUBMITTED tasks."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT qpu_id FROM tasks WHERE status = ?", (TaskStatus.SUBMITTED.value,)
            ).fetchall()
        return [row[0] for row in rows]

    def queue_position(self, task_id: str) -> int | None:
        """How many tasks of the same QPU wait or run ahead of a SUBMITTED task (None: not queued)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM tasks AS ahead JOIN tasks AS task ON ahead.qpu_id = task.qpu_id "
                "WHERE task.id = ? AND task.status = ? AND ahead.status IN (?, ?) "
                "AND (ahead.status = ? OR ahead.seq < task.seq)",
                (
                    task_id,
                    TaskStatus.SUBMITTED.value,
                    TaskStatus.SUBMITTED.value,
                    TaskStatus.RUNNING.value,
                    TaskStatus.RUNNING.value,
                ),
            ).fetchone()
            queued = self._db.execute(
                "SELECT 1 FROM tasks WHERE id = ? AND status = ?", (task_id, TaskStatus.SUBMITTED.value)
            ).fetchone()
        return None if queued is None else int(row[0])


def not_in_qpus(qpu_ids: Sequence[str]) -> str:
    """The SQL condition that leaves out ``qpu_ids`` (one placeholder each), or nothing."""
    return f" AND qpu_id NOT IN ({','.join('?' * len(qpu_ids))})" if qpu_ids else ""
