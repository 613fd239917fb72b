"""Job events: the one stream through which a job tells the world what happened to it.

Every transition of a :class:`~oqc_provider.engine.job.Job` is published as a :class:`JobEvent`
(created, allocated, submitted, submit-uncertain, state changed, finished, failed, cancelled) by
the job's :class:`EventPublisher`; a :class:`~oqc_provider.engine.composite.CompositeJob`'s
publisher forwards its children's. Two kinds of subscriber listen:

* **listeners** (progress bars, waits, budget trackers) are called at once, in the thread that
  made the change; one that raises is logged and skipped: it breaks neither the job nor the
  other listeners;
* **recorders** (the local job store) are called once per *settled* group of changes: the engine
  wraps each of its operations (a submission, a polling wait, a refresh, a cancel) in
  :meth:`EventPublisher.grouped`, so a batch of 100 tasks that all change in one polling wait is
  written once, not 100 times. A recorder that raises stops the operation (nothing is sent that
  is not recorded), so recorders are few and careful. :meth:`EventPublisher.flush` records at
  once, mid-operation: the write-ahead before a submit request leaves.

Example:
    >>> from oqc_provider.engine import Job, JobEventKind
    >>> job = Job("OPENQASM 2.0;", "qpu:uk:2:d865b5a184")
    >>> seen = []
    >>> unsubscribe = job.events.subscribe(lambda event: seen.append(event.kind))
    >>> job.begin_submission()
    >>> job.failed(ValueError("refused"))
    >>> [kind.value for kind in seen]
    ['created', 'failed']
    >>> unsubscribe()
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Protocol
from uuid import UUID

from oqc_provider.engine.states import JobState

logger = logging.getLogger("oqc_provider.engine")


class JobEventKind(str, Enum):
    """What happened to a job."""

    #: The job is CREATED for a new run, or a run is about to be sent: recorded before anything
    #: about it leaves.
    CREATED = "created"
    #: The server allocated the run's task id (nothing was sent yet).
    ALLOCATED = "allocated"
    #: The server has the run's task: the job is SUBMITTED.
    SUBMITTED = "submitted"
    #: A submit's answer was lost: the task may be on the server, and is asked about before any resend.
    SUBMIT_UNCERTAIN = "submit-uncertain"
    #: The server reported a new state that is not an end (RUNNING, back to SUBMITTED, UNKNOWN).
    STATE_CHANGED = "state-changed"
    #: The run completed with a result.
    FINISHED = "finished"
    #: The run failed (the server's error, a refused submission, an expired task).
    FAILED = "failed"
    #: The run was cancelled.
    CANCELLED = "cancelled"


#: The kind of event a move into each state publishes.
KIND_OF_STATE: dict[JobState, JobEventKind] = {
    JobState.CREATED: JobEventKind.CREATED,
    JobState.SUBMITTED: JobEventKind.SUBMITTED,
    JobState.RUNNING: JobEventKind.STATE_CHANGED,
    JobState.UNKNOWN: JobEventKind.STATE_CHANGED,
    JobState.COMPLETED: JobEventKind.FINISHED,
    JobState.FAILED: JobEventKind.FAILED,
    JobState.CANCELLED: JobEventKind.CANCELLED,
}


class EventSource(Protocol):
    """What an event says about the job it came from (a :class:`~oqc_provider.engine.job.Job`)."""

    @property
    def state(self) -> JobState:
        """The job's state now."""
        ...

    task_id: UUID | None
    qpu_id: str


@dataclass(frozen=True)
class JobEvent:
    """One thing that happened to one job.

    Attributes:
        kind: what happened.
        job: the job it happened to (a :class:`~oqc_provider.engine.job.Job`).
        task_id: the run's task id when it happened (``None`` before one is allocated).
        old_state: the job's state before.
        new_state: the job's state after (the same as ``old_state`` for ALLOCATED, CREATED on a
            job that was already CREATED, and SUBMIT_UNCERTAIN).
        at: when it happened (UTC).
        detail: a short human reason (the error of a failure, why a submit is uncertain), or ``None``.
    """

    kind: JobEventKind
    job: EventSource = field(repr=False, compare=False)
    task_id: UUID | None
    old_state: JobState
    new_state: JobState
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc), compare=False)
    detail: str | None = None


#: Called with every event, at once.
Listener = Callable[[JobEvent], None]
#: Called with the events of one settled group of changes (never empty).
Recorder = Callable[[Sequence[JobEvent]], None]


