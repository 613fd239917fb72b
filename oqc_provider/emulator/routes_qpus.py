"""Health, QPU registry, features, calibration, monitoring and window routes (protocol §1.1-1.2, 1.8-1.10).

A QPU with no execution windows configured is always on (its window starts now); one with windows
(``EmulatorSettings.windows``) answers from its schedule. Queues are the store's SUBMITTED/RUNNING
tasks, and the calibration served is exactly the one the noise model is built from.
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
from oqc_provider.emulator.api_errors import ApiError, qpu_hex
from oqc_provider.emulator.http import (
    LEGACY_VERSION,
    V4_VERSION,
    Ctx,
    RouteSpec,
    parse_model,
    read_json,
)
from oqc_provider.emulator.prices import FREE, Price
from oqc_provider.emulator.windows import WindowSpan
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
#: Windows listed in a ``qpu_wait_time`` answer: the current or next one, and those after it.
_WINDOWS_LISTED = 3


def _now() -> datetime:
    return datetime.now(timezone.utc)


def qpu_record(
    spec: DeviceSpec, base_url: str | None, *, legacy: bool, price: Price = FREE
) -> dict[str, Any]:
    """A registry entry; legacy sends ``feature_set`` JSON-encoded and a per-QPU ``url``.

    ``price`` is ``(price_per_shot, price_per_task)``; a ``None`` is published as null (no price).
    """
    features = spec.feature_set()
    record = QpuRecord(
        id=spec.qpu_id,
        name=spec.name,
        url=None if base_url is None else f"{base_url}/{qpu_hex(spec.qpu_id)}",
        active=True,
        status="ACTIVE",
        generation=spec.generation,
        region=spec.region,
        price_per_shot=price[0],
        price_per_task=price[1],
        feature_set=json.dumps(features) if legacy else features,
    )
    # A price not published is an explicit null, as a registry with no price for the QPU sends.
    return {
        **record.model_dump(mode="json", exclude_none=True),
        "price_per_shot": price[0],
        "price_per_task": price[1],
    }


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
    if settings.accounts:  # an email that is not a string (a list, say) is no account's
        expected = settings.accounts.get(email) if isinstance(email, str) else None
    else:
        expected = settings.required_token
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
    items = [
        qpu_record(spec, base, legacy=True, price=ctx.state.price(spec))
        for spec in ctx.state.devices.values()
    ]
    page = QpuPage(items=[QpuRecord(**item) for item in items[:per_page]], total=len(items), page=1,
                   per_page=per_page)  # fmt: skip
    # The items as built (a null price stays an explicit null), in the validated envelope.
    body = {**page.model_dump(mode="json", exclude_none=True), "items": items[:per_page]}
    return JSONResponse(body)


async def qpu_item(request: Request, ctx: Ctx) -> Response:
    """``GET /admin/qpu/{qpu_id}``."""
    spec = ctx.state.device(request.path_params["qpu_id"])
    return JSONResponse(qpu_record(spec, _base_url(request), legacy=True, price=ctx.state.price(spec)))


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
    return JSONResponse(
        [
            qpu_record(spec, None, legacy=False, price=ctx.state.price(spec))
            for spec in ctx.state.devices.values()
        ]
    )


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


def _window_spans(spec: DeviceSpec, ctx: Ctx, now: datetime, count: int) -> list[WindowSpan]:
    """The QPU's current (or next) window and the ones after it; an always-open QPU's runs a day from now."""
    schedule = ctx.state.windows.schedule(spec.qpu_id)
    if schedule is None:
        return [WindowSpan(now, now + timedelta(days=1))]
    return schedule.upcoming(now, count)


def _availability(spec: DeviceSpec, ctx: Ctx, now: datetime) -> datetime | None:
    """When the QPU next runs tasks: now when it is open, None when no window is left."""
    schedule = ctx.state.windows.schedule(spec.qpu_id)
    return now if schedule is None else schedule.opens_at(now)


def _described(spans: list[WindowSpan], now: datetime) -> list[Window]:
    """Spans as the service lists them: CURRENT (open now), then NEXT, then FUTURE."""
    windows = []
    for index, span in enumerate(spans):
        if index == 0 and span.contains(now):
            description = "CURRENT"
        elif index == 0 or (index == 1 and spans[0].contains(now)):
            description = "NEXT"
        else:
            description = "FUTURE"
        windows.append(
            Window(
                start_time=span.start.strftime(_PLAIN),
                end_time=span.end.strftime(_PLAIN),
                window_description=description,
            )
        )
    return windows


async def qpu_wait_time(request: Request, ctx: Ctx) -> Response:
    """``POST /monitoring/qpu_wait_time``: queue length from the store, windows from the schedule."""
    targets = parse_model(QpuWaitTimeRequest, await read_json(request, ctx), ctx).targets
    now = _now()
    answers = []
    for spec in (ctx.state.device(target) for target in targets):
        available = _availability(spec, ctx, now)
        answers.append(
            QpuWaitTime(
                qpu_id=spec.qpu_id,
                estimated_availability_time=None if available is None else available.strftime(_PLAIN),
                tasks_in_queue=ctx.state.store.queued(spec.qpu_id),
                average_processing_seconds=max(0.0, ctx.state.settings.latency),
                timestamp=now.isoformat(sep=" ", timespec="microseconds").replace("+00:00", ""),
                windows=_described(_window_spans(spec, ctx, now, _WINDOWS_LISTED), now),
            )
        )
    return JSONResponse(QpuWaitTimeResponse(qpu_wait_times=answers).model_dump(mode="json"))


async def task_wait_time(request: Request, ctx: Ctx) -> Response:
    """``POST /monitoring/task_wait_time``: each task's status and (emulated) start estimate."""
    body = parse_model(TaskWaitTimeRequest, await read_json(request, ctx), ctx)
    now = _now()
    answer = []
    spec = ctx.state.devices.get(body.qpu_id)
    opens = now if spec is None else _availability(spec, ctx, now)
    for task_id in body.task_ids:
        record = ctx.state.store.get(task_id, decode_results=False)
        due = now
        if record is not None and record.due_at is not None:
            due = datetime.fromtimestamp(record.due_at, timezone.utc)
        answer.append(
            {
                "task_id": task_id,
                "qpu_id": body.qpu_id,
                "status": "UNKNOWN" if record is None else record.status.value,
                # None: the QPU has no window left to run it in.
                "estimated_start_time": None if opens is None else max(opens, due).strftime(_PLAIN),
                "tasks_ahead": ctx.state.store.queue_position(task_id),
            }
        )
    return JSONResponse({"task_wait_times": answer})


async def next_window(request: Request, ctx: Ctx) -> Response:
    """``GET /windows/next``: the window open now (an always-open QPU's starts now), else the next one;
    ``{}`` when the QPU has no window left."""
    spec = _own_device(request, ctx)
    now = _now()
    # No QPU named (the v4 root): every QPU without windows is always on.
    always_open = [WindowSpan(now, now + timedelta(days=1))]
    spans = _window_spans(spec, ctx, now, 1) if spec is not None else always_open
    if not spans:
        return JSONResponse({})
    starting = spans[0].start.strftime(_ISO_Z)
    window = NextWindow(starting=starting, start_time=starting, end_time=spans[0].end.strftime(_ISO_Z))
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
