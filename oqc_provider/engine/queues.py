"""A QPU's queue and execution windows, as the service publishes them (protocol §1.8-1.9).

QCaaS runs a QPU's tasks only inside its execution windows and keeps a queue; outside a window a
task stays SUBMITTED. :class:`QueueStatus` is one reading of ``monitoring/qpu_wait_time``: tasks
in queue, when the QPU is next available, its current and next windows, and when it was read. It
is information, never job state: a failed reading changes no job.

Example:
    >>> from datetime import datetime, timezone
    >>> from oqc_provider.qcaas.models import QpuWaitTime
    >>> wire = QpuWaitTime(
    ...     qpu_id="qpu:jp:3:673b1ad43c", tasks_in_queue=21,
    ...     estimated_availability_time="2025-11-18 00:50:00",
    ...     windows=[{"start_time": "2025-11-18 00:50:00", "end_time": "2025-11-18 04:00:00",
    ...               "window_description": "NEXT"}])
    >>> status = QueueStatus.from_wire(wire, read_at=datetime(2025, 11, 17, 21, 38, tzinfo=timezone.utc))
    >>> status.is_open, status.next_window.start.isoformat()
    (False, '2025-11-18T00:50:00+00:00')
    >>> status.describe(now=status.read_at)
    "queued (21 tasks in the QPU's queue); next window opens 00:50 UTC, in 3 h 12 min"
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.models import QpuWaitTime

if TYPE_CHECKING:
    from oqc_provider.qcaas.client import QcaasClient

logger = logging.getLogger("oqc_provider.engine")

#: A wait reads the queue only once it has lasted this long (seconds) with tasks still queued: a
#: task that runs at once costs no extra request.
QUEUE_READ_AFTER = 1.0
#: ...and then at most this often (seconds), once per polling round for the whole batch.
QUEUE_READ_EVERY = 10.0


def parse_service_time(text: Any) -> datetime | None:
    """A service timestamp (``YYYY-MM-DD HH:MM:SS[.f]``, or ISO with ``T``/``Z``/an offset) in UTC;
    None when absent or unreadable (logged: a reading is information, never an error).

    >>> parse_service_time("2025-11-18 00:50:00").isoformat()
    '2025-11-18T00:50:00+00:00'
    >>> parse_service_time("2025-11-18T00:50:00Z").isoformat()
    '2025-11-18T00:50:00+00:00'
    """
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        logger.info("Could not read the service time %r", text)
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def describe_moment(moment: datetime, now: datetime) -> str:
    """``00:50 UTC, in 3 h 12 min`` (with the date when it is a day or more away).

    >>> now = datetime(2025, 11, 17, 21, 38, tzinfo=timezone.utc)
    >>> describe_moment(datetime(2025, 11, 20, 9, 0, tzinfo=timezone.utc), now)
    '2025-11-20 09:00 UTC, in 2 d 11 h'
    """
    away = moment - now
    clock = (
        moment.strftime("%H:%M UTC") if away < timedelta(hours=20) else moment.strftime("%Y-%m-%d %H:%M UTC")
    )
    if away <= timedelta(0):
        return f"{clock}, now"
    return f"{clock}, in {describe_duration(away)}"


def describe_duration(span: timedelta) -> str:
    """A wait in the two largest units: ``3 h 12 min``, ``45 s``, ``2 d 11 h``."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value} {unit}" for value, unit in parts[:2] if value or unit == parts[0][1])


