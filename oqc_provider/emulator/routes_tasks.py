"""Task routes (protocol §1.3-1.7): allocate, submit, poll, cancel, list.

Mounted twice by :mod:`.app`: under each legacy per-QPU prefix and at the v4 root. The handlers
only differ by mode in their error bodies and in the shape of the id-allocation answer.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.api_errors import ApiError
from oqc_provider.emulator.http import (
    Ctx,
    RouteSpec,
    json_with_raw,
    now_due,
    parse_model,
    read_json,
)
from oqc_provider.emulator.limits import program_refusal
from oqc_provider.emulator.store import SubmitItem, TaskRecord
from oqc_provider.qcaas.models import (
    CancelRequest,
    SubmitRequest,
    TaskError,
    TaskIdRequestLegacy,
    TaskIdRequestV4,
    TaskStatus,
)


def rfc1123(timestamp: float) -> str:
    """``Wed, 12 Jun 2024 20:11:15 GMT``: how the service writes ``created_at``."""
    return formatdate(timestamp, usegmt=True)


def timing(timestamp: float) -> str:
    """``2023-10-17 11:24:35.904885+00:00``: how the service writes timings."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(sep=" ", timespec="microseconds")


def task_info(record: TaskRecord) -> dict[str, Any]:
    """The ``all_info`` document (protocol §1.5) of ``record``, in the shape of the client's
    :class:`~oqc_provider.qcaas.models.TaskInfo` (tests validate every document with it).

    Built as a plain dict, not through the pydantic model: every poll builds one, and the model's
    construction and dump were a third of the handler's time.
    """
    created = rfc1123(record.created_at)
    task_error = None
    if record.status is TaskStatus.FAILED and record.task_error:
        task_error = TaskError(**record.task_error).model_dump(mode="json")  # the stored error, validated
    return {
        "id": record.id,
        "qpu_id": record.qpu_id,
        "status": record.status.value,
        "tag": record.tag,
        "created_at": created,
        "config": record.config,
        "results": record.results if record.status is TaskStatus.COMPLETED else None,
        "task_error": task_error,
        "execution_metadata": record.execution_metadata or {},
        "metadata": {
            "allow_support_access": False,
            "config": record.config,
            "created_at": created,
            "id": record.id,
            "qpu_id": record.qpu_id,
            "tag": record.tag,
        },
        "timings": {name: timing(value) for name, value in record.timings.items()},
    }


def _canonical_uuid(value: str, ctx: Ctx) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ApiError(ctx.bad_request, f"Task id {value!r} is not a valid UUID.") from exc


def _find(request: Request, ctx: Ctx, *, decode_results: bool = True) -> TaskRecord:
    task_id = request.path_params["task_id"]
    try:
        key = str(uuid.UUID(task_id))
    except ValueError:
        key = task_id
    record = ctx.state.store.get(key, decode_results=decode_results)
    if record is None:
        raise ApiError(404, f"Task {task_id} not found.")
    return record


def _target(qpu_id: str, ctx: Ctx) -> DeviceSpec:
    """The device a body's ``qpu_id`` names; on a per-QPU prefix an unknown id means that QPU."""
    spec = ctx.state.devices.get(qpu_id)
    if spec is not None:
        return spec
    if ctx.spec is not None:
        return ctx.spec
    known = ", ".join(sorted(ctx.state.devices))
    raise ApiError(ctx.bad_request, f"Unknown qpu_id {qpu_id!r}. Known QPUs: {known}.")


async def tasks_root(request: Request, ctx: Ctx) -> Response:
    """``POST /tasks`` allocates ids (either body shape); ``GET /tasks`` lists tasks by date."""
    if request.method == "GET":
        return _list_tasks(request, ctx)
    body = await read_json(request, ctx)
    if isinstance(body, dict) and "tasks" in body:
        slots = parse_model(TaskIdRequestV4, body, ctx).tasks
        _check_task_count(len(slots), ctx)
        wanted = [(_target(slot.qpu_id, ctx), slot.tag) for slot in slots]
    else:
        legacy = parse_model(TaskIdRequestLegacy, body, ctx)
        _check_task_count(legacy.task_count, ctx)
        wanted = [(_target(legacy.qpu_id, ctx), legacy.tag)] * legacy.task_count
    ids: list[str] = []
    for spec in dict.fromkeys(spec for spec, _ in wanted):
        ids += ctx.state.store.allocate(spec.qpu_id, [tag for s, tag in wanted if s == spec])
    return JSONResponse(ids if ctx.legacy else {"tasks": ids})


def _check_task_count(count: int, ctx: Ctx) -> None:
    """413 when one request asks for more tasks than ``settings.max_tasks_per_request``."""
    limit = ctx.state.settings.max_tasks_per_request
    if count > limit:
        raise ApiError(
            413,
            f"{count} tasks in one request, over this emulator's limit of {limit} "
            "(--max-tasks-per-request). Send them in several requests.",
        )