class EventPublisher:
    """Delivers a job's events to its listeners at once and to its recorders once per settled group.

    A publisher may forward to others (a CompositeJob's forwards its children's events): every
    event published here is published there too, and a group opened here is open there too. The
    forwarding is held weakly, so a short-lived view over some jobs (a progress bar's) does not
    stay attached to them.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._recorders: list[Recorder] = []
        self._upstream: list[weakref.ReferenceType[EventPublisher]] = []
        self._pending: list[JobEvent] = []
        self._depth = 0
        self._lock = threading.RLock()

    # --- subscribing -------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` on every event from now on; returns a function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def add_recorder(self, recorder: Recorder) -> None:
        """Call ``recorder(events)`` once per settled group of changes (the job store's hook).

        Unlike a listener's, a recorder's exception propagates: the operation that changed the job
        stops there, so nothing is sent that could not be recorded.
        """
        with self._lock:
            self._recorders.append(recorder)

    def forward_to(self, upstream: EventPublisher) -> None:
        """Publish every event of this publisher on ``upstream`` too (a batch follows its children)."""
        with self._lock:
            self._upstream.append(weakref.ref(upstream))

    def upstream(self) -> list[EventPublisher]:
        """The publishers this one forwards to that are still alive."""
        with self._lock:
            alive = [(ref, ref()) for ref in self._upstream]
            self._upstream = [ref for ref, publisher in alive if publisher is not None]
            return [publisher for _, publisher in alive if publisher is not None]

    def reachable(self) -> list[EventPublisher]:
        """This publisher and every publisher it forwards to, directly or not, each once."""
        return _reachable([self])

    # --- publishing --------------------------------------------------------------------------------

    def publish(self, event: JobEvent) -> None:
        """Deliver ``event`` here and upstream: listeners now, recorders when the group settles.

        Raises:
            Exception: whatever a recorder raised, when no group is open (see :meth:`add_recorder`).
        """
        targets = self.reachable()
        for publisher in targets:
            publisher.deliver(event)
        for publisher in targets:
            publisher.settle()

    def deliver(self, event: JobEvent) -> None:
        """Call this publisher's listeners with ``event`` and keep it for its recorders."""
        with self._lock:
            if self._recorders:
                self._pending.append(event)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener must never break the job or the other listeners
                logger.exception("A job event listener (%r) failed on %s; ignored", listener, event.kind)

    def settle(self) -> None:
        """Record what is pending, unless a group is open (its end records it)."""
        with self._lock:
            if self._depth:
                return
        self.record_pending()

    def record_pending(self) -> None:
        """Call the recorders once with every event not yet recorded (nothing pending: no call)."""
        with self._lock:
            events, self._pending = self._pending, []
            recorders = list(self._recorders)
        if events:
            for recorder in recorders:
                recorder(events)

    def open_group(self) -> None:
        """Hold recorders back until the matching :meth:`close_group` (groups nest)."""
        with self._lock:
            self._depth += 1

    def close_group(self, *, quiet: bool = False) -> None:
        """End one group; record if it was the outermost (``quiet``: log a recorder's error)."""
        with self._lock:
            self._depth -= 1
        try:
            self.settle()
        except Exception:
            if not quiet:
                raise
            logger.exception("Recording a job's changes failed while an operation was failing")

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Hold recorders back until the block ends, then record once (if anything changed)."""
        with grouped([self]):
            yield

    def flush(self) -> None:
        """Record what changed so far now, even inside a group (the write-ahead point).

        Raises:
            Exception: whatever a recorder raised.
        """
        flush([self])


def _reachable(publishers: Iterable[EventPublisher]) -> list[EventPublisher]:
    """``publishers`` and every publisher they forward to, each once, in a stable order."""
    found: dict[int, EventPublisher] = {}
    todo = list(publishers)
    while todo:
        publisher = todo.pop(0)
        if id(publisher) not in found:
            found[id(publisher)] = publisher
            todo.extend(publisher.upstream())
    return list(found.values())


@contextmanager
def grouped(publishers: Iterable[EventPublisher]) -> Iterator[None]:
    """One group over several publishers and everything they forward to (each recorded once at the end).

    On the way out recorders run even if the block raised: what did change is recorded (a
    recorder's own error is then logged, so the block's error is the one raised).
    """
    opened = _reachable(publishers)
    for publisher in opened:
        publisher.open_group()
    try:
        yield
    except BaseException:
        for publisher in opened:
            publisher.close_group(quiet=True)
        raise
    failure: Exception | None = None
    for publisher in opened:  # every group is closed, even after a recorder failed
        try:
            publisher.close_group()
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def flush(publishers: Iterable[EventPublisher]) -> None:
    """Record now what changed on ``publishers`` and everything they forward to.

    Raises:
        Exception: whatever a recorder raised.
    """
    for publisher in _reachable(publishers):
        publisher.record_pending()


__all__ = [
    "KIND_OF_STATE",
    "EventPublisher",
    "EventSource",
    "JobEvent",
    "JobEventKind",
    "Listener",
    "Recorder",
    "flush",
    "grouped",
]
