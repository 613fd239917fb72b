"""Pydantic models of every QCaaS payload: one schema, used by the client and the emulator alike.

Field names and shapes follow the QCaaS REST protocol (both the legacy v3 "identity service"
and the v4 gateway). Models accept unknown fields (the real service adds keys over time) but
the emulator only emits what is modelled here. See ``shared/spec/qcaas-protocol.md`` §1.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The service's request size limit (body plus headers), in bytes.
MAX_REQUEST_BYTES = 128 * 1024


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def encode_body(body: Any) -> bytes:
    """A request body as compact UTF-8 JSON, written by pydantic's encoder.

    A submit body is mostly programs and configs (a config is JSON in a string: every quote
    escaped). The standard library's encoder, which also escapes each non-ASCII character, took
    about 30 instructions a byte; pydantic's takes a few. Non-ASCII text goes as UTF-8, which
    every JSON reader takes (RFC 8259 makes it the default encoding).

    >>> encode_body({"tasks": [{"program": "qreg q[1];", "tag": "é", "shots": 10}]})
    b'{"tasks":[{"program":"qreg q[1];","tag":"\\xc3\\xa9","shots":10}]}'
    """
    return pydantic_core.to_json(body)


class TaskStatus(str, Enum):
    """Status strings of a QCaaS task, as the server reports them."""

    CREATED = "CREATED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """Whether the server will never change this task's status again."""
        return self in _TERMINAL_TASK_STATUSES


_TERMINAL_TASK_STATUSES = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.EXPIRED}
)


# --- health and QPUs -----------------------------------------------------------------------------


class VersionInfo(_Wire):
    """``GET /admin/version`` (legacy) and ``GET /healthz`` (v4)."""

    version: str


class QpuRecord(_Wire):
    """One QPU as the registry lists it (legacy ``/admin/qpu`` items, v4 ``/qpus`` elements)."""

    id: str
    name: str = ""
    url: str | None = None
    active: bool = True
    status: str = "ACTIVE"
    generation: int | None = None
    region: str | None = None
    price_per_shot: str | None = None
    price_per_task: str | None = None
    feature_set: str | dict[str, Any] = Field(default_factory=dict)

    def features(self) -> dict[str, Any]:
        """``feature_set`` as a dict (the service sends it as a JSON-encoded string)."""
        if isinstance(self.feature_set, dict):
            return dict(self.feature_set)
        if not self.feature_set:
            return {}
        decoded = json.loads(self.feature_set)
        return decoded if isinstance(decoded, dict) else {}


class QpuPage(_Wire):
    """The legacy registry's paginated envelope."""

    items: list[QpuRecord]
    total: int | None = None
    page: int | None = None
    per_page: int | None = None


class FeaturesV4(_Wire):
    """``GET /qpus/{qpu_id}/features`` (v4)."""

    qpu_id: str
    data: dict[str, Any]


# --- tasks ---------------------------------------------------------------------------------------


class TaskIdRequestLegacy(_Wire):
    """``POST {QPU}/tasks`` body in legacy mode: allocate ``task_count`` ids."""

    qpu_id: str
    task_count: int = Field(ge=1)
    tag: str | None = None


class TaskIdSlot(_Wire):
    """One id requested in the v4 body."""

    qpu_id: str
    tag: str | None = None


class TaskIdRequestV4(_Wire):
    """``POST /tasks`` body in v4 mode: one slot per id wanted."""

    tasks: list[TaskIdSlot] = Field(min_length=1)


class TaskIdResponseV4(_Wire):
    """v4 answer to id allocation (legacy answers a bare list of UUID strings)."""

    tasks: list[str]


class TaskPayload(_Wire):
    """One program to run, as sent in ``POST /tasks/submit``.

    ``config`` is a *string* holding the tagged CompilerConfig JSON (double-encoded on the wire).
    ``task_id`` is omitted for single-task submissions, where the server allocates the id.
    """

    program: str
    qpu_id: str
    config: str
    task_id: str | None = None
    tag: str | None = None
    hybrid_marker: str | None = None
    external_config: dict[str, Any] | None = None

    def wire_dict(self) -> dict[str, Any]:
        """The JSON object to send: optional fields left out when unset, as OQC's SDK does."""
        return self.model_dump(exclude_none=True, exclude={"tag"} if not self.tag else set())


class SubmitRequest(_Wire):
    """``POST /tasks/submit`` body."""

    tasks: list[TaskPayload] = Field(min_length=1)


class SubmittedTask(_Wire):
    """One element of the submit answer."""

    task_id: str


class TaskError(_Wire):
    """Why a task FAILED."""

    error_code: int = -1
    error_message: str = "Unknown error."


class TaskInfo(_Wire):
    """``GET /tasks/{id}/all_info``: everything about one task, the document clients poll."""

    id: str
    qpu_id: str | None = None
    status: str
    tag: str | None = None
    created_at: str | None = None
    config: str | None = None
    results: Any = None
    task_error: TaskError | None = None
    execution_metadata: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def task_status(self) -> TaskStatus:
        """The status as a :class:`TaskStatus` (``UNKNOWN`` for strings the server invents)."""
        return parse_task_status(self.status)


def parse_task_status(raw: str | None) -> TaskStatus:
    """Map a server status string (any case, including synonyms) to a :class:`TaskStatus`."""
    text = (raw or "").strip().upper()
    return _STATUS_SYNONYMS.get(text, TaskStatus.UNKNOWN)


_STATUS_SYNONYMS: dict[str, TaskStatus] = {
    **{status.value: status for status in TaskStatus},
    "QUEUED": TaskStatus.SUBMITTED,
    "IN_PROGRESS": TaskStatus.RUNNING,
    "SUCCEEDED": TaskStatus.COMPLETED,
    "DONE": TaskStatus.COMPLETED,
    "ERROR": TaskStatus.FAILED,
    "CANCELED": TaskStatus.CANCELLED,
}


class CancelRequest(_Wire):
    """``POST /tasks/cancel_many`` body."""

    tasks: list[str] = Field(min_length=1)


# --- monitoring and windows -----------------------------------------------------------------------


class QpuWaitTimeRequest(_Wire):
    """``POST {QPU}/monitoring/qpu_wait_time`` body."""

    targets: list[str]


class Window(_Wire):
    """An execution window of a QPU."""

    start_time: str
    end_time: str | None = None
    window_description: str | None = None


class QpuWaitTime(_Wire):
    """Queue estimate for one QPU."""

    qpu_id: str
    estimated_availability_time: str | None = None
    tasks_in_queue: int = 0
    average_processing_seconds: float = 0.0
    timestamp: str | None = None
    windows: list[Window] = Field(default_factory=list)


class QpuWaitTimeResponse(_Wire):
    """Answer to ``qpu_wait_time``."""

    qpu_wait_times: list[QpuWaitTime]


class TaskWaitTimeRequest(_Wire):
    """``POST {QPU}/monitoring/task_wait_time`` body."""

    task_ids: list[str]
    qpu_id: str


class NextWindow(_Wire):
    """The next execution window; clients read ``starting`` (``%Y-%m-%dT%H:%M:%SZ``)."""

    starting: str
    start_time: str | None = None
    end_time: str | None = None


class NextWindowResponse(_Wire):
    """``GET {QPU}/windows/next``; an empty object means no window."""

    next_window: NextWindow | None = None
