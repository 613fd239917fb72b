"""Following many tasks on a server that has no batch-status endpoint (protocol §1.5).

The protocol lets a client read one task at a time (``all_info``), so the cost of waiting is the
number of reads. Reading every pending task every round wastes reads on a long queue; following
only the oldest one (as this engine once did) lets one held task hide all the others. Each round
here reads:

* the **head**, the oldest pending task (queues finish roughly in order), and
* every other round while the head has not moved, a **scout**: one other pending task, taken in
  turn through the rest, so a task that finished out of order is seen even while the head is
  held (a QPU waiting for its window);

and whenever a read finds a finished task, it **sweeps** forward from it: one task alone, and if
it finished the ``PollSchedule.window - 1`` after it together, for as long as whole windows
finish. A round wastes at most two reads plus one partial window, whatever the batch size.

Rounds are spaced so that a finished task is noticed within ``max(0.3 s, 10 %)`` of the time
waited so far: the gap starts at ``first`` and doubles, but never exceeds ``max(floor, fraction x
elapsed)`` (nor ``longest``).

Only the server ends a job. A read that fails (a dropped connection, a 5xx, a 404, an expired
token, a body that cannot be parsed) leaves the job as it was and is tried again next round,
until the caller's deadline; then :class:`~oqc_provider.engine.errors.JobStillActive` says the
task could not be read, apart from a plain ``TimeoutError`` for a slow queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol, TypeVar

from oqc_provider.engine.errors import JobStillActive, SubmissionIncomplete
from oqc_provider.engine.events import EventPublisher, JobEvent
from oqc_provider.engine.queues import QUEUE_READ_AFTER, QUEUE_READ_EVERY, QueuedJob, closed_window_text
from oqc_provider.engine.states import JobState
from oqc_provider.errors import OqcProviderError


class PolledJob(QueuedJob, Protocol):
    """What polling needs from a job (a :class:`~oqc_provider.engine.job.Job`): a protocol, so
    this module stays below :mod:`.job` (no import circle)."""

    events: EventPublisher

    async def refresh(self, *, deadline: float | None = None) -> object:
        """Read the task once."""
        ...


logger = logging.getLogger("oqc_provider.engine")

T = TypeVar("T")


@dataclass(frozen=True)
class PollSchedule:
    """How often to read tasks that have not finished.

    The first round is immediate; the gap then starts at ``first`` and grows by ``factor``, but
    stays under ``max(floor, fraction x time waited so far)`` and under ``longest``. A round that saw
    one task finish holds the gap; one that saw several shrinks it back towards ``first``: tasks are
    finishing faster than the rounds come, so reading sooner wastes little, and a batch's last results
    are noticed sooner. A QPU finishing tasks one at a time, seconds apart, is not polled any faster
    than before (each faster round would be one more wasted read per task). With the defaults a
    finished head is noticed within max(0.3 s, 10 % of the wait) (the floor and fraction leave room
    for the read itself).
    """

    first: float = 0.02
    factor: float = 2.0
    longest: float = 5.0
    #: Tasks read together when a read finds a finished one.
    window: int = 8
    #: The gap between rounds may always grow to this many seconds...
    floor: float = 0.25
    #: ...and beyond it to this fraction of the time waited so far.
    fraction: float = 0.09

    def gap(self, previous: float | None, elapsed: float, *, finished: int = 0) -> float:
        """The wait before the next round, after waiting ``previous`` (``None``: the first) in which
        ``finished`` tasks were seen to end: none grows the gap, one holds it, more shrink it."""
        if previous is None:
            grown = self.first
        elif finished == 0:
            grown = previous * self.factor
        elif finished == 1:
            grown = previous
        else:
            grown = max(self.first, previous / self.factor)
        return max(0.0, min(grown, self.longest, max(self.floor, self.fraction * elapsed)))


def deadline_after(timeout_s: float | None) -> float | None:
    """The ``time.monotonic()`` instant ``timeout_s`` from now (``None``: no deadline)."""
    return None if timeout_s is None else time.monotonic() + timeout_s


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (a ``time.monotonic()`` instant), or ``None`` for no deadline."""
    return None if deadline is None else deadline - time.monotonic()


