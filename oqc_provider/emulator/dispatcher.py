"""The emulator's dispatcher: it claims due tasks from the store and hands them to simulator processes.

Simulation never runs in this process (:mod:`.pool`). Here, one daemon thread per emulator app
claims due tasks (atomically, with a lease: :meth:`TaskStore.take_due`), cuts them into chunks,
and submits the chunks to the process-wide pool; each chunk's outcomes are stored as soon as it
comes back, from the pool's thread. The same thread renews the lease on this store's RUNNING tasks
(heartbeats) and takes back tasks whose owner is gone. It starts lazily (on the first submit, or
at start-up when work is queued) because ``httpx.ASGITransport`` runs no ASGI lifespan events.

A simulator process that dies under a chunk fails none of its tasks at once: each task's crash
is counted in the store, and the tasks are run again one by one, so an innocent neighbour of the
task that crashed the simulator completes. A task under which simulators died twice is FAILED
with the signal in its message and never run again (the poison guard; the count is on disk, so
it holds across restarts). Tasks running when this process exits stay RUNNING, owned by a
process that is gone: the next emulator on the store re-queues them; they are never failed.

A chunk that passes ``EmulatorSettings.task_time_limit`` has its simulator killed (no crash counted):
a task alone is FAILED saying so, several are run again one by one. A chunk whose tasks are all
cancelled has its simulator killed at once. A simulator that died before it took a chunk (or could
not start, killed by a signal) ran none of it: the chunk runs again, uncounted.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from concurrent.futures import CancelledError, Future
from datetime import datetime, timezone

from oqc_provider.emulator.executor import Outcome, SimulationInterrupted
from oqc_provider.emulator.frames import ExecutorConfig
from oqc_provider.emulator.leases import HEARTBEAT_INTERVAL
from oqc_provider.emulator.pool import SimulatorPool
from oqc_provider.emulator.simulation_failures import SimulationStopped, WorkerCrashed, WorkerStartError
from oqc_provider.emulator.store import TaskRecord, TaskStore
from oqc_provider.emulator.windows import Windows
from oqc_provider.qcaas.models import TaskStatus

logger = logging.getLogger(__name__)

#: Most tasks simulated and stored together. A big batch runs as several Aer calls, each stored as
#: soon as it ends: its first results are ready (and fetched by the client) while the rest still
#: run, and a client backing off between polls never waits long past the end of one huge call.
#: 16, not 64: the batch's last slice is what the client waits for after every other result is
#: in, and one process may still run it while the others idle (measured on 500 circuits: 0.22-0.30 s
#: from the last simulation to result() instead of 0.29-0.43 s); an Aer call costs about 1 ms more
#: than the circuits in it, 2 % of a 16-circuit slice.
SLICE = 16
#: Simulator deaths under one task after which it is FAILED and never run again.
POISON_CRASHES = 2
#: Chunks in flight per worker process: one running, one queued behind it, so no worker idles
#: while this thread claims the next tasks.
_CHUNKS_PER_WORKER = 2


def time_limit_message(seconds: float) -> str:
    """The error of a task whose simulation passed the emulator's time limit."""
    return (
        f"The simulation of this task was stopped after {seconds:.0f}s, past this emulator's time "
        "limit per task (--task-time-limit). Ask for fewer shots or a shorter program, or raise the limit."
    )


def crash_message(reason: str, crashes: int) -> str:
    """The error of a task the poison guard stopped."""
    return (
        f"The simulator process died ({reason}) while running this task; simulators died {crashes} "
        "times under it, so it is not run again. Simplify the program (fewer qubits, no "
        "mid-circuit reset) or report it with the program attached."
    )


