"""Health, QPU registry, features, calibration, monitoring and window routes (protocol §1.1-1.2, 1.8-1.10).

Emulated QPUs are always on: windows start now, queues are the store's SUBMITTED/RUNNING tasks,
and the calibration served is exactly the one the noise model is built from.
"""

from __future__ import annotations

import hmac
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.http import (
    LEGACY_VERSION,
    V4_VERSION,
    ApiError,
    Ctx,
    RouteSpec,
    parse_model,
    qpu_hex,
    read_json,
)
from oqc_provider.qcaas.models import (
    NextWindow,
    NextWindowResponse,
    QpuPage,
    QpuRecord,
    QpuWaitTime,
    QpuWaitTimeRequest,
    QpuWaitTimeResponse,
    TaskWaitTimeRequest,
    VersionInfo,
    Window,
)

_ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
_PLAIN = "%Y-%m-%d %H:%M:%S"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def qpu_record(spec: DeviceSpec, base_url: str | None, *, legacy: bool) -> dict[str, Any]:
    """A registry entry; legacy sends ``feature_set`` JSON-encoded and a per-QPU ``url``."""
    features = spec.feature_set()
    record = QpuRecord(
        id=spec.qpu_id,
        name=spec.name,
        url=None if base_url is None else f"{base_url}/{qpu_hex(spec.qpu_id)}",
        active=True,
        status="ACTIVE",
        generation=spec.generation,
        region=spec.region,
        price_per_shot="0",
        price_per_task="0",
        feature_set=json.dumps(features) if legacy else features,
    )
    return record.model_dump(mode="json", exclude_none=True)


def _base_url(request: Request) -> str:
    # From the incoming request, so the per-QPU URLs are right in-process and on any port.
    return str(request.base_url).rstrip("/")


# --- admin (legacy identity service) ---------------------------------------------------------------


async def version(request: Request, ctx: Ctx) -> Response:
    """``GET /admin/version`` (legacy health)."""
    return JSONResponse(VersionInfo(version=LEGACY_VERSION).model_dump())


async def login(request: Request, ctx: Ctx) -> Response:
    """``POST /admin/login``: Flask-Security's JSON answer.

    An emulator that requires no token gives one for any credentials. One that requires a token
    gives it only for an account of ``EmulatorSettings.accounts`` (or, with none configured, for
    the token itself as password): otherwise login would hand the token to anyone who asks.
    """
    settings = ctx.state.settings
    if settings.required_token is None:
        token = f"emulator-{uuid.uuid4().hex}"
        return JSONResponse({"meta": {"code": 200}, "response": {"user": {"authentication_token": token}}})
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, RecursionError):
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    expected = settings.accounts.get(email) if settings.accounts else settings.required_token
    if (
        not isinstance(password, str)
        or expected is None
        or not hmac.compare_digest(password.encode(), expected.encode())
    ):
        return JSONResponse(
            {"meta": {"code": 400}, "response": {"errors": ["Invalid email or password."]}}, status_code=400
        )
    user = {"authentication_token": settings.required_token}
    return JSONResponse({"meta": {"code": 200}, "response": {"user": user}})


async def logout(request: Request, ctx: Ctx) -> Response:
    """``POST /admin/logout``."""
    return JSONResponse({"meta": {"code": 200}, "response": {}})


async def qpu_page(request: Request, ctx: Ctx) -> Response:
    """``GET /admin/qpu?per_page=N``: the paginated registry (first page)."""
    raw = request.query_params.get("per_page", "1000")
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:  # "²".isdigit(), but int("²") fails
        raise ApiError(400, f"per_page must be a positive integer, got {raw!r}.")
    per_page = int(raw)
    base = _base_url(request)
    items = [qpu_record(spec, base, legacy=True) for spec in ctx.state.devices.values()]
    page = QpuPage(items=[QpuRecord(**item) for item in items[:per_page]], total=len(items), page=1,
                   per_page=per_page)  # fmt: skip
    return JSONResponse(page.model_dump(mode="json", exclude_none=True))


