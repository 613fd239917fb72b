"""The task store's rows: the SQLite schema, a task record, and what a submit or an outcome carries.

Kept apart from :mod:`.store` (the transactions) so the simulator processes, which only read and
return records, need none of the store's machinery.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oqc_provider.qcaas.models import TaskStatus

SCHEMA = """
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

#: Columns added after the first release, with their declarations: added to older files on open.
LATER_COLUMNS = {
    "owner_host": "TEXT",
    "owner_pid": "INTEGER",
    "owner_started": "INTEGER",
    "owner_instance": "TEXT",
    "heartbeat": "REAL",
    "executions": "INTEGER NOT NULL DEFAULT 0",
    "crashes": "INTEGER NOT NULL DEFAULT 0",
    "submissions": "INTEGER NOT NULL DEFAULT 0",
}
#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT = 60.0

COLUMNS = (
    "id, qpu_id, status, tag, program, config, external_config, created_at, due_at, "
    "results, task_error, execution_metadata, timings"
)
ACTIVE = (TaskStatus.CREATED.value, TaskStatus.SUBMITTED.value, TaskStatus.RUNNING.value)


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
    execution_metadata: Any  # a dict, or its JSON text when read with decode_results=False
    timings: dict[str, float]


class FinishedTask(Protocol):
    """What :meth:`TaskStore.finish_many` needs of an outcome (the executor's ``Outcome``)."""

    @property
    def task_id(self) -> str: ...
    @property
    def results(self) -> Any: ...
    @property
    def metadata(self) -> dict[str, Any] | None: ...
    @property
    def error(self) -> tuple[int, str] | None: ...
    @property
    def started(self) -> float | None: ...


@dataclass(frozen=True)
class SubmitOutcome:
    """What :meth:`TaskStore.submit_many` did with one payload."""

    task_id: str
    #: False when the id was already submitted: nothing was queued again.
    queued: bool
    #: True when the id was already submitted with a different program.
    conflict: bool = False


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def record_of(row: tuple[Any, ...], decode_results: bool = True) -> TaskRecord:
    """The record of a ``COLUMNS`` row; ``decode_results=False`` leaves ``results`` and
    ``execution_metadata`` as their stored JSON texts (to send on as they are: the metadata holds
    the program run, kilobytes a poll would otherwise decode and encode again)."""
    return TaskRecord(
        id=row[0],
        qpu_id=row[1],
        status=TaskStatus(row[2]),
        tag=row[3],
        program=row[4],
        config=row[5],
        external_config=loads(row[6]),
        created_at=row[7],
        due_at=row[8],
        results=loads(row[9]) if decode_results else row[9],
        task_error=loads(row[10]),
        execution_metadata=loads(row[11]) if decode_results else row[11],
        timings=json.loads(row[12]),
    )


def private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by the user only: tasks hold users' programs.

    Call it *before* connecting, never while this process has the database open: on Linux, closing
    any descriptor on a file drops every POSIX lock the process holds on it, SQLite's included
    ("How To Corrupt An SQLite Database File", 2.2), and another process closing its connection
    would then checkpoint and delete the live WAL. So an existing file is never opened here, only
    changed by path (``chmod``); a new one is created with ``O_EXCL`` (nobody can hold it open yet).

    The folder is made 0700 only when this creates it; an existing folder may be shared on
    purpose (``--db /srv/x.sqlite3``), but the file and its WAL companions are made 0600 even
    when they already exist. SQLite gives the ``-wal``/``-shm`` it creates later the permissions of
    the database.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if companion.stat().st_mode & 0o077:
                companion.chmod(0o600)


class JsonText(str):
    """A value already encoded as JSON (a task's results as a simulator process sends them): the store
    keeps it as it is instead of decoding and encoding it again in the emulator's process."""


@dataclass(frozen=True)
class SubmitItem:
    """One program to queue (:meth:`TaskStore.submit_many`); ``task_id`` None: a fresh id."""

    task_id: str | None
    qpu_id: str
    program: str
    config: str
    tag: str | None = None
    external_config: dict[str, Any] | None = None
