"""What both front ends share: one engine session on a background loop, QPU discovery, devices.

Qiskit's ``OQCProvider`` and pytket's ``OQCTketBackend`` each hold a :class:`ProviderSession`.
It drives the async engine from synchronous code (one loop thread, so it works in Jupyter),
turns the service's QPU list into :class:`QpuInfo` records with their :class:`DeviceSpec`, and
reads calibration figures once per QPU. Nothing here imports Qiskit or pytket.

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> session = ProviderSession()
    >>> session.resolve("Lucy Simulator").qpu_id
    'qpu:uk:2:d865b5a184'
    >>> session.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from oqc_provider.devices import Calibration, DeviceSpec, device_for, reference_calibration
from oqc_provider.engine.sdk import OqcSdk
from oqc_provider.engine.sync import LoopThread
from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.errors import OqcProviderError, UnknownQpuError
from oqc_provider.qcaas.retry import RetryPolicy

logger = logging.getLogger("oqc_provider")

T = TypeVar("T")


@dataclass(frozen=True)
class QpuInfo:
    """One QPU as the service lists it, with what the provider knows about it."""

    qpu_id: str
    name: str
    status: str
    active: bool
    features: dict[str, Any] = field(repr=False)
    device: DeviceSpec = field(repr=False)

    @property
    def available(self) -> bool:
        """Whether the QPU accepts work now."""
        return self.active and self.status.upper() == "ACTIVE"


class ProviderSession:
    """A synchronous handle on one QCaaS (or emulator) session, shared by both front ends.

    Takes the connection arguments of :class:`~oqc_provider.engine.OqcSdk`: ``url`` and ``token``
    (or ``OQC_URL`` / ``OQC_AUTHENTICATION_TOKEN``; with neither, the built-in emulator).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        mode: ServerMode | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure: bool = False,
    ) -> None:
        self.loop = LoopThread()
        self.sdk = OqcSdk(
            url,
            token,
            mode=mode,
            transport=transport,
            timeout=timeout,
            retry=retry,
            allow_insecure=allow_insecure,
        )
        self._qpus: list[QpuInfo] | None = None
        self._calibrations: dict[str, Calibration] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ProviderSession({self.sdk.connection.describe()})"

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run an engine coroutine on the session's loop and return its result."""
        return self.loop.run(coroutine, timeout)

    def qpus(self, refresh: bool = False) -> list[QpuInfo]:
        """Every QPU the service lists (read once, then cached unless ``refresh``)."""
        with self._lock:
            if self._qpus is None or refresh:
                records = self.run(self.sdk.list_qpus())
                self._qpus = [_qpu_info(record) for record in records]
            return list(self._qpus)

    def resolve(self, name_or_id: str) -> QpuInfo:
        """The QPU with this id or name (case-insensitive).

        Raises:
            UnknownQpuError: no such QPU; the message lists the available ones.
        """
        wanted = name_or_id.strip().lower()
        qpus = self.qpus()
        for qpu in qpus:
            if wanted in (qpu.qpu_id.lower(), qpu.name.lower()):
                return qpu
        available = ", ".join(f"{q.name!r} ({q.qpu_id})" for q in qpus) or "none"
        raise UnknownQpuError(f"No QPU called {name_or_id!r}. Available: {available}.")

    def calibration(self, qpu: QpuInfo) -> Calibration:
        """The QPU's calibration figures, read once per session.

        The service's own calibration document is used when it is in the emulator's format;
        otherwise (the live service's format is not published) representative figures for the
        device stand in, and a warning says so.
        """
        with self._lock:
            cached = self._calibrations.get(qpu.qpu_id)
        if cached is not None:
            return cached
        try:
            raw = self.run(self.sdk.get_calibration(qpu.qpu_id))
            calibration = Calibration.model_validate(raw)
        except (OqcProviderError, ValidationError) as exc:
            logger.warning(
                "No usable calibration for %s (%s); using representative figures instead.", qpu.name, exc
            )
            calibration = reference_calibration(qpu.device)
        with self._lock:
            self._calibrations[qpu.qpu_id] = calibration
        return calibration

    def close(self) -> None:
        """Close the session and its loop thread."""
        try:
            self.run(self.sdk.close(), timeout=30)
        finally:
            self.loop.close()


def _qpu_info(record: dict[str, Any]) -> QpuInfo:
    raw_features = record.get("feature_set") or {}
    if isinstance(raw_features, str):
        import json

        try:
            raw_features = json.loads(raw_features)
        except ValueError:
            raw_features = {}
    features = raw_features if isinstance(raw_features, dict) else {}
    qpu_id = str(record["id"])
    name = str(record.get("name") or qpu_id)
    return QpuInfo(
        qpu_id=qpu_id,
        name=name,
        status=str(record.get("status") or "ACTIVE"),
        active=bool(record.get("active", True)),
        features=features,
        device=device_for(qpu_id, features, name=name),
    )
