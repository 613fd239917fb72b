"""An async client of the QCaaS REST API, for both server generations.

* **legacy** (v3): admin endpoints on the base URL; each QPU has its own base URL, read from the
  registry, under which its task, monitoring and window endpoints live.
* **v4** (gateway): every endpoint on the one base URL.

The mode is an argument; when not given, ``OQC_QCAAS_V4`` / ``OQC_ENTRA_ENABLED`` select v4 as
OQC's SDK does. Unlike OQC's SDK, a failing health check raises a typed error instead of leaving
a half-initialised client behind, and the registry is re-read when an unknown QPU id is asked for.

Example (against the built-in emulator, mounted in-process):
    >>> import asyncio, httpx
    >>> from oqc_provider.emulator import create_app
    >>> async def main():
    ...     transport = httpx.ASGITransport(app=create_app())
    ...     async with QcaasClient("http://emulator", token="t", transport=transport) as client:
    ...         return [qpu.id for qpu in await client.list_qpus()][0]
    >>> asyncio.run(main())
    'qpu:uk:2:d865b5a184'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from pydantic import BaseModel

from oqc_provider._version import __version__
from oqc_provider.qcaas._http import QcaasHttpClient, RequestSender
from oqc_provider.qcaas.errors import (
    ConfigurationError,
    ProtocolError,
    UnknownQpuError,
    UnsupportedOperationError,
)
from oqc_provider.qcaas.models import (
    CancelRequest,
    FeaturesV4,
    NextWindowResponse,
    QpuPage,
    QpuRecord,
    QpuWaitTime,
    QpuWaitTimeRequest,
    QpuWaitTimeResponse,
    SubmitRequest,
    SubmittedTask,
    TaskError,
    TaskIdRequestLegacy,
    TaskIdRequestV4,
    TaskIdResponseV4,
    TaskIdSlot,
    TaskInfo,
    TaskPayload,
    TaskWaitTimeRequest,
    VersionInfo,
)
from oqc_provider.qcaas.retry import RetryPolicy
from oqc_provider.qcaas.urls import INSECURE_CLI_HINT, in_process, is_loopback, normalise_base_url
from oqc_provider.settings import ENTRA_ENABLED, QCAAS_V4

logger = logging.getLogger("oqc_provider.qcaas")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class ServerMode(str, Enum):
    """The QCaaS server generation a client speaks to."""

    LEGACY = "legacy"
    V4 = "v4"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerMode:
        """v4 when ``OQC_QCAAS_V4`` or ``OQC_ENTRA_ENABLED`` is 1/true/yes, else legacy (as OQC's SDK).

        ``environ`` defaults to ``os.environ``.
        """
        return cls.V4 if QCAAS_V4.read(environ) or ENTRA_ENABLED.read(environ) else cls.LEGACY


class QcaasClient:
    """Async access to every QCaaS endpoint the provider uses.

    Args:
        url: the service's base URL (legacy: the identity service; v4: the gateway).
        token: the API token (legacy ``Authentication-Token``) or a bearer JWT (v4).
        mode: the server generation; ``None`` reads the environment as OQC's SDK does.
        transport: an httpx transport, e.g. ``httpx.ASGITransport`` for an in-process emulator.
        timeout: httpx timeouts (default: connect 10 s, everything else 30 s).
        retry: the retry policy for idempotent requests (default: 5 tries, or
            ``OQC_SDK_MAX_TRANSPORT_RETRIES``).
        allow_insecure: allow plain http to a non-loopback host.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        mode: ServerMode | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure: bool = False,
    ) -> None:
        self.url = normalise_base_url(url, allow_insecure=allow_insecure, in_process=in_process(transport))
        self.mode = ServerMode(mode) if mode is not None else ServerMode.from_env()
        self.__token = token  # name-mangled and never rendered: see __repr__
        self._allow_insecure = allow_insecure
        self._transport = transport
        self._timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self._retry = retry or RetryPolicy.from_env()
        self._http: httpx.AsyncClient | None = None
        self._sender: RequestSender | None = None
        self._requests_before = 0  # sent through connection pools already closed
        self._retries_before = 0
        self._qpu_urls: dict[str, str] = {}
        self._safe_bases: set[str] = set()  # registry URLs the plain-http rule has passed
        self.server_version: str | None = None

    def __repr__(self) -> str:
        return f"QcaasClient(url={self.url!r}, mode={self.mode.value!r}, open={self._http is not None})"

    # --- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> QcaasClient:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> QcaasClient:
        """Create the HTTP connection pool and check the service answers its health endpoint.

        Raises:
            ServiceUnavailableError: the service cannot be reached.
            ProtocolError: something answered, but not a QCaaS service.
        """
        if self._http is None:
            self._http = QcaasHttpClient(
                base_url=self.url,
                transport=self._transport,
                timeout=self._timeout,
                headers={"User-Agent": f"oqc-provider/{__version__}"},
                follow_redirects=False,
            )
            self._sender = RequestSender(self._http, self._auth_headers, self._retry)
        try:
            version = await self.health(first_contact=True)
        except BaseException:
            await self.close()  # `async with` does not call __aexit__ when __aenter__ raises
            raise
        self.server_version = version.version
        logger.debug("Connected to %s (QCaaS %s, %s mode)", self.url, version.version, self.mode.value)
        return self

    async def close(self) -> None:
        """Close the connection pool; safe to call more than once or before :meth:`open`."""
        if self._http is not None:
            await self._http.aclose()
        if self._sender is not None:  # the counts outlive the pool: benchmarks read them after
            self._requests_before += self._sender.request_count
            self._retries_before += self._sender.retry_count
        self._http = None
        self._sender = None

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far by this client, retries included."""
        return self._requests_before + (self._sender.request_count if self._sender else 0)

    @property
    def unreachable_since(self) -> datetime | None:
        """When the service stopped answering this client (UTC), or ``None`` while it answers."""
        return self._sender.unreachable_since if self._sender is not None else None

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy for transient failures (the engine paces its submit rounds by it too)."""
        return self._retry

    @property
    def retry_count(self) -> int:
        """Requests resent after a transient failure so far."""
        return self._retries_before + (self._sender.retry_count if self._sender else 0)

    def _auth_headers(self) -> dict[str, str]:
        if not self.__token:
            return {}
        if self.mode is ServerMode.V4:
            return {"Authorization": f"Bearer {self.__token}"}
        return {"Authentication-Token": self.__token}

    @property
    def _send(self) -> RequestSender:
        if self._sender is None:
            raise RuntimeError(
                "The QCaaS client is not open: use `async with QcaasClient(...)` or `await open()`."
            )
        return self._sender

    # --- health and QPUs ---------------------------------------------------------------------------

    async def health(self, *, first_contact: bool = False) -> VersionInfo:
        """The service's version, from ``/admin/version`` (legacy) or ``/healthz`` (v4).

        On ``first_contact`` a refused connection is not retried: nothing listens at the URL, and
        the caller should hear so at once (5xx and timeouts are still retried).
        """
        path = "/healthz" if self.mode is ServerMode.V4 else "/admin/version"
        body = await self._send.request_json(
            "GET", path, authenticated=False, idempotent=True, retry_refused=not first_contact
        )
        return _parse(VersionInfo, body, path)

    async def list_qpus(self) -> list[QpuRecord]:
        """Every QPU the service lists (legacy: only active ones, as OQC's SDK)."""
        if self.mode is ServerMode.V4:
            body = await self._send.request_json("GET", "/qpus", idempotent=True)
            if not isinstance(body, list):
                raise ProtocolError(f"GET /qpus answered {type(body).__name__}, expected a list of QPUs.")
            return [_parse(QpuRecord, item, "/qpus") for item in body]
        body = await self._send.request_json("GET", "/admin/qpu", params={"per_page": 1000}, idempotent=True)
        page = _parse(QpuPage, body, "/admin/qpu")
        active = [qpu for qpu in page.items if qpu.active]
        self._qpu_urls = {qpu.id: qpu.url.rstrip("/") for qpu in active if qpu.url}
        return active

    async def get_features(self, qpu_id: str) -> dict[str, Any]:
        """The QPU's ``feature_set`` as a dict (qubit count, maximum shots, and catalogue keys)."""
        if self.mode is ServerMode.V4:
            path = f"/qpus/{qpu_id}/features"
            return _parse(FeaturesV4, await self._send.request_json("GET", path, idempotent=True), path).data
        path = f"/admin/qpu/{qpu_id}"
        record = _parse(QpuRecord, await self._send.request_json("GET", path, idempotent=True), path)
        return record.features()

    async def get_system_status(self, qpu_id: str) -> Any:
        """The QPU's status document (opaque)."""
        if self.mode is ServerMode.V4:
            return await self._send.request_json("GET", f"/qpus/{qpu_id}/status", idempotent=True)
        return await self._send.request_json(
            "GET", await self._qpu_path(qpu_id, "/monitoring/statuses"), idempotent=True
        )

    async def get_calibration(self, qpu_id: str, day: date | datetime | str | None = None) -> Any:
        """Calibration figures: legacy ``monitoring/calibrations``, v4 ``benchmarks``.

        Raises:
            ValueError: ``day`` is a string not in ``YYYY-MM-DD`` form.
        """
        day_text = _day(day)
        if self.mode is ServerMode.V4:
            path = f"/qpus/{qpu_id}/benchmarks"
            params = None
            if day_text:
                path += "/search"
                params = {"start_date": f"{day_text}T00:00:00", "end_date": f"{day_text}T23:59:59"}
            body = await self._send.request_json("GET", path, params=params, idempotent=True)
            return body.get("data") if isinstance(body, dict) else body
        params = {"qpu_id": qpu_id, **({"date": day_text} if day_text else {})}
        path = await self._qpu_path(qpu_id, "/monitoring/calibrations")
        return await self._send.request_json("GET", path, params=params, idempotent=True)

    async def get_next_window(self, qpu_id: str) -> datetime | None:
        """When the QPU's next execution window starts (legacy only; ``None`` when none is planned)."""
        if self.mode is ServerMode.V4:
            raise UnsupportedOperationError(
                "The v4 gateway has no execution-window endpoint; connect in legacy mode "
                "(mode='legacy', or unset OQC_QCAAS_V4) to read execution windows."
            )
        body = await self._send.request_json(
            "GET", await self._qpu_path(qpu_id, "/windows/next"), idempotent=True
        )
        window = _parse(NextWindowResponse, body, "/windows/next").next_window
        if window is None:
            return None
        try:
            return datetime.strptime(window.starting, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            logger.warning("Could not read the next window's start %r", window.starting)
            return None

    async def get_qpu_wait_times(self, qpu_ids: Sequence[str]) -> list[QpuWaitTime]:
        """Queue length and availability estimates for each QPU.

        Legacy QPUs may live on different servers: each is asked only about its own QPUs (as
        OQC's SDK does), so no QPU is reported twice.
        """
        by_base: dict[str, list[str]] = {}
        for qpu_id in dict.fromkeys(qpu_ids):
            by_base.setdefault(await self._qpu_path(qpu_id, ""), []).append(qpu_id)
        answers: list[QpuWaitTime] = []
        for base, targets in by_base.items():
            body = QpuWaitTimeRequest(targets=targets).model_dump()
            raw = await self._send.request_json(
                "POST", f"{base}/monitoring/qpu_wait_time", json_body=body, idempotent=True
            )
            answers += _parse(QpuWaitTimeResponse, raw, "qpu_wait_time").qpu_wait_times
        return answers

    async def get_task_wait_times(self, qpu_id: str, task_ids: Sequence[UUID | str]) -> Any:
        """The service's wait estimate for each task (opaque)."""
        body = TaskWaitTimeRequest(task_ids=[str(t) for t in task_ids], qpu_id=qpu_id).model_dump()
        path = await self._qpu_path(qpu_id, "/monitoring/task_wait_time")
        return await self._send.request_json("POST", path, json_body=body, idempotent=True)

    # --- tasks -------------------------------------------------------------------------------------

    async def create_task_ids(self, qpu_id: str, count: int, tag: str | None = None) -> list[UUID]:
        """Pre-allocate ``count`` task ids on ``qpu_id``, so a batch can be resubmitted safely."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}.")
        body: dict[str, Any]
        if self.mode is ServerMode.V4:
            body = TaskIdRequestV4(tasks=[TaskIdSlot(qpu_id=qpu_id, tag=tag)] * count).model_dump()
        else:
            body = TaskIdRequestLegacy(qpu_id=qpu_id, task_count=count, tag=tag).model_dump()
        path = await self._qpu_path(qpu_id, "/tasks")
        # Retrying allocation is harmless: a lost answer only leaves unused CREATED ids behind.
        raw = await self._send.request_json("POST", path, json_body=body, idempotent=True)
        ids = raw if isinstance(raw, list) else _parse(TaskIdResponseV4, raw, path).tasks
        if len(ids) != count:
            raise ProtocolError(f"Asked {path} for {count} task ids, got {len(ids)}.")
        return [_uuid(i, path) for i in ids]

    async def submit_tasks(
        self, qpu_id: str, tasks: Sequence[TaskPayload], *, deadline: float | None = None
    ) -> list[UUID]:
        """Submit programs to ``qpu_id``; returns their task ids in order.

        Never resent, except when the request provably never left (the connection was refused):
        the protocol does not say what a server does with an id it already has (it may run it
        again), so after any other failure the caller asks the server before sending again.
        """
        payloads = [task.model_copy(update={"qpu_id": qpu_id}) for task in tasks]
        body = {"tasks": [p.wire_dict() for p in SubmitRequest(tasks=payloads).tasks]}
        path = await self._qpu_path(qpu_id, "/tasks/submit")
        safe_to_resend = all(p.task_id for p in payloads)
        raw = await self._send.request_json("POST", path, json_body=body, idempotent=False, deadline=deadline)
        if not isinstance(raw, list) or len(raw) != len(payloads):
            if safe_to_resend and len(payloads) > 1:
                return [UUID(p.task_id) for p in payloads if p.task_id]
            raise ProtocolError(f"{path} answered {raw!r}, expected one {{'task_id'}} per task.")
        return [_uuid(_parse(SubmittedTask, item, path).task_id, path) for item in raw]

    async def get_task(self, qpu_id: str, task_id: UUID | str, *, deadline: float | None = None) -> TaskInfo:
        """The task's full record (``all_info``): status, results, error and diagnostics."""
        path = await self._qpu_path(qpu_id, f"/tasks/{task_id}/all_info")
        return _parse(
            TaskInfo, await self._send.request_json("GET", path, idempotent=True, deadline=deadline), path
        )

    async def get_task_status(
        self, qpu_id: str, task_id: UUID | str, *, deadline: float | None = None
    ) -> str:
        """The task's status string, from the light ``/status`` endpoint."""
        path = await self._qpu_path(qpu_id, f"/tasks/{task_id}/status")
        body = await self._send.request_json("GET", path, idempotent=True, deadline=deadline)
        return str(body.get("status", "UNKNOWN")) if isinstance(body, dict) else "UNKNOWN"

    async def get_task_results(self, qpu_id: str, task_id: UUID | str) -> Any:
        """The task's results, or ``None`` while it has none."""
        return await self._task_field(qpu_id, task_id, "results")

    async def get_task_error(self, qpu_id: str, task_id: UUID | str) -> TaskError | None:
        """Why the task failed, or ``None``."""
        raw = await self._task_field(qpu_id, task_id, "error", key="task_error")
        return TaskError.model_validate(raw) if raw else None

    async def get_task_execution_metadata(self, qpu_id: str, task_id: UUID | str) -> dict[str, Any] | None:
        """Compiler metrics of the run (optimised circuit, instruction count, physical qubits)."""
        return await self._task_object(qpu_id, task_id, "execution_metadata")

    async def get_task_metadata(self, qpu_id: str, task_id: UUID | str) -> dict[str, Any] | None:
        """The task's metadata (config, creation time, tag)."""
        return await self._task_object(qpu_id, task_id, "metadata")

    async def get_task_timings(self, qpu_id: str, task_id: UUID | str) -> dict[str, Any] | None:
        """Server-side timestamps of the task's progress."""
        return await self._task_object(qpu_id, task_id, "timings")

    async def cancel_tasks(self, qpu_id: str, task_ids: Sequence[UUID | str]) -> None:
        """Ask the service to cancel tasks (idempotent: cancelling twice is harmless)."""
        if not task_ids:
            return
        body = CancelRequest(tasks=[str(t) for t in task_ids]).model_dump()
        path = await self._qpu_path(qpu_id, "/tasks/cancel_many")
        await self._send.request("POST", path, json_body=body, idempotent=True)

    async def _task_field(
        self, qpu_id: str, task_id: UUID | str, endpoint: str, key: str | None = None
    ) -> Any:
        path = await self._qpu_path(qpu_id, f"/tasks/{task_id}/{endpoint}")
        body = await self._send.request_json("GET", path, idempotent=True)
        return body.get(key or endpoint) if isinstance(body, dict) else None

    async def _task_object(self, qpu_id: str, task_id: UUID | str, endpoint: str) -> dict[str, Any] | None:
        value = await self._task_field(qpu_id, task_id, endpoint)
        if value is None or isinstance(value, dict):
            return value
        raise ProtocolError(
            f"GET .../tasks/{task_id}/{endpoint} answered {value!r}, expected an object or null"
        )

    async def _qpu_path(self, qpu_id: str, suffix: str) -> str:
        """Where ``qpu_id``'s endpoints live: the gateway (v4) or the QPU's own URL (legacy)."""
        if self.mode is ServerMode.V4:
            return suffix
        if qpu_id not in self._qpu_urls:
            await self.list_qpus()  # the registry may have changed since it was last read
        try:
            base = self._qpu_urls[qpu_id]
        except KeyError:
            known = ", ".join(sorted(self._qpu_urls)) or "none"
            raise UnknownQpuError(
                f"Invalid qpu_id: {qpu_id!r} is not an active QPU here (active: {known})."
            ) from None
        if base in self._safe_bases:
            return base + suffix
        if urlsplit(base).scheme == "http" and not (
            self._allow_insecure or in_process(self._transport) or is_loopback(base)
        ):
            # The registry, not the user, chose this URL: never let it downgrade the token to clear text.
            raise ConfigurationError(
                f"The registry lists {qpu_id!r} at plain-http {urlsplit(base).hostname!r}; refusing to send "
                f"the token unencrypted. Pass allow_insecure=True ({INSECURE_CLI_HINT}) "
                "if you really mean it."
            )
        self._safe_bases.add(base)  # checked once per URL the registry gives, not per request
        return base + suffix


ModelT = TypeVar("ModelT", bound=BaseModel)


def _parse(model: type[ModelT], body: Any, where: str) -> ModelT:
    try:
        return model.model_validate(body)
    except ValueError as exc:
        raise ProtocolError(f"Unexpected answer from {where}: {exc}") from None


def _uuid(value: Any, where: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ProtocolError(f"{where} returned {value!r}, which is not a UUID task id.") from None


def _day(day: date | datetime | str | None) -> str | None:
    if day is None:
        return None
    if isinstance(day, datetime | date):
        return day.strftime("%Y-%m-%d")
    try:
        return datetime.strptime(day, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise ValueError(f"Calibration date {day!r} must be YYYY-MM-DD.") from None
