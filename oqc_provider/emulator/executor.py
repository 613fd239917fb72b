"""Running tasks on Qiskit Aer: config decoding, validation, batching, and outcomes.

Throughput matters more than latency here (a Qiskit ``run`` of 100 circuits becomes 100 tasks),
so tasks that share a device, a shot count and a result format run in ONE ``AerSimulator.run``
call, on a simulator (with its noise model) cached per device. Programs are already native, so
nothing is transpiled. Aer is imported lazily so ``import oqc_provider.emulator`` stays fast.

Seeds: a task seeded explicitly (``external_config["seed"]``, how front ends pass
``seed_simulator``) or by ``EmulatorSettings.seed`` runs in its own Aer call with exactly that
seed, because Aer derives the seeds of the 2nd, 3rd... circuit of a batch from the first one:
batching would make a task's counts depend on its neighbours. Unseeded tasks are batched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oqc_provider.devices import Calibration, DeviceSpec
from oqc_provider.emulator.compilation import compile_task
from oqc_provider.emulator.limits import result_size_refusal
from oqc_provider.emulator.noise import add_idle_relaxation, build_noise_model
from oqc_provider.emulator.observed_refusals import refuse_as_observed
from oqc_provider.emulator.programs import Layout, ProgramError
from oqc_provider.emulator.results import (
    build_results,
    execution_metadata,
    results_shape_error,
    runtime_refusal,
)
from oqc_provider.emulator.selection import add_pre_selection, kept_shots, needs_memory, selection_refusal
from oqc_provider.emulator.store_rows import TaskRecord
from oqc_provider.qcaas.compiler_config import CompilerConfig, ErrorMitigationConfig
from oqc_provider.qcaas.errors import ConfigDecodeError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

logger = logging.getLogger(__name__)


class SimulationInterrupted(Exception):
    """The process is shutting down under a simulation; its tasks are not failed.

    Aer's job executor refuses work once the interpreter starts to exit (an in-process emulator
    whose script ended while tasks were queued). Those tasks stay RUNNING in the store, and the
    next emulator on the same store re-queues them (``TaskStore.requeue_interrupted``) instead of
    reporting a failure the user never caused.
    """


def shutting_down(exc: BaseException | None = None) -> bool:
    """Whether the process is exiting: the main thread has ended, or ``exc`` is an executor refusing
    work because it was shut down (Aer's job executor is shut down at exit, before the main thread
    is marked as ended, and nothing else shuts it down; the stdlib's message is the only mark)."""
    if not threading.main_thread().is_alive():
        return True
    return isinstance(exc, RuntimeError) and "cannot schedule new futures" in str(exc)


@dataclass(frozen=True)
class Outcome:
    """What became of one task: results and metrics, or an error code and message."""

    task_id: str
    results: Any = None
    metadata: dict[str, Any] | None = None
    error: tuple[int, str] | None = None
    started: float | None = None


@dataclass(frozen=True)
class Prepared:
    """A validated task, ready for Aer."""

    record: TaskRecord
    circuit: QuantumCircuit
    config: CompilerConfig
    layout: Layout
    seed: int | None
    #: The program as it runs: the client's text, or the compiled circuit when QCaaS-style
    #: compilation rewrote it (the ``optimized_circuit`` metric).
    program_run: str


@functools.lru_cache(maxsize=64)
def _shots_of(config_text: str) -> int | None:
    """``repeats`` straight from the JSON, to explain a bad shot count better than the codec can
    (once per distinct text, as :func:`_decode_config`: a batch's tasks share one)."""
    try:
        repeats = json.loads(config_text).get("$data", {}).get("repeats")
    except (ValueError, AttributeError):
        return None
    return repeats if isinstance(repeats, int) and not isinstance(repeats, bool) else None


@functools.lru_cache(maxsize=64)
def _decode_config(text: str) -> CompilerConfig:
    """A task's compiler config, decoded once per distinct text: a batch's tasks share one (the
    decoded config is only read, never changed). Raises ConfigDecodeError."""
    return CompilerConfig.from_json(text)


def derive_seed(settings_seed: int, task_id: str) -> int:
    """A seed fixed by the emulator's seed and the task id, so replays are reproducible."""
    digest = hashlib.sha256(f"{settings_seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class Executor:
    """Validates and runs tasks for a set of devices, caching simulators per device.

    It lives in a simulator process (:mod:`.simulator_process`), so it is built from picklable data
    sent by the emulator, not from the emulator's objects.

    Args:
        devices: the emulated devices by QPU id.
        calibrations: each device's calibration by QPU id (the one the monitoring routes serve).
        seed: the emulator-wide seed, or None for random runs.
        threads: the most threads one Aer call may use (0: Aer's default, every core). A pool of
            simulator processes gives each its share of the cores: Aer's OpenMP threads in several
            processes at once compete for the same cores (measured: twice the CPU time, and slower).
        memory_limit: the bytes of address space this process may use (its ``RLIMIT_AS``), or None.
            Aer is told what is left of it (``max_memory_mb``), so it refuses a simulation that
            cannot fit instead of failing half-way through.
        max_result_bits: most shots x classical bits of one task once its program is parsed, or None.
    """

    def __init__(
        self,
        devices: dict[str, DeviceSpec],
        calibrations: dict[str, Calibration],
        seed: int | None = None,
        threads: int = 0,
        memory_limit: int | None = None,
        max_result_bits: int | None = None,
    ) -> None:
        self._devices = devices
        self._calibrations = calibrations
        self._calibration: Callable[[DeviceSpec], Calibration] = lambda spec: self._calibrations[spec.qpu_id]
        self._seed = seed
        self._threads = threads
        self._memory_limit = memory_limit
        self._max_result_bits = max_result_bits
        self._simulators: dict[str, AerSimulator] = {}
        self._lock = threading.Lock()

    def simulator(self, spec: DeviceSpec) -> AerSimulator:
        """The device's simulator, noise model included, built once."""
        with self._lock:
            cached = self._simulators.get(spec.qpu_id)
            if cached is None:
                from qiskit_aer import AerSimulator

                noise = build_noise_model(spec, self._calibrations[spec.qpu_id])
                options: dict[str, Any] = {}
                if self._memory_limit is not None:
                    options["max_memory_mb"] = max(1, (self._memory_limit - _address_space()) // 2**20)
                cached = AerSimulator(
                    method="automatic", noise_model=noise, max_parallel_threads=self._threads, **options
                )
                self._simulators[spec.qpu_id] = cached
            return cached

    def prepare(self, record: TaskRecord) -> Prepared:
        """Decode, parse and validate one task.

        Raises:
            ProgramError: the task cannot run; it should end FAILED with this message.
        """
        spec = self._devices.get(record.qpu_id)
        if spec is None:
            raise ProgramError(f"Unknown QPU {record.qpu_id!r}: known QPUs are {sorted(self._devices)}.")
        repeats = _shots_of(record.config or "")
        if repeats is not None and repeats < 1:
            raise ProgramError(f"Invalid shot count {repeats}: repeats must be at least 1.")
        try:
            config = _decode_config(record.config or "")
        except ConfigDecodeError as exc:
            raise ProgramError(f"Unsupported compiler config: {exc}") from exc
        if config.shots > spec.max_shots:
            raise ProgramError(
                f"{config.shots} shots exceed {spec.name}'s Maximum Shots of {spec.max_shots}. "
                f"Ask for at most {spec.max_shots} shots, or split the run into several tasks."
            )
        shape_error = results_shape_error(config) or selection_refusal(config, spec)
        if shape_error is not None:
            raise ProgramError(shape_error)
        refuse_as_observed(record.program or "", spec)  # what the live service was seen to refuse
        compiled = compile_task(record.program or "", spec, config)
        if self._max_result_bits is not None:
            too_big = result_size_refusal(config.shots, compiled.circuit.num_clbits, self._max_result_bits)
            if too_big is not None:
                raise ProgramError(too_big, 413)
        refusal = runtime_refusal(compiled.circuit, compiled.layout, config)
        if refusal is not None:
            raise ProgramError(refusal)
        circuit, layout, program_run = compiled.circuit, compiled.layout, compiled.program_run
        circuit = add_idle_relaxation(circuit, spec, self._calibration(spec))
        circuit = add_pre_selection(circuit, layout.used_qubits, config)
        mitigation = config.error_mitigation
        if mitigation is not None and mitigation & (
            ErrorMitigationConfig.MatrixMitigation | ErrorMitigationConfig.LinearMitigation
        ):
            if len(layout.registers) != 1:
                raise ProgramError(
                    "Cannot have multiple registers in conjunction with readout error mitigation."
                )
            if not config.is_binary_count:
                raise ProgramError("Readout error mitigation needs the BinaryCount results format.")
        return Prepared(record, circuit, config, layout, self._seed_for(record), program_run)

    def _seed_for(self, record: TaskRecord) -> int | None:
        explicit = (record.external_config or {}).get("seed")
        if isinstance(explicit, int) and not isinstance(explicit, bool):
            return explicit
        if self._seed is not None:
            return derive_seed(self._seed, record.id)
        return None

    def run(self, records: list[TaskRecord]) -> list[Outcome]:
        """Run every task in ``records``: failures are outcomes, never exceptions."""
        outcomes: list[Outcome] = []
        groups: dict[tuple[str, int, bool, int | None, int], list[Prepared]] = defaultdict(list)
        for record in records:
            try:
                prepared = self.prepare(record)
            except ProgramError as exc:
                outcomes.append(Outcome(record.id, error=(exc.code, exc.message)))
                continue
            except Exception as exc:  # one bad task never fails the batch it came with
                logger.exception("Could not prepare task %s", record.id)
                outcomes.append(Outcome(record.id, error=(400, _unexpected(exc))))
                continue
            raw = not prepared.config.is_binary_count or needs_memory(prepared.config)
            # Seeded tasks get a group each (see the module docstring); unseeded ones share one.
            unique = 0 if prepared.seed is None else len(outcomes) + sum(map(len, groups.values()))
            key = (record.qpu_id, prepared.config.shots, raw, prepared.seed, unique)
            groups[key].append(prepared)
        for (qpu_id, shots, raw, seed, _), group in groups.items():
            outcomes.extend(self._run_group(self._devices[qpu_id], group, shots, raw, seed))
        return outcomes

    def _run_group(
        self, spec: DeviceSpec, group: list[Prepared], shots: int, raw: bool, seed: int | None
    ) -> list[Outcome]:
        started = time.time()
        try:
            simulator = self.simulator(spec)
            options: dict[str, Any] = {"shots": shots, "memory": raw}
            if seed is not None:
                options["seed_simulator"] = seed
            result = simulator.run([p.circuit for p in group], **options).result()
        except Exception as exc:  # Aer failures are the task's outcome, not the worker's death
            if shutting_down(exc):
                raise SimulationInterrupted from exc
            logger.exception("Aer failed on %d task(s) for %s", len(group), spec.qpu_id)
            detail = f"{type(exc).__name__}: {exc}" if isinstance(exc, MemoryError) else str(exc)
            failure = self._failure(detail)
            return [Outcome(p.record.id, error=failure, started=started) for p in group]
        calibration = self._calibration(spec)
        outcomes = []
        for index, prepared in enumerate(group):
            experiment = result.results[index]
            if not experiment.success:  # Aer refused this one (memory, most often): its outcome
                failure = self._failure(str(experiment.status))
                outcomes.append(Outcome(prepared.record.id, error=failure, started=started))
                continue
            data = result.data(index)
            counts, memory = kept_shots(
                prepared.config,
                prepared.circuit,
                dict(data.get("counts", {})),
                list(data["memory"]) if raw and "memory" in data else None,
            )
            results = build_results(prepared.config, prepared.layout, calibration, counts, memory)
            metadata = execution_metadata(prepared.config, prepared.layout, prepared.program_run)
            outcomes.append(Outcome(prepared.record.id, results=results, metadata=metadata, started=started))
        logger.debug("Ran %d task(s) on %s in %.3fs", len(group), spec.qpu_id, time.time() - started)
        return outcomes

    def _failure(self, detail: str) -> tuple[int, str]:
        """The error of a task Aer could not simulate: a memory refusal said as such."""
        if not any(mark in detail for mark in _MEMORY_MARKS):
            return (500, f"Simulation failed: {detail}")
        limit = "" if self._memory_limit is None else f" (limit {self._memory_limit // 2**20} MiB)"
        return (
            400,
            f"The simulation needs more memory than this emulator's simulator processes have{limit}: "
            f"{detail.strip()}. Use fewer qubits, or raise --simulator-memory-limit.",
        )


#: How Aer (and Python) say a simulation did not fit in memory.
_MEMORY_MARKS = ("Insufficient memory", "Cannot allocate memory", "bad_alloc", "MemoryError")


def _address_space() -> int:
    """Bytes of address space this process uses now (``VmSize``; 0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _unexpected(exc: BaseException) -> str:
    """The message of a task whose preparation raised something no check anticipated."""
    if isinstance(exc, MemoryError):
        return (
            "The task could not be read within the simulator's memory limit (MemoryError). "
            "Declare fewer qubits and bits, or raise --simulator-memory-limit."
        )
    if isinstance(exc, RecursionError):
        return (
            "The task could not be read: it is nested too deeply (RecursionError). "
            "Send a flatter compiler config and program."
        )
    return f"The task could not be prepared ({type(exc).__name__}: {exc}). Check its program and config."
