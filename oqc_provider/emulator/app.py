"""The emulator's ASGI application: both QCaaS server modes, one task store, one worker.

``create_app`` serves the legacy v3 layout (``/admin/...`` plus per-QPU prefixes ``/<hex10>/...``)
and the v4 gateway layout (everything at the root) at the same time, so a client in either mode
can talk to the same emulator. Every route goes through :func:`_endpoint`, which counts the request
for ``/_emulator/stats``, gives the fault injector its chance, checks auth, resolves the per-QPU
prefix and turns :class:`ApiError` into the mode's error body. The route handlers themselves live in
:mod:`.routes_tasks` and :mod:`.routes_qpus`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from oqc_provider.devices import CATALOGUE, Calibration, DeviceSpec, reference_calibration
from oqc_provider.emulator.faults import FaultPlan, PlannedFaults, is_slow_placeholder, quiet_injected_drops
from oqc_provider.emulator.frames import ExecutorConfig
from oqc_provider.emulator.pool import shared_pool
from oqc_provider.emulator.store import TaskStore
from oqc_provider.emulator.worker import Worker
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES

logger = logging.getLogger(__name__)

#: What a submit of a task id the server already took does (see EmulatorSettings.resubmit).
ResubmitPolicy = Literal["idempotent", "refuse", "rerun"]
RESUBMIT_POLICIES: tuple[str, ...] = get_args(ResubmitPolicy)

LEGACY_VERSION = "3.22.1-emulator"
V4_VERSION = "4.0.0-emulator"

#: A fault injector sees each request (and its route template) before the handler; a Response it
#: returns is sent instead. The seam for fault-injection tests (expired tokens, 503s, slow answers).
FaultInjector = Callable[[Request, str], Awaitable[Response | None]]
Model = TypeVar("Model", bound=BaseModel)


#: TEST HOOK: the default of ``EmulatorSettings.crash_marker``, so tests can crash the simulators
#: of emulators in other processes (``oqc-provider demo``, ``emulator serve``).
CRASH_MARKER_ENV = "OQC_EMULATOR_TEST_CRASH_MARKER"


def _default_devices() -> list[DeviceSpec]:
    return list(CATALOGUE.values())


def _crash_marker_from_environment() -> str | None:
    return os.environ.get(CRASH_MARKER_ENV) or None


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


class ApiError(Exception):
    """An HTTP error answer; rendered in the legacy or v4 error shape by the route wrapper."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def qpu_hex(qpu_id: str) -> str:
    """The 10 hex characters ending a QPU id: its per-QPU URL prefix in legacy mode."""
    return qpu_id.rsplit(":", 1)[-1]


class _Hex10(Convertor[str]):
    regex = "[0-9a-fA-F]{10}"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("hex10", _Hex10())


class EmulatorState:
    """Everything one emulator owns: settings, devices, the store, the dispatcher and counters.

    Creating it starts the simulator processes in the background (the process-wide pool), so they
    are warm by the time the first task arrives.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.devices: dict[str, DeviceSpec] = {spec.qpu_id: spec for spec in settings.devices}
        self.by_hex: dict[str, DeviceSpec] = {qpu_hex(spec.qpu_id).lower(): spec for spec in settings.devices}
        self._calibrations: dict[str, Calibration] = {}
        self._calibration_lock = threading.Lock()
        self.pool = shared_pool(settings.workers)
        self.store = TaskStore(settings.db_path)
        self.executor_config = ExecutorConfig(
            devices=dict(self.devices),
            calibrations={spec.qpu_id: self.calibration(spec) for spec in settings.devices},
            seed=settings.seed,
            crash_marker=settings.crash_marker,
        )
        self.worker = Worker(self.store, self.executor_config, self.pool)
        self.requests: Counter[str] = Counter()
        self.faults = PlannedFaults(settings.faults) if settings.faults is not None else None
        if self.faults is not None:
            quiet_injected_drops()
        requeued = self.store.requeue_interrupted(settings.latency)
        if requeued:
            logger.info("Re-queued %d task(s) left queued by a previous run", requeued)
        if self.store.queued():
            # A previous process left work queued: finish it without waiting for a new submit.
            self.worker.ensure_started()

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
        return (
            request.headers.get("authentication-token") == token
            or request.headers.get("authorization") == f"Bearer {token}"
        )

    def close(self) -> None:
        """Stop the worker and close the store."""
        self.worker.stop()
        self.store.close()


@dataclass(frozen=True)
class Ctx:
    """What a handler gets besides the request."""

    state: EmulatorState
    legacy: bool
    #: The device of the legacy per-QPU prefix, or None on the root (v4) and admin routes.
    spec: DeviceSpec | None

    @property
    def bad_request(self) -> int:
        """The status for a malformed body: Flask answers 400, FastAPI 422."""
        return 400 if self.legacy else 422


def error_response(status: int, message: str, legacy: bool) -> JSONResponse:
    """An error in the shape of the server mode: Flask's envelope, or FastAPI's ``detail``."""
    if legacy:
        return JSONResponse({"meta": {"code": status}, "response": {"errors": [message]}}, status_code=status)
    return JSONResponse({"detail": message}, status_code=status)


async def read_json(request: Request, ctx: Ctx) -> Any:
    """The request's JSON body, after the service's size limit.

    Raises:
        ApiError: 413 over ``MAX_REQUEST_BYTES``, 400/422 when the body is not JSON.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise ApiError(413, f"Request body of {declared} bytes exceeds the {MAX_REQUEST_BYTES}-byte limit.")
    body = await request.body()
    if len(body) > MAX_REQUEST_BYTES:
        raise ApiError(413, f"Request body of {len(body)} bytes exceeds the {MAX_REQUEST_BYTES}-byte limit.")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ApiError(ctx.bad_request, f"Request body is not valid JSON: {exc}") from exc