async def qpu_item(request: Request, ctx: Ctx) -> Response:
    """``GET /admin/qpu/{qpu_id}``."""
    spec = ctx.state.device(request.path_params["qpu_id"])
    return JSONResponse(qpu_record(spec, _base_url(request), legacy=True))


ADMIN_ROUTES: list[RouteSpec] = [
    ("/admin/version", ["GET"], version, False),
    ("/admin/login", ["POST"], login, False),
    ("/admin/logout", ["POST"], logout, False),
    ("/admin/qpu", ["GET"], qpu_page, True),
    ("/admin/qpu/{qpu_id}", ["GET"], qpu_item, True),
]


# --- v4 gateway ---------------------------------------------------------------------------------------


async def healthz(request: Request, ctx: Ctx) -> Response:
    """``GET /healthz`` (v4 health)."""
    return JSONResponse({"version": V4_VERSION, "status": "ok"})


async def qpus(request: Request, ctx: Ctx) -> Response:
    """``GET /qpus``: a bare array (no per-QPU URLs in v4)."""
    return JSONResponse([qpu_record(spec, None, legacy=False) for spec in ctx.state.devices.values()])


async def features(request: Request, ctx: Ctx) -> Response:
    """``GET /qpus/{qpu_id}/features``."""
    spec = ctx.state.device(request.path_params["qpu_id"])
    return JSONResponse({"qpu_id": spec.qpu_id, "data": spec.feature_set()})


def _status_document(spec: DeviceSpec, ctx: Ctx) -> dict[str, Any]:
    return {
        "qpu_id": spec.qpu_id,
        "name": spec.name,
        "status": "ACTIVE",
        "active": True,
        "tasks_in_queue": ctx.state.store.queued(spec.qpu_id),
        "timestamp": _now().strftime(_PLAIN),
    }


async def qpu_status(request: Request, ctx: Ctx) -> Response:
    """``GET /qpus/{qpu_id}/status``."""
    return JSONResponse(_status_document(ctx.state.device(request.path_params["qpu_id"]), ctx))


async def benchmarks(request: Request, ctx: Ctx) -> Response:
    """``GET /qpus/{qpu_id}/benchmarks``: the calibration, in v4's ``data`` envelope."""
    spec = ctx.state.device(request.path_params["qpu_id"])
    return JSONResponse({"data": ctx.state.calibration(spec).model_dump(mode="json")})


async def benchmarks_search(request: Request, ctx: Ctx) -> Response:
    """``GET /qpus/{qpu_id}/benchmarks/search``: 501, as the real gateway answers today."""
    raise ApiError(501, "Benchmark search is not implemented; use /qpus/{qpu_id}/benchmarks.")


V4_ROUTES: list[RouteSpec] = [
    ("/healthz", ["GET"], healthz, False),
    ("/qpus", ["GET"], qpus, True),
    ("/qpus/{qpu_id}/features", ["GET"], features, True),
    ("/qpus/{qpu_id}/status", ["GET"], qpu_status, True),
    ("/qpus/{qpu_id}/benchmarks", ["GET"], benchmarks, True),
    ("/qpus/{qpu_id}/benchmarks/search", ["GET"], benchmarks_search, True),
]


# --- per-QPU monitoring and windows ---------------------------------------------------------------------


def _own_device(request: Request, ctx: Ctx) -> DeviceSpec | None:
    qpu_id = request.query_params.get("qpu_id")
    if qpu_id:
        return ctx.state.device(qpu_id)
    return ctx.spec


async def statuses(request: Request, ctx: Ctx) -> Response:
    """``GET /monitoring/statuses``: the prefix's QPU (or ``?qpu_id=``), else every QPU."""
    spec = _own_device(request, ctx)
    if spec is not None:
        return JSONResponse(_status_document(spec, ctx))
    return JSONResponse([_status_document(s, ctx) for s in ctx.state.devices.values()])


