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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from oqc_provider.connection import Connection
from oqc_provider.devices import Calibration, DeviceSpec, device_for
from oqc_provider.engine.queues import QueueStatus, least_busy
from oqc_provider.engine.sync import LoopThread, SyncSdk
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.errors import UnknownQpuError
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

    @property
    def label(self) -> str:
        """Name and id as messages show them, marking a device only the emulator offers."""
        only = ", emulator only" if self.device.emulator_only else ""
        return f"{self.name!r} ({self.qpu_id}{only})"


class ProviderSession(SyncSdk):
    """A synchronous handle on one QCaaS (or emulator) session, shared by both front ends.

    A :class:`~oqc_provider.engine.SyncSdk` (one engine session driven from a background loop thread)
    plus what the front ends share: the QPU list, names resolved to ids, calibrations read once.
    Takes the connection arguments of :class:`~oqc_provider.engine.OqcSdk`: ``url`` and ``token``
    (or ``OQC_URL`` / ``OQC_AUTHENTICATION_TOKEN``; with neither, the built-in emulator), or a
    ``connection=`` (:class:`~oqc_provider.connection.Connection`) in their place.
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
        connection: Connection | None = None,
    ) -> None:
        super().__init__(
            url,
            token,
            mode=mode,
            transport=transport,
            timeout=timeout,
            retry=retry,
            allow_insecure=allow_insecure,
            connection=connection,
        )
        self._qpus: list[QpuInfo] | None = None
        self._calibrations: dict[str, Calibration] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ProviderSession({self.sdk.connection.describe()})"

    @property
    def loop(self) -> LoopThread:
        """The background event-loop thread the session's coroutines run on."""
        return self.loop_thread

    def qpus(self, refresh: bool = False) -> list[QpuInfo]:
        """Every QPU the service lists (read once, then cached unless ``refresh``)."""
        with self._lock:
            if self._qpus is None or refresh:
                records = self.run(self.sdk.list_qpus())
                self._qpus = [_qpu_info(record) for record in records]
            return list(self._qpus)

    def queue_status(self, qpus: Sequence[QpuInfo]) -> dict[str, QueueStatus]:
        """Each QPU's queue and execution windows now, by QPU id (one request per server)."""
        return self.run(self.sdk.queue_status([qpu.qpu_id for qpu in qpus]))

    def least_busy(self, qpus: Sequence[QpuInfo]) -> QpuInfo | None:
        """Of ``qpus``, the available one that should run a new task soonest (see
        :func:`~oqc_provider.engine.queues.least_busy`); None when none is available."""
        available = [qpu for qpu in qpus if qpu.available]
        if not available:
            return None
        best = least_busy(self.queue_status(available).values())
        chosen = [qpu for qpu in available if best is not None and qpu.qpu_id == best.qpu_id]
        return chosen[0] if chosen else available[0]

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
        available = ", ".join(q.label for q in qpus) or "none"
        raise UnknownQpuError(f"No QPU called {name_or_id!r}. Available: {available}.")

    def calibration(self, qpu: QpuInfo) -> Calibration:
        """The QPU's calibration figures, read once per session.

        The service's calibration document is used when the provider can read it (the emulator's
        format; QCaaS does not document its own). Otherwise the QPU's figures are *unknown*:
        :meth:`Calibration.unpublished`, so the Target carries no errors (None), BackendInfo no
        averages and the CLI says the service did not publish them. Nothing is invented.
        """
        with self._lock:
            cached = self._calibrations.get(qpu.qpu_id)
        if cached is not None:
            return cached
        calibration = _read_calibration(qpu, self._fetch_calibration(qpu))
        with self._lock:
            self._calibrations[qpu.qpu_id] = calibration
        return calibration

    def _fetch_calibration(self, qpu: QpuInfo) -> Any:
        """The service's calibration document for ``qpu``, or None when it could not be fetched."""
        try:
            return self.run(self.sdk.get_calibration(qpu.qpu_id))
        except OqcProviderError as exc:
            logger.warning("Could not read the calibration of %s: %s", qpu.name, exc)
            return None

    def close(self) -> None:
        """Close the session and its loop thread."""
        try:
            self.run(self.sdk.close(), timeout=30)
        finally:
            self.loop.close()


def _read_calibration(qpu: QpuInfo, document: Any) -> Calibration:
    """The figures in the service's calibration ``document``, or an unpublished calibration.

    A document the provider cannot read is reported once in the log, and its QPU gets no figures:
    a real QPU must never be shown with figures the service did not give.
    """
    if isinstance(document, dict):
        try:
            calibration = Calibration.model_validate(document)
        except ValidationError:
            calibration = None
        if calibration is not None and calibration.published:
            return calibration
    if document is not None:
        logger.warning(
            "The service's calibration document for %s is not in a format the provider reads; "
            "its Target and BackendInfo carry no error figures.",
            qpu.name,
        )
    return Calibration.unpublished(qpu.qpu_id)


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
