"""The simulator processes: a small pool of worker processes that hold Qiskit Aer and run tasks.

Aer runs outside the caller's process, so a simulator crash (a segfault in Aer, the OOM killer)
fails a task, never the user's script, notebook kernel or served emulator; and the caller's
Python work (HTTP, the engine, the front ends) no longer shares a GIL with the simulation.

Workers are plain ``python -m oqc_provider.emulator.simulator_process`` children rather than
``multiprocessing`` processes: ``spawn`` and ``forkserver`` re-import the user's ``__main__``
(a script without an ``if __name__ == "__main__"`` guard would run again in every worker), and
``fork`` is unsafe in a process that already runs threads. A child speaks length-prefixed JSON
frames on its stdin/stdout (:mod:`.frames`); its log goes to the parent's stderr. Each child and
the thread here that feeds it is a slot (:mod:`.simulator_slot`).

One pool per process (:func:`shared_pool`), shared by every emulator app in it: workers cost about
a second each to start (importing Qiskit and Aer), so they are started in the background as soon
as an emulator exists, and kept. Each slot has a thread here that owns one child: it feeds the
child one chunk of tasks at a time and waits for its answer. A child that dies under a chunk
makes the chunk's future fail with
:class:`~oqc_provider.emulator.simulation_failures.WorkerCrashed` naming the signal; the slot starts a
new child for the next chunk at once. What to do with the chunk's tasks is the dispatcher's business
(:mod:`.dispatcher`).

A chunk past its time limit (``ExecutorConfig.time_limit``), or stopped because its tasks were
cancelled (:meth:`SimulatorPool.stop`), has its process killed; its future fails with
:class:`~.simulation_failures.SimulationStopped`. A child says ``started`` when it takes a chunk, so
a death before that is told apart (:class:`~.simulation_failures.WorkerStartError` with ``killed``:
nothing ran). At exit, :meth:`SimulatorPool.shutdown` gives the children a grace period and kills
the rest.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import subprocess
import threading
import time
from concurrent.futures import Future
from typing import Any

from oqc_provider.emulator.executor import Outcome
from oqc_provider.emulator.frames import ExecutorConfig
from oqc_provider.emulator.simulator_slot import STOP, Chunk, SimulatorSlot
from oqc_provider.emulator.store_rows import TaskRecord
from oqc_provider.settings import EMULATOR_WORKERS

logger = logging.getLogger(__name__)

#: Most workers a pool starts by default, whatever the core count: each holds Qiskit and Aer
#: (about 150-250 MB), and a handful already keeps the caller busy feeding them.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """``OQC_EMULATOR_WORKERS`` when set, else the machine's cores, at most 4."""
    if configured := EMULATOR_WORKERS.read():
        return configured
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


#: Seconds the simulator processes get to exit on their own at shutdown before they are killed.
SHUTDOWN_GRACE = 2.0


