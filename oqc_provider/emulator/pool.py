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
new child for the next chunk at once. What to do with the chunk's tasks is the dispatcher's business
(:mod:`.worker`).

A chunk past its time limit (``ExecutorConfig.time_limit``), or stopped because its tasks were
cancelled (:meth:`SimulatorPool.stop`), has its process killed; its future fails with
:class:`SimulationStopped`. A child says ``started`` when it takes a chunk, so a death before that is
told apart (:class:`WorkerStartError` with ``killed``: nothing ran). At exit, :meth:`SimulatorPool.shutdown`
gives the children a grace period and kills the rest.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
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


class SimulationStopped(Exception):
    """The emulator stopped a chunk's simulation: its time limit passed, or every task in it was
    cancelled. The simulator process was killed (the slot starts another); no crash is counted.

    Attributes:
        reason: ``"time limit"`` or ``"cancelled"``.
        seconds: how long the chunk had run.
    """

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(f"The simulation was stopped ({reason}) after {seconds:.1f}s")
        self.reason = reason
        self.seconds = seconds


class WorkerStartError(OqcProviderError, RuntimeError):
    """A simulator process could not start; its log is on stderr.

    Attributes:
        killed: it was killed by a signal while starting (someone else's doing, or the OOM killer),
            not an installation that cannot work: the chunk waiting for it never ran and is worth
            running again.
    """

    def __init__(self, message: str, killed: bool = False) -> None:
        super().__init__(message)
        self.killed = killed


#: Attempts to start a simulator process for one chunk when starts are killed by signals.
_START_ATTEMPTS = 3
#: Seconds the simulator processes get to exit on their own at shutdown before they are killed.
SHUTDOWN_GRACE = 2.0


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
        # The chunk the process is running, and why it was stopped (None: it was not); both
        # guarded by the lock, so a stop never kills a process that already moved on.
        self._guard = threading.Lock()
        self._current: _Job | None = None
        self._stopped_for: str | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A new, warm worker process. A start killed by a signal is tried again (a few times); a
        start that fails on its own (an exit status: a broken installation) is not."""
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                return self._spawn_once()
            except WorkerStartError as exc:
                if not exc.killed or attempt == _START_ATTEMPTS or self._pool.closing:
                    raise
                logger.warning("A simulator process was killed while starting; starting another")
        raise AssertionError("unreachable")  # pragma: no cover

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
        self._pool.track(process, ready=False)
        hello = read_frame(process.stdout)
        if not (hello and hello[0] == "ready"):
            try:  # its pipe closed as it exited: its exit status follows at once
                returncode: int | None = process.wait(5)
            except subprocess.TimeoutExpired:  # alive yet silent: broken, whatever it is doing
                returncode = None
                process.kill()
                process.wait()
            reason = death_reason(process.returncode)
            if returncode is not None and returncode < 0:  # a signal: killed, not broken
                raise WorkerStartError(
                    f"The emulator's simulator process was killed while starting ({reason}).", killed=True
                )
            raise WorkerStartError(
                f"The emulator's simulator process could not start ({reason}); its error is in the log "
                "above. Check that qiskit-aer is installed in this environment."
            )
        self._pool.track(process, ready=True)
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

    def _warm_replacement(self) -> None:
        """Start the replacement of a process that died or was stopped now, not when the next
        chunk arrives: that chunk (often the retry of the one that died) then finds it warm."""
        try:
            self._ensure()
        except Exception:  # the next chunk tries again, and reports it
            if self._pool.closing:  # shut down while it started: killing it was the point
                logger.debug("A replacement simulator process was stopped by the shutdown", exc_info=True)
                return
            logger.warning("A replacement simulator process failed to start", exc_info=True)

    def _serve(self) -> None:
        try:
            self._ensure()  # warm up in the background, before any task arrives
        except Exception:
            if self._pool.closing:  # shut down while it started: killing it was the point
                logger.debug("A simulator process was stopped by the shutdown as it started", exc_info=True)
            else:
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
            if self.process is None and not self._pool.closing:
                self._warm_replacement()
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    @property
    def current(self) -> _Job | None:
        """The chunk the process is running, or None."""
        with self._guard:
            return self._current

    def stop(self, job: _Job, reason: str) -> bool:
        """Kill the process if it is running ``job`` (its time limit, or its tasks cancelled)."""
        with self._guard:
            process = self.process
            if self._current is not job or process is None:
                return False
            self._stopped_for = reason
            logger.warning("Stopping simulator process %d (%s)", process.pid, reason)
            process.kill()
            return True

    def _run(self, job: _Job) -> list[Outcome]:
        process = self._ensure()
        assert process.stdin is not None and process.stdout is not None
        config = None if job.key in self._known else job.config.to_json()
        records = [record_to_json(record) for record in job.records]
        reply: list[Any] | None = None
        taken = False
        with self._guard:
            self._current, self._stopped_for = job, None
        limit = job.config.time_limit
        timer = threading.Timer(limit, self.stop, (job, "time limit")) if limit else None
        started = time.monotonic()
        try:
            if timer is not None:
                timer.daemon = True
                timer.start()
            write_frame(process.stdin, ["run", job.key, config, records])
            self._known.add(job.key)
            taken = read_frame(process.stdout) == ["started"]
            reply = read_frame(process.stdout) if taken else None
        except OSError:  # BrokenPipeError: it died before or while reading the chunk
            reply = None
        finally:
            if timer is not None:
                timer.cancel()
            with self._guard:
                self._current = None
                stopped_for, self._stopped_for = self._stopped_for, None
        if stopped_for is not None:
            process.wait()
            self.process = None
            if reply is None:
                raise SimulationStopped(stopped_for, time.monotonic() - started)
            # Killed just after it answered: the answer stands, the next chunk gets a new process.
        if reply is None:
            returncode = process.wait()
            self.process = None
            if self._pool.closing or shutting_down():
                raise SimulationInterrupted
            reason = death_reason(returncode)
            self._pool.slot_died()
            if not taken:  # it died before it took the chunk: none of it ran, none of it is to blame
                logger.warning("Simulator process %d died (%s) before taking %d task(s)", process.pid,
                               reason, len(job.records))  # fmt: skip
                raise WorkerStartError(
                    f"The simulator process died ({reason}) before it took the tasks.", killed=True
                )
            logger.warning(
                "Simulator process %d died (%s) under %d task(s); starting another",
                process.pid,
                reason,
                len(job.records),
            )
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

    def next_job(self) -> _Job | object:
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

    def _running(self) -> list[tuple[_Slot, _Job]]:
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
