"""One simulator process and the thread in the caller that feeds it (a slot of :mod:`.pool`).

The thread starts its child (``python -m oqc_provider.emulator.simulator_process``, warm once it
says ``ready``), hands it one chunk of tasks at a time as length-prefixed JSON frames
(:mod:`.frames`) and waits for its answer. A child that dies under a chunk fails the chunk's future
(:mod:`.simulation_failures`) and is replaced at once, so the next chunk finds a warm process; a
chunk past its time limit, or whose tasks were all cancelled, has its process killed.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oqc_provider.emulator.executor import Outcome, SimulationInterrupted, shutting_down
from oqc_provider.emulator.frames import (
    ExecutorConfig,
    outcome_from_json,
    read_frame,
    record_to_json,
    write_frame,
)
from oqc_provider.emulator.simulation_failures import (
    SimulationStopped,
    WorkerCrashed,
    WorkerStartError,
    death_reason,
)
from oqc_provider.emulator.store_rows import TaskRecord

logger = logging.getLogger(__name__)

#: Attempts to start a simulator process for one chunk when starts are killed by signals.
_START_ATTEMPTS = 3


@dataclass
class Chunk:
    """One chunk of tasks queued for a simulator process, and the future of its outcomes."""

    config: ExecutorConfig
    key: str
    records: list[TaskRecord]
    future: Future[list[Outcome]]


#: What :meth:`SlotOwner.next_job` gives a slot to make it end its process and its thread.
STOP = object()


class SlotOwner(Protocol):
    """What a slot reads from and tells its pool (:class:`~oqc_provider.emulator.pool.SimulatorPool`)."""

    closing: bool
    log_level: str
    warm_compile: bool

    @property
    def threads_per_worker(self) -> int: ...

    def next_job(self) -> Chunk | object: ...

    def slot_started(self) -> None: ...

    def slot_died(self) -> None: ...

    def track(self, process: subprocess.Popen[bytes], *, ready: bool) -> None: ...


class SimulatorSlot:
    """One worker process and the thread that feeds it."""

    def __init__(self, pool: SlotOwner, index: int) -> None:
        self._pool = pool
        self.index = index
        self.process: subprocess.Popen[bytes] | None = None
        self._known: set[str] = set()
        self.thread = threading.Thread(target=self._serve, name=f"oqc-emulator-slot-{index}", daemon=True)
        # The chunk the process is running, and why it was stopped (None: it was not); both
        # guarded by the lock, so a stop never kills a process that already moved on.
        self._guard = threading.Lock()
        self._current: Chunk | None = None
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
            if job is STOP:
                break
            assert isinstance(job, Chunk)
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
    def current(self) -> Chunk | None:
        """The chunk the process is running, or None."""
        with self._guard:
            return self._current

    def stop(self, job: Chunk, reason: str) -> bool:
        """Kill the process if it is running ``job`` (its time limit, or its tasks cancelled)."""
        with self._guard:
            process = self.process
            if self._current is not job or process is None:
                return False
            self._stopped_for = reason
            logger.warning("Stopping simulator process %d (%s)", process.pid, reason)
            process.kill()
            return True

    def _run(self, job: Chunk) -> list[Outcome]:
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