class SimulatorPool:
    """A fixed set of simulator processes, fed from one queue of chunks.

    Args:
        size: how many worker processes.
        log_level: the workers' log level (a :mod:`logging` level name).
        warm_compile: also warm up the emulator's compile path (programs not in native gates) before
            a worker says it is ready: what a served emulator's clients send; the front ends send
            native programs, so an in-process emulator does not wait for it.
    """

    def __init__(self, size: int, log_level: str = "WARNING", warm_compile: bool = False) -> None:
        self.pid = os.getpid()
        self.log_level = log_level
        self.warm_compile = warm_compile
        self.closing = False
        self._jobs: queue.SimpleQueue[Chunk | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started_changed = threading.Condition(self._lock)
        self._slots: list[SimulatorSlot] = []
        self._planned = 0
        # Every process started, and whether it said it is ready (for shutdown).
        self._processes: dict[subprocess.Popen[bytes], bool] = {}
        self.started = 0
        self.deaths = 0
        self.resize(size)

    @property
    def size(self) -> int:
        """How many worker processes the pool runs."""
        return len(self._slots)

    @property
    def threads_per_worker(self) -> int:
        """The threads each worker's Aer calls may use: the machine's cores shared between the
        workers, at least one. Several processes each running Aer with a thread per core make the
        cores' OpenMP threads compete (measured with 2 workers on 2 cores: twice the CPU time of
        one-thread workers, and 1.6x the wall time)."""
        return max(1, (os.cpu_count() or 1) // max(1, self._planned))

    def resize(self, size: int) -> None:
        """Grow to ``size`` workers (a pool never shrinks: other emulators may rely on it)."""
        with self._lock:
            # Known before the first slot starts its process, so every process gets the same share.
            self._planned = max(self._planned, size)
            while len(self._slots) < size:
                slot = SimulatorSlot(self, len(self._slots))
                self._slots.append(slot)
                slot.thread.start()

    def submit(self, config: ExecutorConfig, records: list[TaskRecord]) -> Future[list[Outcome]]:
        """Queue one chunk of tasks; its future gives their outcomes (one per record, in any order).

        The future fails with :class:`WorkerCrashed` when the process running the chunk died, with
        :class:`SimulationInterrupted` when this process is exiting, and with
        :class:`WorkerStartError` when no worker could start.
        """
        future: Future[list[Outcome]] = Future()
        self._jobs.put(Chunk(config, config.key, records, future))
        return future

    def wait_ready(self, timeout: float | None = None, count: int = 1) -> bool:
        """Wait until ``count`` worker processes have started (restarts count too); False on timeout."""
        with self._started_changed:
            return self._started_changed.wait_for(lambda: self.started >= count, timeout)

    def worker_pids(self) -> list[int]:
        """The pids of the running worker processes (for diagnostics, benchmarks and tests)."""
        pids = []
        for slot in list(self._slots):
            process = slot.process
            if process is not None and process.poll() is None:
                pids.append(process.pid)
        return pids

    def stats(self) -> dict[str, Any]:
        """Workers configured and alive, each one's Aer threads, processes started and deaths so far."""
        return {
            "workers": self.size,
            "threads_per_worker": self.threads_per_worker,
            "alive": len(self.worker_pids()),
            "started": self.started,
            "deaths": self.deaths,
        }

    def close(self) -> None:
        """Stop every worker once its current chunk is done (queued chunks are dropped)."""
        self.closing = True
        for _ in self._slots:
            self._jobs.put(STOP)

    def stop(self, future: Future[list[Outcome]], reason: str) -> bool:
        """Stop the chunk of ``future``: cancel it if it has not started, else kill the process
        running it (its future then fails with :class:`SimulationStopped`). False when it is done."""
        if future.cancel():
            return True
        return any(slot.stop(job, reason) for slot, job in self._running() if job.future is future)

    def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """End every simulator process: close their pipes (an idle one exits at once), give them
        ``grace`` seconds, then kill the rest. A process stuck in a long native call (which can hold
        the interpreter lock its own parent watch needs) would otherwise outlive this process."""
        self.closing = True
        with self._lock:
            processes = [process for process in self._processes if process.poll() is None]
            starting = [process for process in processes if not self._processes[process]]
        for process in starting:  # still importing Qiskit: nothing of theirs to wait for
            process.kill()
        for process in processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
        deadline = time.monotonic() + grace
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("Simulator process %d still busy after %.1fs; killing it", process.pid, grace)
                process.kill()
                process.wait()

    # What a slot (one simulator process and its thread) tells the pool, and asks of it.

    def next_job(self) -> Chunk | object:
        """The next chunk of tasks for a slot (blocks), or the stop marker."""
        return self._jobs.get()

    def slot_started(self) -> None:
        """A slot's simulator process is up."""
        with self._started_changed:
            self.started += 1
            self._started_changed.notify_all()

    def track(self, process: subprocess.Popen[bytes], *, ready: bool) -> None:
        """A slot started ``process`` (``ready``: it is warm): :meth:`shutdown` ends it."""
        with self._lock:
            self._processes = {known: warm for known, warm in self._processes.items() if known.poll() is None}
            self._processes[process] = ready

    def _running(self) -> list[tuple[SimulatorSlot, Chunk]]:
        """Each slot running a chunk now, with that chunk."""
        running = []
        for slot in list(self._slots):
            current = slot.current
            if current is not None:
                running.append((slot, current))
        return running

    def slot_died(self) -> None:
        """A slot's simulator process died."""
        with self._lock:
            self.deaths += 1


_shared: SimulatorPool | None = None
_shared_lock = threading.Lock()


def shared_pool(
    size: int | None = None, log_level: str | None = None, *, warm_compile: bool = False
) -> SimulatorPool:
    """This process's pool, created (and its workers started in the background) on first use.

    ``size`` grows it when larger than it is (default: :func:`default_workers`); ``log_level`` and
    ``warm_compile`` (see :class:`SimulatorPool`) apply when this call creates it.
    """
    global _shared
    with _shared_lock:
        if _shared is None or _shared.pid != os.getpid():  # a forked child gets its own
            level = log_level or logging.getLevelName(min(logging.getLogger().getEffectiveLevel(), 30))
            _shared = SimulatorPool(
                size or default_workers(), level if isinstance(level, str) else "WARNING", warm_compile
            )
        elif size is not None:
            _shared.resize(size)
        return _shared


@atexit.register
def _closing_at_exit() -> None:
    # Workers that die from here on died because this process exits: their tasks stay RUNNING,
    # for the next emulator on the store to re-queue, and are never failed.
    if _shared is not None and _shared.pid == os.getpid():
        _shared.shutdown()
