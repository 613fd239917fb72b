"""What every emulator route handler shares: the request context, error answers, body parsing.

Kept apart from :mod:`.app` (which assembles the routes into an application) so the route modules
(:mod:`.routes_tasks`, :mod:`.routes_qpus`) import these helpers without importing the app that imports them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.api_errors import ApiError
from oqc_provider.emulator.limits import error_body

if TYPE_CHECKING:
    from oqc_provider.emulator.state import EmulatorState

LEGACY_VERSION = "3.22.1-emulator"
V4_VERSION = "4.0.0-emulator"

Model = TypeVar("Model", bound=BaseModel)


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
    return JSONResponse(error_body(status, message, legacy), status_code=status)


async def read_json(request: Request, ctx: Ctx) -> Any:
    """The request's JSON body (its size was limited while it arrived: :class:`.limits.BodyLimit`).

    Raises:
        ApiError: 400/422 when the body is not JSON, is nested too deeply, or holds a lone UTF-16
            surrogate (text no store or answer could encode).
    """
    body = await request.body()
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ApiError(ctx.bad_request, f"Request body is not valid JSON: {exc}") from exc
    except RecursionError:
        message = "Request body is nested too deeply; send a flatter document."
        raise ApiError(ctx.bad_request, message) from None
    if b"\\ud" in body.lower():  # an escaped surrogate: valid only as half of a pair
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            message = "Request body holds a lone UTF-16 surrogate (\\ud800-\\udfff); send valid text."
            raise ApiError(ctx.bad_request, message) from None
    return data


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
RouteSpec = tuple[str, list[str], Handler, bool]  # path, methods, handler, authenticated


def now_due(state: EmulatorState) -> float:
    """When a task submitted now becomes due."""
    return time.time() + max(0.0, state.settings.latency)


#: Stands in a document for each value :func:`json_with_raw` writes as it is: random per process, so
#: no text a client sent (a tag, a config) can contain it.
_RAW_MARK = f"raw-{uuid.uuid4().hex}-"


def json_with_raw(document: dict[str, Any], raw: dict[str, str]) -> bytes:
    """``document`` as JSON (as ``JSONResponse`` writes it), with the entries in ``raw`` written as
    the JSON texts they already are: a task's results go out as stored, never decoded and encoded
    again (for 1,000 shots of 8 bits that was 2.2 ms of a 2.5 ms read). One ``json.dumps`` of the
    document with a marker in place of each raw value, then the markers replaced (one dump per
    entry cost 0.1 ms more per read)."""
    marked = {key: _RAW_MARK + key if key in raw else value for key, value in document.items()}
    text = json.dumps(marked, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for key, value in raw.items():
        if key in document:
            text = text.replace(json.dumps(_RAW_MARK + key), value, 1)
    return text.encode("utf-8")
