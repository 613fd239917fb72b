"""One emulator's settings and state: devices, calibrations, the task store, the dispatcher, counters."""

from __future__ import annotations

import hmac
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from starlette.requests import Request
from starlette.responses import Response

from oqc_provider.devices import CATALOGUE, Calibration, DeviceSpec, reference_calibration
from oqc_provider.emulator.api_errors import ApiError, qpu_hex
from oqc_provider.emulator.dispatcher import Dispatcher
from oqc_provider.emulator.faults import FaultPlan, PlannedFaults, quiet_injected_drops
from oqc_provider.emulator.frames import ExecutorConfig
from oqc_provider.emulator.limits import (
    DEFAULT_MAX_PROGRAM_QUBITS,
    DEFAULT_MAX_RESULT_BITS,
    DEFAULT_MAX_TASKS_PER_REQUEST,
    DEFAULT_SIMULATOR_MEMORY_LIMIT,
    DEFAULT_TASK_TIME_LIMIT,
)
from oqc_provider.emulator.pool import shared_pool
from oqc_provider.emulator.prices import FREE, Price, resolve_prices
from oqc_provider.emulator.store import TaskStore
from oqc_provider.emulator.windows import Windows, WindowSpec, by_qpu_id
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from oqc_provider.settings import EMULATOR_TEST_CRASH_MARKER, EMULATOR_TEST_HANG_MARKER

logger = logging.getLogger(__name__)

#: A fault injector sees each request (and its route template) before the handler; a Response it
#: returns is sent instead. The seam for fault-injection tests (expired tokens, 503s, slow answers).
FaultInjector = Callable[[Request, str], Awaitable[Response | None]]


#: TEST HOOK: the default of ``EmulatorSettings.crash_marker``, so tests can crash the simulators
#: of emulators in other processes (``oqc-provider demo``, ``emulator serve``).
CRASH_MARKER_ENV = "OQC_EMULATOR_TEST_CRASH_MARKER"


#: The token a served emulator requires (``oqc-provider emulator serve``), when neither ``--token``
#: nor ``--token-file`` gives one: unlike argv, the environment is not readable by other local users.
TOKEN_ENV = "OQC_EMULATOR_TOKEN"


#: TEST HOOK: the default of ``EmulatorSettings.hang_marker`` (see there).
HANG_MARKER_ENV = EMULATOR_TEST_HANG_MARKER.name


def _hang_marker_from_environment() -> str | None:
    return EMULATOR_TEST_HANG_MARKER.read() or None


def _default_devices() -> list[DeviceSpec]:
    return list(CATALOGUE.values())


def _crash_marker_from_environment() -> str | None:
    return EMULATOR_TEST_CRASH_MARKER.read()


#: What a submit of a task id the server already took does (see EmulatorSettings.resubmit).
ResubmitPolicy = Literal["idempotent", "refuse", "rerun"]
RESUBMIT_POLICIES: tuple[str, ...] = get_args(ResubmitPolicy)


@dataclass
class EmulatorSettings:
    """How an emulator behaves.

    Attributes:
        db_path: SQLite file for tasks (survives restarts), or None for an in-memory store.
        latency: seconds a task stays SUBMITTED before it runs, so polling and cancellation can
            be exercised.
        seed: makes every run reproducible (per-task seeds derived from it and the task id).
        required_token: when set, authenticated routes need ``Authentication-Token: <t>`` or
            ``Authorization: Bearer <t>``; when None any (or no) credential is accepted.
        devices: the emulated QPUs (the catalogue's three by default).
        fault_injector: see :data:`FaultInjector`.
        faults: a seeded :class:`~oqc_provider.emulator.faults.FaultPlan` (500/502/503, 429, dropped
            connections, slow answers, expired tokens), applied before or after the handler.
        resubmit: what a submit of an id the server already took does. ``"idempotent"`` answers it
            without running it again; ``"refuse"`` answers 409; ``"rerun"`` runs it again. The
            protocol promises none of them, so a client is tested against all three.
        workers: simulator processes (the process-wide pool grows to this many); None: the
            machine's cores, at most 4 (``OQC_EMULATOR_WORKERS`` overrides).
        accounts: ``{email: password}`` that ``/admin/login`` accepts when a token is required;
            with none, the password must be the token itself.
        crash_marker: TEST HOOK, None in normal use (default: ``OQC_EMULATOR_TEST_CRASH_MARKER``).
            A task whose program contains this text makes its simulator process die with SIGSEGV,
            as Aer does on some circuits: how tests exercise crash handling.
        prices: what the registry publishes as ``(price_per_shot, price_per_task)`` decimal strings,
            by QPU id or name; ``None`` publishes null (no price). QPUs not named are free (``"0"``).
        windows: execution windows by QPU id or name: each a list of ``"HH:MM-HH:MM"`` (UTC, daily)
            or ``(start, end)`` datetimes. Outside its windows a QPU's tasks stay SUBMITTED and run
            when the next one opens; a QPU not listed (every simulator, by default) is always open.
        max_request_bytes: the largest request body taken (413 beyond, while it is read, before
            authentication); the service's 128 KiB by default.
        max_tasks_per_request: most task ids one allocation may ask for, and tasks one submit may
            carry (413 beyond).
        max_program_qubits: most qubits a submitted program may declare (413 beyond). A program
            declaring more than its QPU has but within this is taken and ends FAILED, as QCaaS's
            compiler fails it.
        max_result_bits: most shots x classical bits one task may ask for (413 beyond).
        task_time_limit: seconds a task's simulation may take; past it the simulator process is
            killed (and replaced) and the task FAILED saying so. None: no limit.
        simulator_memory_limit: bytes of address space each simulator process may use (its
            ``RLIMIT_AS``, and Aer's own ``max_memory_mb``); a task needing more ends FAILED saying
            so. None: no limit. Applied for each chunk of this emulator's tasks (the simulator
            processes are shared by every emulator in the process).
        hang_marker: TEST HOOK, None in normal use (default: ``OQC_EMULATOR_TEST_HANG_MARKER``).
            A task whose program contains this text makes its simulator hang (sleep, unresponsive)
            until it is killed: how tests exercise time limits, cancellation and shutdown.
    """

    db_path: str | Path | None = None
    latency: float = 0.0
    seed: int | None = None
    required_token: str | None = None
    devices: list[DeviceSpec] = field(default_factory=_default_devices)
    fault_injector: FaultInjector | None = None
    faults: FaultPlan | None = None
    resubmit: ResubmitPolicy = "idempotent"
    workers: int | None = None
    accounts: dict[str, str] = field(default_factory=dict)
    crash_marker: str | None = field(default_factory=_crash_marker_from_environment)
    prices: dict[str, Price] = field(default_factory=dict)
    windows: dict[str, list[WindowSpec]] = field(default_factory=dict)
    max_request_bytes: int = MAX_REQUEST_BYTES
    max_tasks_per_request: int = DEFAULT_MAX_TASKS_PER_REQUEST
    max_program_qubits: int = DEFAULT_MAX_PROGRAM_QUBITS
    max_result_bits: int = DEFAULT_MAX_RESULT_BITS
    task_time_limit: float | None = DEFAULT_TASK_TIME_LIMIT
    simulator_memory_limit: int | None = DEFAULT_SIMULATOR_MEMORY_LIMIT
    hang_marker: str | None = field(default_factory=_hang_marker_from_environment)