def _parse_date(value: str | None, default: float, ctx: Ctx) -> float:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(ctx.bad_request, f"Invalid date {value!r}: use 'YYYY-MM-DD HH:MM:SS'.") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _list_tasks(request: Request, ctx: Ctx) -> Response:
    start = _parse_date(request.query_params.get("start_date"), 0.0, ctx)
    end = _parse_date(request.query_params.get("end_date"), float("inf"), ctx)
    qpu_id = ctx.spec.qpu_id if ctx.spec is not None else None
    records = ctx.state.store.between(start, min(end, 1e12), qpu_id)
    return JSONResponse(
        [
            {
                "id": r.id,
                "qpu_id": r.qpu_id,
                "status": r.status.value,
                "tag": r.tag,
                "created_at": rfc1123(r.created_at),
            }
            for r in records
        ]
    )


async def submit(request: Request, ctx: Ctx) -> Response:
    """``POST /tasks/submit``: queue programs; an already-submitted id follows ``settings.resubmit``."""
    payloads = parse_model(SubmitRequest, await read_json(request, ctx), ctx).tasks
    settings = ctx.state.settings
    _check_task_count(len(payloads), ctx)
    store = ctx.state.store
    items = []
    for index, payload in enumerate(payloads):
        refusal = program_refusal(
            payload.program, payload.config, settings.max_program_qubits, settings.max_result_bits
        )
        if refusal is not None:
            raise ApiError(413, f"Task {index} (nothing was submitted): {refusal}")
        spec = _target(payload.qpu_id, ctx)
        task_id = None if payload.task_id is None else _canonical_uuid(payload.task_id, ctx)
        items.append(
            SubmitItem(
                task_id, spec.qpu_id, payload.program, payload.config, payload.tag, payload.external_config
            )
        )
    known = store.submitted_programs([item.task_id for item in items if item.task_id is not None])
    for item in items:
        status, program = known.get(item.task_id or "", (TaskStatus.CREATED, None))
        if status is TaskStatus.CREATED:
            continue
        if ctx.state.settings.resubmit == "refuse":
            raise ApiError(409, f"Task {item.task_id} was already submitted; it is not accepted twice.")
        if program != item.program:
            raise ApiError(
                409,
                f"Task {item.task_id} was already submitted with a different program. Submit the new "
                "program without a task_id (or with a freshly allocated one).",
            )
    outcomes = store.submit_many(
        items, due_at=now_due(ctx.state), rerun=ctx.state.settings.resubmit == "rerun"
    )
    answer = [{"task_id": outcome.task_id} for outcome in outcomes]
    queued = any(outcome.queued for outcome in outcomes)
    if queued:
        ctx.state.dispatcher.notify()
    return JSONResponse(answer)


async def all_info(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/all_info``: the one document the SDK polls (results sent as stored)."""
    record = _find(request, ctx, decode_results=False)
    # Results and metrics go out as the JSON texts they are stored as (see ``json_with_raw``).
    raw = {}
    if record.status is TaskStatus.COMPLETED and record.results is not None:
        raw["results"] = record.results
    if record.execution_metadata is not None:
        raw["execution_metadata"] = record.execution_metadata
    info = task_info(replace(record, results=None, execution_metadata=None))
    return Response(json_with_raw(info, raw), media_type="application/json")


async def status(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/status``."""
    return JSONResponse({"status": _find(request, ctx).status.value})


async def results(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/results``: results (null until COMPLETED) and the metrics."""
    info = task_info(_find(request, ctx))
    return JSONResponse({"results": info["results"], "metrics": info["execution_metadata"]})


async def error(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/error``."""
    return JSONResponse({"task_error": task_info(_find(request, ctx))["task_error"]})


async def execution_metadata(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/execution_metadata``."""
    return JSONResponse({"execution_metadata": task_info(_find(request, ctx))["execution_metadata"]})


async def metadata(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/metadata`` (V3 shape)."""
    return JSONResponse({"metadata": task_info(_find(request, ctx))["metadata"]})


async def timings(request: Request, ctx: Ctx) -> Response:
    """``GET /tasks/{id}/timings``."""
    return JSONResponse({"timings": task_info(_find(request, ctx))["timings"]})


async def cancel_many(request: Request, ctx: Ctx) -> Response:
    """``POST /tasks/cancel_many``: cancel active tasks; unknown and terminal ids are ignored."""
    ids = parse_model(CancelRequest, await read_json(request, ctx), ctx).tasks
    canonical = []
    for task_id in ids:
        try:
            canonical.append(str(uuid.UUID(str(task_id))))
        except ValueError:
            continue  # never a task of ours: nothing to cancel
    if ctx.state.store.cancel(canonical):
        ctx.state.dispatcher.cancel_running()  # a RUNNING task's simulation stops now, not when it ends
    return PlainTextResponse("OK")


ROUTES: list[RouteSpec] = [
    ("/tasks/{task_id}/all_info", ["GET"], all_info, True),  # first: polling is most requests
    ("/tasks", ["GET", "POST"], tasks_root, True),
    ("/tasks/submit", ["POST"], submit, True),
    ("/tasks/cancel_many", ["POST"], cancel_many, True),
    ("/tasks/{task_id}/status", ["GET"], status, True),
    ("/tasks/{task_id}/results", ["GET"], results, True),
    ("/tasks/{task_id}/error", ["GET"], error, True),
    ("/tasks/{task_id}/execution_metadata", ["GET"], execution_metadata, True),
    ("/tasks/{task_id}/metadata", ["GET"], metadata, True),
    ("/tasks/{task_id}/timings", ["GET"], timings, True),
]