def parse_model(model: type[Model], data: Any, ctx: Ctx) -> Model:
    """Validate ``data`` as ``model``, answering 400/422 with what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ApiError(ctx.bad_request, f"Invalid {model.__name__} body: {problems}") from exc


Handler = Callable[[Request, Ctx], Awaitable[Response]]


def _endpoint(state: EmulatorState, template: str, handler: Handler, *, legacy: bool, auth: bool) -> Any:
    async def call(request: Request) -> Response:
        if not template.startswith("/_emulator"):  # bookkeeping, not traffic
            state.requests[f"{request.method} {template}"] += 1
        if state.settings.fault_injector is not None:
            injected = await state.settings.fault_injector(request, template)
            if injected is not None:
                return injected
        planned = state.faults
        fault = planned.decide(template, request.method) if planned is not None else None
        if planned is not None and fault is not None and fault.phase == "before":
            answer = await planned.respond(fault, legacy)
            if not is_slow_placeholder(answer):
                return answer
            fault = None  # a late answer: the delay is over, now answer for real
        try:
            if auth and not state.authorised(request):
                message = "Authentication required: send a valid token." if legacy else "Not authenticated"
                raise ApiError(401, message)
            spec = None
            if "qpu_hex" in request.path_params:
                spec = state.by_hex.get(request.path_params["qpu_hex"])
                if spec is None:
                    raise ApiError(404, f"No QPU is served under /{request.path_params['qpu_hex']}.")
            response = await handler(request, Ctx(state, legacy, spec))
        except ApiError as exc:
            response = error_response(exc.status, exc.message, legacy)
        if planned is not None and fault is not None:
            # The work is done (a submit's tasks are stored) but the client will not hear so.
            return await planned.respond(fault, legacy, response)
        return response

    return call


RouteSpec = tuple[str, list[str], Handler, bool]  # path, methods, handler, authenticated


def _routes(state: EmulatorState) -> list[BaseRoute]:
    from oqc_provider.emulator import routes_qpus, routes_tasks

    def build(specs: list[RouteSpec], *, legacy: bool, prefix: str = "") -> list[BaseRoute]:
        return [
            Route(path, _endpoint(state, prefix + path, handler, legacy=legacy, auth=auth), methods=methods)
            for path, methods, handler, auth in specs
        ]

    per_qpu = routes_tasks.ROUTES + routes_qpus.PER_QPU_ROUTES
    return [
        *build(_EMULATOR_ROUTES, legacy=False),
        *build(routes_qpus.ADMIN_ROUTES, legacy=True),
        *build(routes_qpus.V4_ROUTES, legacy=False),
        *build(per_qpu, legacy=False),
        Mount("/{qpu_hex:hex10}", routes=[
            *build(per_qpu, legacy=True, prefix="/{qpu_hex}"),
            Route("/{path:path}", _endpoint(state, "<unmatched>", _not_found, legacy=True, auth=False),
                  methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]),
        Route("/{path:path}", _endpoint(state, "<unmatched>", _not_found, legacy=False, auth=False),
              methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]  # fmt: skip


async def _not_found(request: Request, ctx: Ctx) -> Response:
    path = request.url.path
    legacy = ctx.legacy or path.startswith("/admin")
    return error_response(404, f"No route {request.method} {path}.", legacy)


async def _stats(request: Request, ctx: Ctx) -> Response:
    counts = ctx.state.store.status_counts()
    executions = ctx.state.store.execution_stats()
    requests = dict(ctx.state.requests)
    return JSONResponse(
        {
            "requests": requests,
            "total_requests": sum(requests.values()),
            "tasks": counts,
            "task_count": sum(counts.values()),
            # Tasks that were submitted (allocated-but-unsent ids stay CREATED and run nothing).
            "submitted_task_count": sum(n for status, n in counts.items() if status != "CREATED"),
            "faults": ctx.state.faults.stats() if ctx.state.faults is not None else None,
            # Per task, across every process sharing the store: ``submissions`` that queued it (a
            # re-submitted id queued again under resubmit="rerun" counts twice) and ``executions``
            # (simulations whose outcome came back); executions == executed_tasks when none ran twice.
            **executions,
            "simulators": ctx.state.pool.stats(),
        }
    )


async def _reset_counters(request: Request, ctx: Ctx) -> Response:
    ctx.state.requests.clear()
    return JSONResponse({"reset": True})


_EMULATOR_ROUTES: list[RouteSpec] = [
    ("/_emulator/stats", ["GET"], _stats, True),
    ("/_emulator/reset-counters", ["POST"], _reset_counters, True),
]


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """A QCaaS emulator as an ASGI app, serving the legacy and v4 layouts at once.

    Use it in-process with ``httpx.ASGITransport(app=create_app())``, or serve it with uvicorn
    (:func:`oqc_provider.emulator.serve_in_thread`, ``oqc-provider emulator serve``). The
    emulator's state is ``app.state.emulator`` (an :class:`EmulatorState`); call its ``close()``
    when done with an in-process app (a served app closes it on shutdown).
    """
    state = EmulatorState(settings or EmulatorSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(state.close)

    app = Starlette(routes=_routes(state), lifespan=lifespan)
    app.state.emulator = state
    return app


def now_due(state: EmulatorState) -> float:
    """When a task submitted now becomes due."""
    return time.time() + max(0.0, state.settings.latency)