@dataclass(frozen=True)
class ExecutionWindow:
    """One execution window of a QPU (UTC); ``description`` is the service's CURRENT/NEXT/FUTURE."""

    start: datetime
    end: datetime | None
    description: str | None = None

    def contains(self, moment: datetime) -> bool:
        """Whether the window is open at ``moment``."""
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class QueueStatus:
    """One reading of a QPU's queue and windows.

    Attributes:
        qpu_id: the QPU.
        tasks_in_queue: tasks the service holds for it (waiting or running, everyone's).
        estimated_availability: when the service expects it to run tasks (None: not published).
        windows: its windows as published, in order (current, next, future).
        read_at: when this was read (UTC); the service changes it as tasks come and go.
    """

    qpu_id: str
    tasks_in_queue: int
    estimated_availability: datetime | None
    windows: tuple[ExecutionWindow, ...]
    read_at: datetime

    @classmethod
    def from_wire(cls, wait: QpuWaitTime, read_at: datetime | None = None) -> QueueStatus:
        """From a ``qpu_wait_time`` entry (unreadable windows are left out, not guessed)."""
        windows = []
        for window in wait.windows:
            start = parse_service_time(window.start_time)
            if start is not None:
                end = parse_service_time(window.end_time)
                windows.append(ExecutionWindow(start, end, window.window_description))
        return cls(
            qpu_id=wait.qpu_id,
            tasks_in_queue=wait.tasks_in_queue,
            estimated_availability=parse_service_time(wait.estimated_availability_time),
            windows=tuple(windows),
            read_at=read_at or datetime.now(timezone.utc),
        )

    @property
    def current_window(self) -> ExecutionWindow | None:
        """The window open when this was read, if any."""
        return next((w for w in self.windows if w.contains(self.read_at)), None)

    @property
    def next_window(self) -> ExecutionWindow | None:
        """The first window that starts after this was read, if one is published."""
        return next((w for w in self.windows if w.start > self.read_at), None)

    @property
    def is_open(self) -> bool:
        """Whether the QPU was running tasks when read: in a window, or (none published) available."""
        if self.windows:
            return self.current_window is not None
        return self.estimated_availability is None or self.estimated_availability <= self.read_at

    def window_text(self, now: datetime | None = None) -> str:
        """Where the QPU stands on its windows: ``next window opens 00:50 UTC, in 3 h 12 min``."""
        now = now or datetime.now(timezone.utc)
        current = next((w for w in self.windows if w.contains(now)), None)
        if current is not None:
            until = "" if current.end is None else f" until {describe_moment(current.end, now)}"
            return f"in its execution window{until}"
        upcoming = next((w for w in self.windows if w.start > now), None)
        if upcoming is not None:
            return f"next window opens {describe_moment(upcoming.start, now)}"
        if self.windows:
            return "outside its execution windows; no further window is published"
        if self.estimated_availability is not None and self.estimated_availability > now:
            return f"available from {describe_moment(self.estimated_availability, now)}"
        return "available now"

    def window_summary(self, now: datetime | None = None) -> str:
        """A table cell: ``open until 04:00 UTC, in 3 h``, ``opens 00:50 UTC, in 3 h 12 min``, ``open``."""
        now = now or datetime.now(timezone.utc)
        current = next((w for w in self.windows if w.contains(now)), None)
        upcoming = next((w for w in self.windows if w.start > now), None)
        if current is not None:
            return "open" if current.end is None else f"open until {describe_moment(current.end, now)}"
        if upcoming is not None:
            return f"opens {describe_moment(upcoming.start, now)}"
        return "no window left" if self.windows else ("open" if self.is_open else self.window_text(now))

    def describe(self, now: datetime | None = None) -> str:
        """Why a task on this QPU waits: queue length and the window it waits for."""
        tasks = f"{self.tasks_in_queue} task{'' if self.tasks_in_queue == 1 else 's'}"
        return f"queued ({tasks} in the QPU's queue); {self.window_text(now)}"

    def closed_text(self, now: datetime | None = None) -> str | None:
        """A sentence for a timeout when the QPU is outside its window (None when it is not)."""
        now = now or datetime.now(timezone.utc)
        if not self.windows or any(w.contains(now) for w in self.windows):
            return None
        return f"{self.qpu_id} is outside its execution window: {self.window_text(now)}."


def _estimated_starts(answer: Any) -> dict[str, datetime | None]:
    """Task id -> estimated start from a ``task_wait_time`` answer (its shape is not published:
    entries it cannot read give None)."""
    entries = answer.get("task_wait_times") if isinstance(answer, dict) else answer
    starts: dict[str, datetime | None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("task_id"), str):
            starts[entry["task_id"]] = parse_service_time(entry.get("estimated_start_time"))
    return starts


