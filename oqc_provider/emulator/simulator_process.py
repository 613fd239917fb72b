"""A simulator process: ``python -m oqc_provider.emulator.simulator_process LEVEL [OPTION...]``.

Started by :mod:`.pool`. It imports Qiskit and Aer, runs a warm-up task (so the first real one
does not pay for first-use initialisation), says ``["ready", pid]``, then answers each ``run``
frame on stdin with a ``done`` frame on stdout (:mod:`.frames`). Options: ``threads=N`` caps the threads of
each Aer call (the pool shares the cores between its processes); ``warm-compile`` also warms the
tket compilation that programs in standard gates take (a served emulator's clients send those).

Everything runs on this process's main thread, which lives as long as the process: a thread that
has run both Qiskit's OpenQASM parser and Aer and then exits makes the next thread to parse
OpenQASM segfault (seen with qiskit 2.6 / qiskit-aer 0.18). The process exits when its parent
closes the pipe or dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from typing import IO, Any

from oqc_provider.emulator.frames import (
    ExecutorConfig,
    outcome_to_json,
    read_frame,
    record_from_json,
    write_frame,
)
from oqc_provider.settings import EMULATOR_TEST_DIE_STARTING, EMULATOR_TEST_EXECUTION_LOG, EMULATOR_VERBOSE

logger = logging.getLogger(__name__)

#: Executors kept per process (one per emulator configuration seen), least recently used dropped.
_EXECUTORS_KEPT = 8
#: TEST HOOK: a file to which each simulator process appends one line (the task id) per task it
#: simulated, so tests and the soak count executions from the simulators' side, not the store's.
EXECUTION_LOG_ENV = "OQC_EMULATOR_TEST_EXECUTION_LOG"


def _log_executions(task_ids: list[str]) -> None:
    """Append ``task_ids`` to the execution log (TEST HOOK, see ``EXECUTION_LOG_ENV``), one write:
    ``O_APPEND`` keeps lines of concurrent simulator processes whole."""
    path = EMULATOR_TEST_EXECUTION_LOG.read()
    if path and task_ids:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, "".join(task_id + "\n" for task_id in task_ids).encode())
        finally:
            os.close(descriptor)


#: TEST HOOK: a folder of files naming when a simulator process kills itself with SIGKILL: one named
#: ``start-*`` kills a process while it starts (before it is ready), one named ``chunk-*`` kills it as
#: it receives a chunk (before it says it took it). Each file is removed by the process it kills.
DIE_STARTING_ENV = EMULATOR_TEST_DIE_STARTING.name
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux), even in the middle of a
    native call that holds the interpreter lock the parent watch (:func:`_watch_parent`) needs."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: the parent watch still applies
        logger.debug("prctl(PR_SET_PDEATHSIG) unavailable")


def _die_if_asked(stage: str) -> None:
    """TEST HOOK (:data:`DIE_STARTING_ENV`): die at ``stage`` (``start``/``chunk``), once per file."""
    folder = EMULATOR_TEST_DIE_STARTING.read()
    if not folder:
        return
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(folder)):
            if not name.startswith(f"{stage}-"):
                continue
            try:
                os.unlink(os.path.join(folder, name))  # atomic: each file kills one process
            except OSError:
                continue
            os.kill(os.getpid(), signal.SIGKILL)


def _hang() -> None:
    """TEST HOOK (``EmulatorSettings.hang_marker``): block in a native call that holds the
    interpreter lock, as a simulator stuck in Aer or a parser can, until a signal kills this process."""
    if hasattr(ctypes, "PyDLL"):
        ctypes.PyDLL(None).pause()  # PyDLL: the lock stays held during the call
    while True:  # pragma: no cover - platforms without pause()
        time.sleep(3600)


def _limit_memory(limit: int | None) -> None:
    """Cap this process's address space at ``limit`` bytes (None: as the hard limit allows)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if limit is None else (limit if hard == resource.RLIM_INFINITY else min(limit, hard))
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _watch_parent() -> None:
    """Exit when the parent is gone, even in the middle of a long simulation nobody will read."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="oqc-parent-watch", daemon=True).start()


#: A Bell pair in native gates: the fast path every front end's programs take.
NATIVE_BELL = (
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; rz(pi/2) q[0]; sx q[0]; '
    "rz(-pi) q[1]; sx q[1]; rz(-pi) q[1]; ecr q[0],q[1]; x q[0]; "
    "measure q[0] -> c[0]; measure q[1] -> c[1];"
)
#: A Bell pair in standard gates: the emulator compiles it, as QCaaS does for a served client's.
STANDARD_BELL = (
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0], q[1]; '
    "measure q[0] -> c[0]; measure q[1] -> c[1];"
)


def _warm_up(compile_path: bool = False, threads: int = 0) -> None:
    """Run a Bell pair through the whole path (parse, compile, noise model, Aer, results), so the
    first real task does not pay for first-use initialisation.

    By default the pair takes the front ends' path: native gates with ``Tket(Empty)``, read in one
    pass, which never imports pytket. ``compile_path`` also runs one in standard gates with the
    service's default (tket placement and routing), what a served emulator's clients send.
    """
    from oqc_provider.devices import CATALOGUE, reference_calibration
    from oqc_provider.emulator.executor import Executor
    from oqc_provider.emulator.store_rows import TaskRecord
    from oqc_provider.qcaas.compiler_config import (
        CompilerConfig,
        QuantumResultsFormat,
        Tket,
        TketOptimizations,
    )
    from oqc_provider.qcaas.models import TaskStatus

    spec = next(iter(CATALOGUE.values()))
    executor = Executor({spec.qpu_id: spec}, {spec.qpu_id: reference_calibration(spec)}, None, threads)
    counts = QuantumResultsFormat.binary_count()
    keep_layout = Tket(tket_optimizations=TketOptimizations.Empty)
    tasks = [(NATIVE_BELL, CompilerConfig(repeats=10, results_format=counts, optimizations=keep_layout))]
    if compile_path:
        tasks.append((STANDARD_BELL, CompilerConfig(repeats=10, results_format=counts)))
    for program, config in tasks:
        record = TaskRecord(
            "warm-up", spec.qpu_id, TaskStatus.RUNNING, None, program, config.to_json(), None,
            time.time(), None, None, None, None, {},
        )  # fmt: skip
        outcome = executor.run([record])[0]
        if outcome.error is not None:
            logger.debug("Warm-up task failed (harmless): %s", outcome.error)


def serve(inbound: IO[bytes], outbound: IO[bytes], threads: int = 0) -> None:
    """Answer ``run`` frames until the parent closes the pipe (Aer calls capped at ``threads``)."""
    from oqc_provider.emulator.executor import Executor, SimulationInterrupted

    executors: OrderedDict[str, tuple[Executor, ExecutorConfig]] = OrderedDict()
    while True:
        message = read_frame(inbound)
        if message is None:
            return
        _, key, config_data, record_data = message
        records = [record_from_json(data) for data in record_data]
        if config_data is not None:
            config = ExecutorConfig.from_json(config_data)
            executors[key] = (
                Executor(
                    config.devices,
                    config.calibrations,
                    config.seed,
                    threads,
                    config.memory_limit,
                    config.max_result_bits,
                ),
                config,
            )
            while len(executors) > _EXECUTORS_KEPT:
                executors.popitem(last=False)
        executors.move_to_end(key)
        executor, config = executors[key]
        _die_if_asked("chunk")
        # Taken: from here a death is this chunk's (the crash-twice rule counts it against its tasks).
        write_frame(outbound, ["started"])
        programs = [record.program or "" for record in records]
        if config.crash_marker and any(config.crash_marker in program for program in programs):
            # TEST HOOK (EmulatorSettings.crash_marker): die as Aer does when it segfaults.
            os.kill(os.getpid(), signal.SIGSEGV)
        if config.hang_marker and any(config.hang_marker in program for program in programs):
            _hang()  # TEST HOOK (EmulatorSettings.hang_marker)
        _limit_memory(config.memory_limit)
        try:
            outcomes = executor.run(records)
            _log_executions([record.id for record in records])
            reply: list[Any] = ["done", [outcome_to_json(outcome) for outcome in outcomes]]
        except SimulationInterrupted:
            reply = ["interrupted"]
        except Exception as exc:  # the parent fails (or retries) the chunk; this process lives on
            logger.exception("Executor failed on %d task(s)", len(records))
            reply = ["error", f"{type(exc).__name__}: {exc}"]
        write_frame(outbound, reply)


def main(argv: list[str] | None = None) -> None:
    """Entry point: take the protocol pipes, warm up, serve."""
    _die_with_parent()
    args = sys.argv[1:] if argv is None else argv
    level = (args[0] if args else "WARNING").upper()
    options = args[1:]
    threads = next((int(arg.split("=", 1)[1]) for arg in options if arg.startswith("threads=")), 0)
    # stdout carries frames only: anything else printing to fd 1 (C libraries included) goes to stderr.
    outbound = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inbound = os.fdopen(os.dup(0), "rb")
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s [simulator %(process)d]: %(message)s"
    )
    if not EMULATOR_VERBOSE.read():
        # qiskit.passmanager logs every pass at INFO: noise in a server log.
        logging.getLogger("qiskit").setLevel(max(logging.WARNING, logging.getLogger().level))
    # Ctrl-C in a terminal reaches the whole process group: it is the caller's to handle. A
    # simulator killed by it would look like a crash and count against the tasks it was running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent()
    _die_if_asked("start")
    try:
        _warm_up("warm-compile" in options, threads)
    except Exception:  # a broken warm-up must not stop real tasks, which report their own errors
        logger.exception("Simulator warm-up failed")
    with contextlib.suppress(BrokenPipeError):  # the parent exited while this process started
        write_frame(outbound, ["ready", os.getpid()])
        serve(inbound, outbound, threads)
    # Nothing is left to write: skip the interpreter's teardown (Aer's and Qiskit's exit hooks took
    # 1.5 s), so a parent shutting down sees its simulators gone at once.
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