class EmulatorState:
    """Everything one emulator owns: settings, devices, the store, the dispatcher and counters.

    Creating it starts the simulator processes in the background (the process-wide pool), so they
    are warm by the time the first task arrives.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.devices: dict[str, DeviceSpec] = {spec.qpu_id: spec for spec in settings.devices}
        self.by_hex: dict[str, DeviceSpec] = {qpu_hex(spec.qpu_id).lower(): spec for spec in settings.devices}
        self.prices: dict[str, Price] = resolve_prices(settings.prices, settings.devices)
        # Checked before anything starts: a bad window setting leaves nothing running.
        self.windows = Windows(by_qpu_id(settings.windows, settings.devices))
        self._calibrations: dict[str, Calibration] = {}
        self._calibration_lock = threading.Lock()
        self.pool = shared_pool(settings.workers)
        self.store = TaskStore(settings.db_path)
        self.executor_config = ExecutorConfig(
            devices=dict(self.devices),
            calibrations={spec.qpu_id: self.calibration(spec) for spec in settings.devices},
            seed=settings.seed,
            crash_marker=settings.crash_marker,
            hang_marker=settings.hang_marker,
            memory_limit=settings.simulator_memory_limit,
            time_limit=settings.task_time_limit,
            max_result_bits=settings.max_result_bits,
        )
        self.dispatcher = Dispatcher(self.store, self.executor_config, self.pool, self.windows)
        self.requests: Counter[str] = Counter()
        self.faults = PlannedFaults(settings.faults) if settings.faults is not None else None
        if self.faults is not None:
            quiet_injected_drops()
        requeued = self.store.requeue_interrupted(settings.latency)
        if requeued:
            logger.info("Re-queued %d task(s) left queued by a previous run", requeued)
        if self.store.queued() or settings.db_path is not None:
            # A previous process left work queued: finish it without waiting for a new submit. On a
            # file, a sibling process may die with tasks RUNNING: the dispatcher's heartbeat takes
            # them back, so it runs from the start, even while nobody submits here.
            self.dispatcher.ensure_started()

    def calibration(self, spec: DeviceSpec) -> Calibration:
        """The device's calibration: what the monitoring routes serve and the noise model uses."""
        with self._calibration_lock:
            if spec.qpu_id not in self._calibrations:
                self._calibrations[spec.qpu_id] = reference_calibration(spec)
            return self._calibrations[spec.qpu_id]

    def device(self, qpu_id: str) -> DeviceSpec:
        """The device ``qpu_id``, or a 404 naming the known ones."""
        spec = self.devices.get(qpu_id)
        if spec is None:
            raise ApiError(404, f"Unknown QPU {qpu_id!r}. Known QPUs: {', '.join(sorted(self.devices))}.")
        return spec

    def authorised(self, request: Request) -> bool:
        """Whether the request carries the required token (always, when none is required)."""
        token = self.settings.required_token
        if token is None:
            return True
        # Constant-time: how long a refusal takes says nothing about how much of a guess was right.
        return _same(request.headers.get("authentication-token"), token) or _same(
            request.headers.get("authorization"), f"Bearer {token}"
        )

    def price(self, spec: DeviceSpec) -> Price:
        """What the registry publishes as the QPU's ``(price_per_shot, price_per_task)``."""
        return self.prices.get(spec.qpu_id, FREE)

    def close(self) -> None:
        """Stop the dispatcher and close the store."""
        self.dispatcher.stop()
        self.store.close()


def _same(given: str | None, expected: str) -> bool:
    """Whether a credential matches, compared in constant time (``hmac.compare_digest``)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