class QueuedJob(Protocol):
    """What a queue reading needs from a job (a :class:`~oqc_provider.engine.job.Job`): a protocol,
    so this module stays below :mod:`.job` (no import circle)."""

    qpu_id: str
    task_id: UUID | None
    queue: QueueStatus | None

    @property
    def state(self) -> JobState:
        """The job's state."""
        ...


async def read_queues(client: QcaasClient, jobs: Sequence[QueuedJob]) -> dict[str, QueueStatus]:
    """Read the queue of every QPU with a queued (SUBMITTED) job, in one request per server, and
    note it on those jobs (``job.queue``). Nothing queued: no request.

    A failed reading is logged and changes nothing: the queue is information, not job state.
    """
    queued = [job for job in jobs if job.state is JobState.SUBMITTED]
    if not queued:
        return {}
    try:
        waits = await client.get_qpu_wait_times(sorted({job.qpu_id for job in queued}))
    except Exception as exc:  # whatever the reading raises, no wait may end on it
        logger.info("Could not read the queue of %s (%s); waiting on regardless", queued[0].qpu_id, exc)
        return {}
    read_at = datetime.now(timezone.utc)
    statuses = {wait.qpu_id: QueueStatus.from_wire(wait, read_at) for wait in waits}
    for job in queued:
        job.queue = statuses.get(job.qpu_id, job.queue)
    return statuses


def closed_window_text(jobs: Sequence[QueuedJob]) -> str | None:
    """For a timeout: the first queued job's QPU is outside its window (None when none is known to be)."""
    for job in jobs:
        if job.state is JobState.SUBMITTED and job.queue is not None:
            text = job.queue.closed_text()
            if text is not None:
                return text
    return None


async def queue_statuses(client: QcaasClient, qpu_ids: Sequence[str]) -> dict[str, QueueStatus]:
    """Each QPU's queue and windows, by QPU id (QPUs on several servers: one request per server)."""
    read_at = datetime.now(timezone.utc)
    waits = await client.get_qpu_wait_times(list(qpu_ids))
    return {wait.qpu_id: QueueStatus.from_wire(wait, read_at) for wait in waits}


async def estimated_starts(client: QcaasClient, jobs: Sequence[QueuedJob]) -> dict[UUID, datetime | None]:
    """When the service expects each queued (SUBMITTED) job's task to start, one request per QPU;
    None where it gives no estimate this client can read. Jobs not queued are left out."""
    by_qpu: dict[str, list[UUID]] = {}
    for job in jobs:
        if job.state is JobState.SUBMITTED and job.task_id is not None:
            by_qpu.setdefault(job.qpu_id, []).append(job.task_id)
    starts: dict[UUID, datetime | None] = {}
    for qpu_id, task_ids in by_qpu.items():
        read = _estimated_starts(await client.get_task_wait_times(qpu_id, task_ids))
        starts.update({task_id: read.get(str(task_id)) for task_id in task_ids})
    return starts


def least_busy(statuses: Iterable[QueueStatus]) -> QueueStatus | None:
    """The QPU that should run a new task soonest: an open one before a closed one, a closed one by
    when it opens, then the shortest queue (None when given none).

    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> busy = QueueStatus("a", 9, now, (), now)
    >>> idle_later = QueueStatus("b", 0, now + timedelta(hours=2), (), now)
    >>> least_busy([idle_later, busy]).qpu_id
    'a'
    """
    far = datetime.max.replace(tzinfo=timezone.utc)

    def rank(status: QueueStatus) -> tuple[bool, datetime, int]:
        if status.is_open:
            return (False, status.read_at, status.tasks_in_queue)
        upcoming = status.next_window.start if status.next_window is not None else None
        opens = status.estimated_availability or upcoming or far
        return (True, opens, status.tasks_in_queue)

    return min(statuses, key=rank, default=None)