async def calibrations(request: Request, ctx: Ctx) -> Response:
    """``GET /monitoring/calibrations?qpu_id=..&date=..``: the Calibration the noise model uses."""
    spec = _own_device(request, ctx)
    if spec is None:
        raise ApiError(ctx.bad_request, "Missing qpu_id query parameter.")
    date = request.query_params.get("date")
    if date:
        try:
            datetime.strptime(date, "%Y-%m-%d")
        except ValueError as exc:
            raise ApiError(ctx.bad_request, f"Invalid date {date!r}: use YYYY-MM-DD.") from exc
    # Emulated figures do not drift: every date has the same calibration.
    return JSONResponse(ctx.state.calibration(spec).model_dump(mode="json"))


async def qpu_wait_time(request: Request, ctx: Ctx) -> Response:
    """``POST /monitoring/qpu_wait_time``: always available, queue length from the store."""
    targets = parse_model(QpuWaitTimeRequest, await read_json(request, ctx), ctx).targets
    now = _now()
    answer = QpuWaitTimeResponse(
        qpu_wait_times=[
            QpuWaitTime(
                qpu_id=spec.qpu_id,
                estimated_availability_time=now.strftime(_PLAIN),
                tasks_in_queue=ctx.state.store.queued(spec.qpu_id),
                average_processing_seconds=max(0.0, ctx.state.settings.latency),
                timestamp=now.isoformat(sep=" ", timespec="microseconds").replace("+00:00", ""),
                windows=[
                    Window(
                        start_time=now.strftime(_PLAIN),
                        end_time=(now + timedelta(days=1)).strftime(_PLAIN),
                        window_description="CURRENT",
                    )
                ],
            )
            for spec in (ctx.state.device(target) for target in targets)
        ]
    )
    return JSONResponse(answer.model_dump(mode="json"))


async def task_wait_time(request: Request, ctx: Ctx) -> Response:
    """``POST /monitoring/task_wait_time``: each task's status and (emulated) start estimate."""
    body = parse_model(TaskWaitTimeRequest, await read_json(request, ctx), ctx)
    now = _now()
    answer = []
    for task_id in body.task_ids:
        record = ctx.state.store.get(task_id)
        due = now
        if record is not None and record.due_at is not None:
            due = datetime.fromtimestamp(record.due_at, timezone.utc)
        answer.append(
            {
                "task_id": task_id,
                "qpu_id": body.qpu_id,
                "status": "UNKNOWN" if record is None else record.status.value,
                "estimated_start_time": max(now, due).strftime(_PLAIN),
            }
        )
    return JSONResponse({"task_wait_times": answer})


async def next_window(request: Request, ctx: Ctx) -> Response:
    """``GET /windows/next``: emulated QPUs are always on, so the window starts now."""
    now = _now()
    starting = now.strftime(_ISO_Z)
    ending = (now + timedelta(days=1)).strftime(_ISO_Z)
    window = NextWindow(starting=starting, start_time=starting, end_time=ending)
    return JSONResponse(NextWindowResponse(next_window=window).model_dump(mode="json"))


async def window_history(request: Request, ctx: Ctx) -> Response:
    """``GET /windows/history``: no dedicated windows were ever booked on an emulator."""
    return JSONResponse({"windows": []})


PER_QPU_ROUTES: list[RouteSpec] = [
    ("/monitoring/statuses", ["GET"], statuses, True),
    ("/monitoring/calibrations", ["GET"], calibrations, True),
    ("/monitoring/qpu_wait_time", ["POST"], qpu_wait_time, True),
    ("/monitoring/task_wait_time", ["POST"], task_wait_time, True),
    ("/windows/next", ["GET"], next_window, True),
    ("/windows/history", ["GET"], window_history, True),
]
