"""The simulator processes: a small pool of worker processes that hold Qiskit Aer and run tasks.

Aer runs outside the caller's process, so a simulator crash (a segfault in Aer, the OOM killer)
fails a task, never the user's script, notebook kernel or served emulator; and the caller's
Python work (HTTP, the engine, the front ends) no longer shares a GIL with the simulation.

Workers are plain ``python -m oqc_provider.emulator.simulator_process`` children rather than
``multiprocessing`` processes: ``spawn`` and ``forkserver`` re-import the user's ``__main__``
(a script without an ``if __name__ == "__main__"`` guard would run again in every worker), and
``fork`` is unsafe in a process that already runs threads. A child speaks length-prefixed JSON
frames on its stdin/stdout (:mod:`.frames`); its log goes to the parent's stderr.

One pool per process (:func:`shared_pool`), shared by every emulator app in it: workers cost about
a second each to start (importing Qiskit and Aer), so they are started in the background as soon
as an emulator exists, and kept. Each slot has a thread here that owns one child: it feeds the
child one chunk of tasks at a time and waits for its answer. A child that dies under a chunk
makes the chunk's future fail with :class:`WorkerCrashed` naming the signal; the slot starts a
new child for the next chunk. What to do with the chunk's tasks is the dispatcher's business
(:mod:`.worker`).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oqc_provider.emulator.executor import Outcome, SimulationInterrupted, shutting_down
from oqc_provider.emulator.frames import (
    ExecutorConfig,
    outcome_from_json,
    read_frame,
    record_to_json,
    write_frame,
)
from oqc_provider.emulator.store_rows import TaskRecord
from oqc_provider.errors import OqcProviderError
from oqc_provider.settings import EMULATOR_WORKERS

logger = logging.getLogger(__name__)

WORKERS_ENV = "OQC_EMULATOR_WORKERS"
#: Most workers a pool starts by default, whatever the core count: each holds Qiskit and Aer
#: (about 150-250 MB), and a handful already keeps the caller busy feeding them.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """``OQC_EMULATOR_WORKERS`` when set, else the machine's cores, at most 4."""
    if configured := EMULATOR_WORKERS.read():
        return configured
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


class WorkerCrashed(Exception):
    """The simulator process died (or failed) while running a chunk of tasks.

    Attributes:
        reason: how it died, e.g. ``"SIGSEGV"``, ``"exit status 1"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"The simulator process died ({reason})")
        self.reason = reason


class WorkerStartError(OqcProviderError, RuntimeError):
    """A simulator process could not start (broken installation?); its log is on stderr."""


def death_reason(returncode: int | None) -> str:
    """``"SIGSEGV"`` for a child killed by a signal, ``"exit status N"`` otherwise."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


@dataclass
class _Job:
    config: ExecutorConfig
    key: str
    records: list[TaskRecord]
    future: Future[list[Outcome]]


_STOP = object()


class _Slot:
    """One worker process and the thread that feeds it."""

    def __init__(self, pool: SimulatorPool, index: int) -> None:
        self._pool = pool
        self.index = index
        self.process: subprocess.Popen[bytes] | None = None
        self._known: set[str] = set()
        self.thread = threading.Thread(target=self._serve, name=f"oqc-emulator-slot-{index}", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A new, warm worker process; one retry, so a process killed while starting is replaced."""
        try:
            return self._spawn_once()
        except WorkerStartError:
            logger.warning("A simulator process failed to start; trying once more")
            return self._spawn_once()

    def _spawn_once(self) -> subprocess.Popen[bytes]:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        command = [
            sys.executable,
            "-m",
            "oqc_provider.emulator.simulator_process",
            self._pool.log_level,
            f"threads={self._pool.threads_per_worker}",
        ]
        if self._pool.warm_compile:
            command.append("warm-compile")
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert process.stdout is not None
        hello = read_frame(process.stdout)
        if not (hello and hello[0] == "ready"):
            process.kill()
            process.wait()
            raise WorkerStartError(
                f"The emulator's simulator process could not start ({death_reason(process.returncode)}); "
                "its error is in the log above. Check that qiskit-aer is installed in this environment."
            )
        self._known = set()
        return process

    def _ensure(self) -> subprocess.Popen[bytes]:
        process = self.process
        if process is not None and process.poll() is not None:
            logger.warning(
                "Simulator process %d died while idle (%s); starting another",
                process.pid,
                death_reason(process.returncode),
            )
            process = None
        if process is None:
            process = self.process = self._spawn()
            self._pool.slot_started()  # after self.process is set: worker_pids() lists it
        return process

    def _serve(self) -> None:
        try:
            self._ensure()  # warm up in the background, before any task arrives
        except Exception:
            logger.exception("A simulator process failed to start")
        while True:
            job = self._pool.next_job()
            if job is _STOP:
                break
            assert isinstance(job, _Job)
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                outcomes = self._run(job)
            except BaseException as exc:  # the future carries it to the dispatcher
                job.future.set_exception(exc)
            else:
                job.future.set_result(outcomes)
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def _run(self, job: _Job) -> list[Outcome]:
        process = self._ensure()
        assert process.stdin is not None and process.stdout is not None
        config = None if job.key in self._known else job.config.to_json()
        records = [record_to_json(record) for record in job.records]
        reply: list[Any] | None = None
        try:
            write_frame(process.stdin, ["run", job.key, config, records])
            self._known.add(job.key)
            reply = read_frame(process.stdout)
        except OSError:  # BrokenPipeError: it died before or while reading the chunk
            reply = None
        if reply is None:
            returncode = process.wait()
            self.process = None
            if self._pool.closing or shutting_down():
                raise SimulationInterrupted
            reason = death_reason(returncode)
            logger.warning(
                "Simulator process %d died (%s) under %d task(s); starting another",
                process.pid,
                reason,
                len(job.records),
            )
            self._pool.slot_died()
            raise WorkerCrashed(reason)
        kind = reply[0]
        if kind == "done":
            return [outcome_from_json(outcome) for outcome in reply[1]]
        if kind == "interrupted":
            raise SimulationInterrupted
        raise WorkerCrashed(f"an exception in the simulator: {reply[1]}")


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
        self._jobs: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started_changed = threading.Condition(self._lock)
        self._slots: list[_Slot] = []
        self._planned = 0
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
                slot = _Slot(self, len(self._slots))
                self._slots.append(slot)
                slot.thread.start()

    def submit(self, config: ExecutorConfig, records: list[TaskRecord]) -> Future[list[Outcome]]:
        """Queue one chunk of tasks; its future gives their outcomes (one per record, in any order).

        The future fails with :class:`WorkerCrashed` when the process running the chunk died, with
        :class:`SimulationInterrupted` when this process is exiting, and with
        :class:`WorkerStartError` when no worker could start.
        """
        future: Future[list[Outcome]] = Future()
        self._jobs.put(_Job(config, config.key, records, future))
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
            self._jobs.put(_STOP)

    # What a slot (one simulator process and its thread) tells the pool, and asks of it.

    def next_job(self) -> _Job | object:
        """The next chunk of tasks for a slot (blocks), or the stop marker."""
        return self._jobs.get()

    def slot_started(self) -> None:
        """A slot's simulator process is up."""
        with self._started_changed:
            self.started += 1
            self._started_changed.notify_all()

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
    if _shared is not None:
        _shared.closing = True
