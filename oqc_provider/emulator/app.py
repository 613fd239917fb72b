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
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from oqc_provider.emulator import routes_qpus, routes_tasks
from oqc_provider.emulator.api_errors import ApiError
from oqc_provider.emulator.faults import is_slow_placeholder
from oqc_provider.emulator.http import Ctx, Handler, RouteSpec, error_response
from oqc_provider.emulator.limits import BodyLimit

# Re-exported: ``oqc_provider.emulator.app`` was where these were defined, and callers import them from here.
from oqc_provider.emulator.state import CRASH_MARKER_ENV, EmulatorSettings, EmulatorState, FaultInjector

__all__ = ["CRASH_MARKER_ENV", "EmulatorSettings", "EmulatorState", "FaultInjector", "create_app"]


class _Hex10(Convertor[str]):
    regex = "[0-9a-fA-F]{10}"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("hex10", _Hex10())


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


def _routes(state: EmulatorState) -> list[BaseRoute]:
    def build(specs: list[RouteSpec], *, legacy: bool, prefix: str = "") -> list[BaseRoute]:
        return [
            Route(path, _endpoint(state, prefix + path, handler, legacy=legacy, auth=auth), methods=methods)
            for path, methods, handler, auth in specs
        ]

    # Starlette tries routes in order, one regex each, so the busiest come first: the per-QPU
    # (legacy) mount, then the task routes (polling is most of the traffic). No two of these
    # patterns match the same path (no fixed first segment is ten hex digits), so the order
    # changes only the cost: the mount used to be tried after 29 routes.
    per_qpu = routes_tasks.ROUTES + routes_qpus.PER_QPU_ROUTES
    return [
        Mount("/{qpu_hex:hex10}", routes=[
            *build(per_qpu, legacy=True, prefix="/{qpu_hex}"),
            Route("/{path:path}", _endpoint(state, "<unmatched>", _not_found, legacy=True, auth=False),
                  methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]),
        *build(per_qpu, legacy=False),
        *build(_EMULATOR_ROUTES, legacy=False),
        *build(routes_qpus.ADMIN_ROUTES, legacy=True),
        *build(routes_qpus.V4_ROUTES, legacy=False),
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

    body_limit = Middleware(BodyLimit, max_bytes=state.settings.max_request_bytes)
    app = Starlette(routes=_routes(state), lifespan=lifespan, middleware=[body_limit])
    app.state.emulator = state
    return app