class Dispatcher:
    """Runs queued tasks from ``store`` on ``pool`` with the executor ``config``, from a daemon thread."""

    def __init__(
        self, store: TaskStore, config: ExecutorConfig, pool: SimulatorPool, windows: Windows | None = None
    ) -> None:
        self._store = store
        #: Tasks of a QPU outside its execution window stay queued; the loop wakes when it opens.
        self._windows = windows or Windows()
        self._config = config
        self._pool = pool
        self._wake = threading.Condition()
        self._stopping = False
        # Set by notify() and by finished chunks, cleared before each queue check: a submit
        # between the check and the wait must not be slept through.
        self._pending = False
        self._thread: threading.Thread | None = None
        self._in_flight: dict[Future[list[Outcome]], list[TaskRecord]] = {}

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        """Start the thread if it is not running (idempotent, thread-safe)."""
        with self._wake:
            if self._stopping or self.running:
                return
            self._thread = threading.Thread(target=self._loop, name="oqc-emulator-dispatcher", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """Something was queued: start the thread if needed and wake it up."""
        self.ensure_started()
        with self._wake:
            self._pending = True
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, drop chunks not yet started, and wait up to ``timeout`` seconds for the
        running ones to be stored. Tasks not stored stay RUNNING for the next store on the file."""
        deadline = time.monotonic() + timeout
        with self._wake:
            self._stopping = True
            for future in list(self._in_flight):
                future.cancel()
            self._wake.notify_all()
            while self._in_flight and time.monotonic() < deadline:
                self._wake.wait(max(0.0, deadline - time.monotonic()))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))

    def _full(self) -> bool:
        """Whether the pool has all the chunks of this emulator it should hold now."""
        with self._wake:
            return len(self._in_flight) >= self._pool.size * _CHUNKS_PER_WORKER

    def run_once(self) -> int:
        """Claim what is due (as much as the pool can take now) and dispatch it; return how many."""
        with self._wake:
            room = self._pool.size * _CHUNKS_PER_WORKER - len(self._in_flight)
        if room <= 0:
            return 0
        closed = self._windows.closed(datetime.now(timezone.utc))
        records = self._store.take_due(limit=room * SLICE, skip_qpus=closed)
        if not records:
            return 0
        # Spread a batch over the workers, in chunks of at most SLICE.
        size = max(1, min(SLICE, math.ceil(len(records) / self._pool.size)))
        for start in range(0, len(records), size):
            self._dispatch(records[start : start + size])
        return len(records)

    def _dispatch(self, chunk: list[TaskRecord]) -> None:
        future = self._pool.submit(self._config, chunk)
        with self._wake:
            self._in_flight[future] = chunk
        future.add_done_callback(self._chunk_done)

    def _chunk_done(self, future: Future[list[Outcome]]) -> None:
        with self._wake:
            chunk = self._in_flight.get(future, [])
        try:
            self._store_chunk(future, chunk)
        except sqlite3.ProgrammingError:  # the store was closed under a late chunk: nothing to do
            logger.debug("Store closed before %d outcome(s) came back; left for the next start", len(chunk))
        except Exception:
            logger.exception("Could not store the outcomes of %d task(s)", len(chunk))
        finally:
            with self._wake:
                self._in_flight.pop(future, None)
                self._pending = True
                self._wake.notify_all()

    def _store_chunk(self, future: Future[list[Outcome]], chunk: list[TaskRecord]) -> None:
        try:
            outcomes = future.result()
        except CancelledError:
            return  # stopped before it ran: left RUNNING, owned by a closed store
        except SimulationInterrupted:
            logger.info("Process exiting: %d task(s) left for the next start", len(chunk))
            with self._wake:
                self._stopping = True
            return
        except WorkerCrashed as crash:
            self._crashed(chunk, crash.reason)
            return
        except SimulationStopped as stop:
            if stop.reason == "time limit":
                self._timed_out(chunk, stop.seconds)
            return  # cancelled: the store already says so
        except WorkerStartError as exc:
            if exc.killed:  # nothing ran: the chunk is not to blame, so it runs again, uncounted
                logger.warning("No simulator process could start for %d task(s); queued again", len(chunk))
                self._redispatch(self._still_running(chunk), alone=False)
                return
            outcomes = [Outcome(record.id, error=(500, str(exc))) for record in chunk]
            for outcome in outcomes:
                self._store.finish(outcome.task_id, error=outcome.error, executed=False)
            return
        for task_id in self._store.finish_many(outcomes):
            logger.debug("Task %s was cancelled while running; its outcome is dropped", task_id)

    def _still_running(self, chunk: list[TaskRecord]) -> list[TaskRecord]:
        """The tasks of ``chunk`` still RUNNING in the store (not cancelled meanwhile)."""
        known = self._store.submitted_programs([record.id for record in chunk])
        return [record for record in chunk if known.get(record.id, (None,))[0] is TaskStatus.RUNNING]

    def _redispatch(self, records: list[TaskRecord], *, alone: bool) -> None:
        """Run ``records`` again (each alone, or as one chunk), unless this dispatcher is stopping."""
        with self._wake:
            stopping = self._stopping
        if stopping or not records:
            return  # left RUNNING for the next store on the file
        for chunk in [[record] for record in records] if alone else [records]:
            self._dispatch(chunk)

    def _timed_out(self, chunk: list[TaskRecord], seconds: float) -> None:
        """A chunk passed the time limit: a task alone is FAILED; several are run again one by one,
        so only the slow one fails."""
        running = self._still_running(chunk)
        if len(chunk) > 1:
            self._redispatch(running, alone=True)
            return
        for record in running:
            logger.error("Task %s passed the time limit (%.1fs): FAILED", record.id, seconds)
            self._store.finish(record.id, error=(500, time_limit_message(seconds)), executed=False)

    def cancel_running(self) -> int:
        """Stop the simulations of in-flight chunks whose tasks the store says are all CANCELLED
        (here, or through another process sharing the store); return how many were stopped."""
        with self._wake:
            in_flight = list(self._in_flight.items())
        if not in_flight:
            return 0
        known = self._store.submitted_programs([record.id for _, chunk in in_flight for record in chunk])
        task_ids = {key for key, (status, _) in known.items() if status is TaskStatus.CANCELLED}
        stopped = 0
        for future, chunk in in_flight:
            if chunk and all(record.id in task_ids for record in chunk):
                stopped += self._pool.stop(future, "cancelled")
        return stopped

    def _crashed(self, chunk: list[TaskRecord], reason: str) -> None:
        """A simulator died under ``chunk``: fail the tasks it killed twice, run the rest alone."""
        retry = []
        for record in self._still_running(chunk):  # a task cancelled meanwhile is not run again
            crashes = self._store.record_crash(record.id)
            if crashes >= POISON_CRASHES:
                logger.error(
                    "Task %s crashed the simulator %d times (%s): FAILED", record.id, crashes, reason
                )
                self._store.finish(record.id, error=(500, crash_message(reason, crashes)), executed=False)
            else:
                retry.append(record)
        self._redispatch(retry, alone=True)  # when stopping: left RUNNING, crash counts kept

    def _next_runnable(self) -> float | None:
        """When a queued task can next run (epoch seconds): the earliest due task of an open QPU, or
        the opening of the first closed QPU's window that has tasks waiting."""
        now = datetime.now(timezone.utc)
        closed = self._windows.closed(now)
        due = self._store.next_due(skip_qpus=closed)
        waiting = set(closed) & set(self._store.waiting_qpus()) if closed else set()
        opening = self._windows.next_opening(waiting, now)
        if opening is not None:
            due = opening.timestamp() if due is None else min(due, opening.timestamp())
        return due

    def _loop(self) -> None:
        logger.debug("Emulator dispatcher started")
        last_beat = 0.0
        while True:
            with self._wake:
                if self._stopping:
                    break
                self._pending = False
            try:
                if time.monotonic() - last_beat >= HEARTBEAT_INTERVAL:
                    last_beat = time.monotonic()
                    self._store.heartbeat()
                    self.cancel_running()  # cancels made through other processes on the store
                    taken_back = self._store.reclaim()
                    if taken_back:
                        logger.info("Re-queued %d task(s) whose owner is gone", taken_back)
                taken = self.run_once()
            except Exception:  # keep serving: one bad claim must not stop the emulator
                logger.exception("Emulator dispatcher failed")
                taken = 0
            if taken:
                continue
            if self._full():
                wait = HEARTBEAT_INTERVAL  # until a chunk comes back (it sets _pending), not a spin
            else:
                due = self._next_runnable()
                wait = (
                    HEARTBEAT_INTERVAL
                    if due is None
                    else max(0.0, min(HEARTBEAT_INTERVAL, due - time.time()))
                )
            with self._wake:
                if not self._stopping and not self._pending and wait > 0:
                    self._wake.wait(wait)
        logger.debug("Emulator dispatcher stopped")
