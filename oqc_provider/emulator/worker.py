"""The emulator's one worker thread: it takes every due task, runs it, and stores the outcome.

Simulation is CPU work that must never block the event loop answering polls, so it runs here.
The thread starts lazily (on the first submit, or at start-up when a previous process left work
queued) because ``httpx.ASGITransport`` does not run ASGI lifespan events: in-process use has no
start-up hook to rely on.

Parsing and simulation themselves run on ONE process-wide thread that never exits. A thread that
has run both Qiskit's (Rust) OpenQASM parser and Aer (OpenMP), then exits, makes the next thread
to parse OpenQASM segfault (observed with qiskit 2.6 / qiskit-aer 0.18), and every emulator app
owns a worker thread that stops with the app. The long-lived thread sidesteps that, and costs
nothing: one worker per app already ran one batch at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from oqc_provider.emulator.executor import Executor, SimulationInterrupted, shutting_down
from oqc_provider.emulator.store import TaskStore

logger = logging.getLogger(__name__)

_simulation_pool: ThreadPoolExecutor | None = None
_simulation_pool_lock = threading.Lock()


def simulation_pool() -> ThreadPoolExecutor:
    """The process-wide single thread that parses and simulates (see the module docstring)."""
    global _simulation_pool
    with _simulation_pool_lock:
        if _simulation_pool is None:
            _simulation_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oqc-emulator-sim")
        return _simulation_pool


#: Longest sleep between queue checks when nothing is due; a submit wakes the worker at once.
_IDLE_WAIT = 5.0
#: Most tasks simulated and stored together. A big batch runs as several Aer calls, each stored as
#: soon as it ends: its first results are ready (and fetched by the client) while the rest still
#: run, and a client backing off between polls never waits long past the end of one huge call.
SLICE = 64


class Worker:
    """Runs queued tasks from ``store`` with ``executor`` on a daemon thread."""

    def __init__(self, store: TaskStore, executor: Executor) -> None:
        self._store = store
        self._executor = executor
        self._wake = threading.Condition()
        self._stopping = False
        # Set by notify(), cleared before each queue check: a submit between the check and the
        # wait must not be slept through.
        self._pending = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        """Start the thread if it is not running (idempotent, thread-safe)."""
        with self._wake:
            if self._stopping or self.running:
                return
            self._thread = threading.Thread(target=self._loop, name="oqc-emulator-worker", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """Something was queued: start the thread if needed and wake it up."""
        self.ensure_started()
        with self._wake:
            self._pending = True
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the batch it is running, waiting up to ``timeout`` seconds."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def run_once(self) -> int:
        """Run every task due now; return how many were taken."""
        records = self._store.take_due()
        for start in range(0, len(records), SLICE):
            chunk = records[start : start + SLICE]
            try:
                outcomes = simulation_pool().submit(self._executor.run, chunk).result()
            except (SimulationInterrupted, RuntimeError) as exc:
                if not isinstance(exc, SimulationInterrupted) and not shutting_down(exc):
                    raise
                # Left RUNNING in the store: the next emulator on it re-queues them.
                logger.info("Process exiting: %d task(s) left for the next start", len(records) - start)
                with self._wake:
                    self._stopping = True
                return len(records)
            for outcome in outcomes:
                stored = self._store.finish(
                    outcome.task_id,
                    results=outcome.results,
                    execution_metadata=outcome.metadata,
                    error=outcome.error,
                    started=outcome.started,
                )
                if not stored:
                    logger.debug(
                        "Task %s was cancelled while running; its outcome is dropped", outcome.task_id
                    )
        return len(records)

    def _loop(self) -> None:
        logger.debug("Emulator worker started")
        while True:
            with self._wake:
                if self._stopping:
                    break
                self._pending = False
            try:
                taken = self.run_once()
            except Exception:  # keep serving: one bad batch must not stop the emulator
                logger.exception("Emulator worker failed on a batch")
                taken = 0
            if taken:
                continue
            due = self._store.next_due()
            wait = _IDLE_WAIT if due is None else max(0.0, min(_IDLE_WAIT, due - time.time()))
            with self._wake:
                if not self._stopping and not self._pending and wait > 0:
                    self._wake.wait(wait)
        logger.debug("Emulator worker stopped")
