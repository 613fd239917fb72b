"""``OQCProvider``: OQC's QPUs as Qiskit backends.

A plain class (Qiskit 2 has no ``ProviderV1``). With a URL and token (arguments, or ``OQC_URL`` /
``OQC_AUTHENTICATION_TOKEN``) it talks to OQC's QCaaS; with nothing configured it uses the
built-in emulator in-process, and says so in its ``repr`` and in a log line.

Example:
    >>> from oqc_provider.qiskit import OQCProvider
    >>> provider = OQCProvider()
    >>> provider
    OQCProvider(the built-in emulator (in-process))
    >>> [backend.name for backend in provider.backends(simulator=True)]
    ['Lucy Simulator']
    >>> provider.get_backend("lucy simulator") is provider.get_backend("qpu:uk:2:d865b5a184")
    True
    >>> provider.close()
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import httpx

from oqc_provider.connection import Connection
from oqc_provider.engine.snapshots import CompositeJobSnapshot
from oqc_provider.engine.store import JobStore, StoreEntry
from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.errors import ConfigurationError, UnknownQpuError
from oqc_provider.qcaas.retry import RetryPolicy
from oqc_provider.qiskit.backend import STORE_KIND, OQCBackend
from oqc_provider.qiskit.job import ANNOTATION_KEY, OQCJob
from oqc_provider.qiskit.primitives import PRIMITIVE_KEY, OQCPrimitiveJob
from oqc_provider.session import ProviderSession, QpuInfo

logger = logging.getLogger("oqc_provider.qiskit")

#: What ``backends(**filters)`` can filter on: QPU fields, then device fields.
_QPU_FILTERS = ("qpu_id", "name", "status", "active", "available")
_DEVICE_FILTERS = (
    "qubit_count",
    "simulator",
    "noisy",
    "region",
    "generation",
    "supports_reset",
    "supports_mid_circuit_measurement",
    "max_shots",
)


class OQCProvider:
    """Qiskit backends for OQC's QPUs, through QCaaS or the built-in emulator.

    Args:
        url: the QCaaS URL; ``None`` reads ``OQC_URL``; neither means the built-in emulator.
        token: the API token; ``None`` reads ``OQC_AUTHENTICATION_TOKEN``.
        transport: an httpx transport to send requests through (e.g. an emulator app in tests).
        mode: ``"legacy"`` or ``"v4"`` QCaaS routes (``None``: from the environment).
        timeout: httpx timeouts for each request.
        retry: the retry policy for idempotent requests.
        allow_insecure: allow plain http to a non-loopback host.
        job_store: the local job store (or its folder); default: ``jobs`` in the provider's folder.
        session: an existing :class:`ProviderSession` to share (the other arguments are then unused).
        connection: a :class:`~oqc_provider.connection.Connection` in place of the connection
            keywords above (any of them also given must agree with it).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        mode: ServerMode | str | None = None,
        timeout: httpx.Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure: bool = False,
        job_store: JobStore | str | Path | None = None,
        session: ProviderSession | None = None,
        connection: Connection | None = None,
    ) -> None:
        self.session = session or ProviderSession(
            url,
            token,
            mode=mode,
            transport=transport,
            timeout=timeout,
            retry=retry,
            allow_insecure=allow_insecure,
            connection=connection,
        )
        self.job_store = job_store if isinstance(job_store, JobStore) else JobStore(job_store)
        self._backends: dict[str, OQCBackend] = {}
        self._lock = threading.Lock()
        logger.info("OQCProvider is using %s", self.session.sdk.connection.describe())

    def __repr__(self) -> str:
        return f"OQCProvider({self.session.sdk.connection.describe()})"

    def __copy__(self) -> OQCProvider:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> OQCProvider:
        # A provider is a connection: copies of a backend (qiskit-experiments deep-copies its
        # experiments) share it rather than opening another session.
        return self

    def __enter__(self) -> OQCProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and its background thread."""
        self.session.close()

    def _backend(self, qpu: QpuInfo) -> OQCBackend:
        with self._lock:
            backend = self._backends.get(qpu.qpu_id)
            if backend is None:
                backend = self._backends[qpu.qpu_id] = OQCBackend(self, qpu)
            return backend

    def get_backend(self, name: str) -> OQCBackend:
        """The backend of the QPU with this name or QPU id (case-insensitive).

        Raises:
            UnknownQpuError: no such QPU; the message lists the available ones.
        """
        return self._backend(self.session.resolve(name))

    def backends(self, name: str | None = None, **filters: Any) -> list[OQCBackend]:
        """Every backend, or those matching ``name`` (or QPU id) and every filter.

        Filters compare a QPU's fields (``available``, ``status``...) or its device's
        (``simulator``, ``noisy``, ``qubit_count``...) for equality, e.g. ``backends(simulator=True)``.

        Raises:
            ConfigurationError: an unknown filter.
        """
        unknown = sorted(set(filters) - set(_QPU_FILTERS) - set(_DEVICE_FILTERS))
        if unknown:
            raise ConfigurationError(
                f"Unknown backend filter(s) {unknown}; filter on {sorted(_QPU_FILTERS + _DEVICE_FILTERS)}."
            )
        selected = []
        for qpu in self.session.qpus():
            if name is not None and name.strip().lower() not in (qpu.name.lower(), qpu.qpu_id.lower()):
                continue
            if all(_field(qpu, key) == value for key, value in filters.items()):
                selected.append(self._backend(qpu))
        return selected

    def least_busy(self, **filters: Any) -> OQCBackend:
        """Of the available backends matching ``filters`` (as :meth:`backends`), the one that should
        run a new job soonest: open before closed (a closed one by when its window opens), then the
        shortest queue. Reads every candidate's queue once (one request per server).

        Raises:
            UnknownQpuError: no available backend matches the filters.
        """
        candidates = [backend.qpu for backend in self.backends(**filters)]
        best = self.session.least_busy(candidates)
        if best is None:
            raise UnknownQpuError(
                f"No available backend matches {filters or 'no filters'}: "
                f"{len(candidates)} match, none is ACTIVE. See provider.backends() for each one's status."
            )
        return self._backend(best)

    def job(self, job_id: str) -> OQCJob | OQCPrimitiveJob:
        """A Qiskit job from the local job store, in any process: an :class:`OQCJob` for a
        ``backend.run`` id, an :class:`OQCPrimitiveJob` for an ``OQCSamplerV2``/``OQCEstimatorV2`` one.

        Raises:
            JobStoreError: no such job in the store.
            ConfigurationError: the job is not a Qiskit job.
        """
        snapshot = self.job_store.read(job_id)
        annotations = snapshot.annotations if isinstance(snapshot, CompositeJobSnapshot) else {}
        data = annotations.get(ANNOTATION_KEY)
        if not isinstance(data, dict) or "qpu_id" not in data:
            raise ConfigurationError(f"Job {job_id!r} was not created by the Qiskit front end.")
        job = self.get_backend(str(data["qpu_id"])).job_from_snapshot(job_id, snapshot)
        return OQCPrimitiveJob(job) if PRIMITIVE_KEY in annotations else job

    def jobs(self, backend: str | None = None) -> list[StoreEntry]:
        """Qiskit jobs in the local job store, newest first (optionally for one backend name)."""
        return [
            entry
            for entry in self.job_store.list()
            if entry.kind == STORE_KIND and (backend is None or entry.backend == backend)
        ]


def _field(qpu: QpuInfo, key: str) -> Any:
    return getattr(qpu, key) if key in _QPU_FILTERS else getattr(qpu.device, key)