async def within(deadline: float | None, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, cancelling it at ``deadline`` with ``TimeoutError``."""
    left = remaining(deadline)
    if left is None:
        return await awaitable
    if left <= 0:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise TimeoutError("deadline reached")
    try:
        return await asyncio.wait_for(awaitable, left)
    except asyncio.TimeoutError:  # a distinct class before Python 3.11
        raise TimeoutError("deadline reached") from None


@dataclass
class _ReadFailures:
    """Reads of a task that failed since its last good read."""

    since: datetime
    attempts: int = 0
    last: BaseException | None = None


@dataclass
class _Follower:
    """One ``wait_for`` call's state: what is pending, where the scout is, what failed."""

    pending: list[PolledJob]
    deadline: float | None
    schedule: PollSchedule
    gate: asyncio.Semaphore
    scout: int = 0
    last_head: PolledJob | None = None
    stuck: int = 0
    expired: bool = False
    failures: dict[int, _ReadFailures] = field(default_factory=dict)

    async def read(self, job: PolledJob) -> bool:
        """Read ``job`` once; whether it has ended. A failed read changes nothing on the job."""
        if self.expired:
            return False
        async with self.gate:
            try:
                await within(self.deadline, job.refresh(deadline=self.deadline))
            except TimeoutError:
                self.expired = True
                return False
            except OqcProviderError as exc:
                failure = self.failures.setdefault(id(job), _ReadFailures(datetime.now(timezone.utc)))
                failure.attempts += 1
                failure.last = exc
                logger.info("Reading task %s failed (%s); it stays active, retrying", job.task_id, exc)
                return False
        self.failures.pop(id(job), None)
        return job.state.is_terminal

    async def sweep(self, start: int) -> int:
        """Read forward from index ``start`` while tasks there have finished; return where it stopped.

        Each step reads one task alone, and only if it finished the ``window - 1`` after it
        together: where the finished run ends, one read is wasted, not a whole window.
        """
        size = max(1, self.schedule.window)
        while start < len(self.pending) and not self.expired:
            if not await self.read(self.pending[start]):
                return start + 1
            window = self.pending[start + 1 : start + size]
            ended = await asyncio.gather(*(self.read(job) for job in window))
            start += 1 + len(window)
            if not all(ended):
                break
        return start

    async def round(self) -> int:
        """One polling round (head, scout, sweeps); how many tasks it saw end."""
        pending = self.pending
        head, rest = pending[0], pending[1:]
        probes = [head]
        scout_index = None
        # Right after the head moved, it is the best guess; the scout is for a head that is stuck,
        # and goes out every other round (the insurance costs half a read per round).
        self.stuck = self.stuck + 1 if head is self.last_head else 0
        self.last_head = head
        if rest and self.stuck % 2 == 1:
            scout_index = 1 + self.scout % len(rest)
            probes.append(pending[scout_index])
        ended = await asyncio.gather(*(self.read(job) for job in probes))
        resume_at = None
        if ended[0]:
            resume_at = await self.sweep(1)
        if scout_index is not None and ended[-1] and (resume_at is None or resume_at <= scout_index):
            resume_at = await self.sweep(scout_index + 1)
        # The scout goes on after whatever was read: it reaches every task in turn.
        done_before = sum(1 for job in pending[: resume_at or 0] if job.state.is_terminal)
        self.pending = [job for job in pending if not job.state.is_terminal]
        if resume_at is not None:
            self.scout = max(0, resume_at - done_before - 1)
        elif scout_index is not None:
            # Only a round that sent the scout moves it on: stepping every round while it goes out
            # every other round would skip every second task when the rest has an even length.
            self.scout += 1
        return len(pending) - len(self.pending)

    def unreadable(self) -> list[PolledJob]:
        """Pending jobs whose latest read failed."""
        return [job for job in self.pending if id(job) in self.failures]


#: Reads the queues of the QPUs of the queued jobs given and notes them on the jobs (never raises).
QueueReader = Callable[[Sequence[PolledJob]], Awaitable[object]]


@dataclass
class _QueueWatch:
    """When a wait reads its queued jobs' queues: after ``QUEUE_READ_AFTER`` seconds of waiting with
    jobs still queued, then every ``QUEUE_READ_EVERY`` seconds, one reading for the whole batch."""

    reader: QueueReader | None
    started: float
    last: float | None = None

    def due(self, pending: Sequence[PolledJob]) -> bool:
        now = time.monotonic()
        if self.reader is None or now - self.started < QUEUE_READ_AFTER:
            return False
        if self.last is not None and now - self.last < QUEUE_READ_EVERY:
            return False
        return any(job.state is JobState.SUBMITTED for job in pending)

    async def read(self, pending: Sequence[PolledJob], limit: float) -> None:
        """Read once, giving up after ``limit`` seconds (a slow reading must not hold the polling)."""
        assert self.reader is not None
        self.last = time.monotonic()
        try:
            await asyncio.wait_for(self.reader(pending), max(limit, 0.5))
        except (asyncio.TimeoutError, TimeoutError):
            logger.info("Reading the queue took longer than %.1f s; skipped this round", limit)


@contextmanager
def _woken_when_one_ends(jobs: Sequence[PolledJob]) -> Iterator[asyncio.Event]:
    """An event set whenever one of ``jobs`` ends, however it ended: a wait subscribes to the jobs'
    events, so a job cancelled or read to its end elsewhere (another coroutine, another thread's
    refresh) ends the wait's sleep at once instead of after the gap."""
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    ended = asyncio.Event()

    def on_event(event: JobEvent) -> None:
        if not event.new_state.is_terminal:
            return
        if threading.get_ident() == loop_thread:  # most ends: this wait's own reads, no wake-up needed
            ended.set()
        else:  # a job changed from another thread: wake the loop through its self-pipe
            loop.call_soon_threadsafe(ended.set)

    stops = [job.events.subscribe(on_event) for job in jobs]
    try:
        yield ended
    finally:
        for stop in stops:
            stop()


async def _follow(
    follower: _Follower,
    watch: _QueueWatch,
    schedule: PollSchedule,
    deadline: float | None,
    started: float,
    ended: asyncio.Event,
) -> None:
    """The polling rounds of :func:`wait_for`, until nothing is pending or the deadline passes."""
    gap: float | None = None
    while follower.pending:
        finished = await follower.round()
        if follower.expired or not follower.pending:
            return
        # Several tasks ending quickens the pace, one holds it, none slows it (within the 10 % rule).
        gap = schedule.gap(gap, time.monotonic() - started, finished=finished)
        left = remaining(deadline)
        if left is not None:
            if left <= 0:
                return
            gap = min(gap, left)
        ended.clear()
        if watch.due(follower.pending):
            await asyncio.gather(_sleep_unless(ended, gap), watch.read(follower.pending, max(gap, 1.0)))
        else:
            await _sleep_unless(ended, gap)


async def _sleep_unless(ended: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if a followed job ends meanwhile."""
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(ended.wait(), seconds)


async def wait_for(
    jobs: Sequence[PolledJob],
    *,
    deadline: float | None,
    schedule: PollSchedule,
    concurrency: int,
    url: str = "the service",
    read_queues: QueueReader | None = None,
) -> None:
    """Poll until every submitted job has ended (see the module docstring for how).

    With ``read_queues``, a wait that lasts while jobs are queued also reads their QPUs' queues and
    windows (at most once per round, for the whole batch), so the jobs can say why they wait and a
    timeout outside a window says so.

    Raises:
        JobStillActive: the deadline passed while some tasks could not be read.
        TimeoutError: the deadline passed first (the queue is slow); the jobs stay active.
        SubmissionIncomplete: every submitted job ended, but some never reached the server.
    """
    # A CREATED job was never accepted (its submit failed): polling it would only hear CREATED
    # until the deadline. It is reported below, to be sent again once the server is asked.
    unsent = [job for job in jobs if job.state is JobState.CREATED]
    follower = _Follower(
        pending=[
            job
            for job in jobs
            if not job.state.is_terminal and job.state is not JobState.CREATED and job.task_id is not None
        ],
        deadline=deadline,
        schedule=schedule,
        gate=asyncio.Semaphore(concurrency),
    )
    started = time.monotonic()
    watch = _QueueWatch(read_queues, started)
    with _woken_when_one_ends(follower.pending) as ended:
        await _follow(follower, watch, schedule, deadline, started, ended)
    pending = follower.pending
    if unsent and not pending:
        raise SubmissionIncomplete(unsent)
    if not pending:
        return
    unreadable = follower.unreadable()
    if unreadable:
        failures = [follower.failures[id(job)] for job in unreadable]
        last = failures[-1].last
        assert last is not None
        raise JobStillActive(
            unreadable,
            url=url,
            since=min(f.since for f in failures),
            attempts=sum(f.attempts for f in failures),
            last_error=last,
        )
    task_ids = ", ".join(str(job.task_id) for job in pending[:3])
    more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
    if read_queues is not None and watch.last is None and any(j.state is JobState.SUBMITTED for j in pending):
        # A wait too short to have read the queue: one bounded reading, to say why it timed out.
        await watch.read(pending, 2.0)
    closed = closed_window_text(pending)
    raise TimeoutError(
        f"Timed out waiting for task {task_ids}{more} (last known state: {pending[0].state.value}). "
        + (f"{closed} " if closed else "")
        + "The job(s) are still active: call execute() or wait() again to resume."
    )
