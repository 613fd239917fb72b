"""``OQCTketBackend``: a pytket Backend for OQC QPUs (and the built-in emulator) over the job engine.

Each ``process_circuits`` call is one engine CompositeJob, recorded in the local job store before
anything is sent; each handle names its batch, child, QPU, task and bit layout, so results can be
fetched from a new process with a new backend (``_persistent_handles = True``).

Example:
    >>> from pytket import Circuit
    >>> backend = OQCTketBackend("Lucy Simulator")
    >>> circuit = backend.get_compiled_circuit(Circuit(2).H(0).CX(0, 1).measure_all())
    >>> handle = backend.process_circuit(circuit, n_shots=100, seed=1)
    >>> sorted(backend.get_result(handle, timeout=60).get_counts().items())
    [((0, 0), 50), ((1, 1), 50)]
    >>> backend.close()
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pytket.backends import Backend, ResultHandle
from pytket.backends.backendinfo import BackendInfo
from pytket.backends.backendresult import BackendResult
from pytket.backends.status import CircuitStatus
from pytket.circuit import Circuit
from pytket.passes import BasePass
from pytket.predicates import Predicate

from oqc_provider.connection import Connection
from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.cost import CostEstimate
from oqc_provider.engine.job import Job
from oqc_provider.engine.queues import QueueStatus
from oqc_provider.engine.states import JobState
from oqc_provider.engine.store import JobStore, new_job_id
from oqc_provider.engine.tracker import budget_active
from oqc_provider.preflight import check_program, check_request_sizes
from oqc_provider.pytket import passes
from oqc_provider.pytket.batches import STORE_KIND, BatchIndex
from oqc_provider.pytket.device_info import (
    BACKEND_NAME,
    backend_info,
    link_errors,
    node_errors,
    readout_errors,
)
from oqc_provider.pytket.errors import (
    CircuitCancelledError,
    InvalidCircuitError,
    ResultTimeoutError,
)
from oqc_provider.pytket.handles import RESULT_ID_TYPE, HandleData
from oqc_provider.pytket.preparation import Prepared, new_jobs, run_options, wire_programs
from oqc_provider.pytket.programs import WireProgram
from oqc_provider.pytket.results import backend_result
from oqc_provider.pytket.waiting import read_queue, status_of, wait_for_job, wait_for_jobs
from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.retry import RetryPolicy
from oqc_provider.run_options import RunOptions
from oqc_provider.session import ProviderSession, QpuInfo

logger = logging.getLogger("oqc_provider.pytket")


class OQCTketBackend(Backend):
    """Run pytket circuits on an OQC QPU; with no URL configured, on the built-in emulator.

    Args:
        device: the QPU's name or id (``"Lucy Simulator"``, ``"Toshiko"``, ``"qpu:uk:2:..."``).
        url, token, transport, mode, timeout, retry, allow_insecure: where requests go, as for
            ``OQCProvider`` (``OQC_URL`` / ``OQC_AUTHENTICATION_TOKEN``; neither: the emulator).
            ``timeout`` is the per-request HTTP timeout.
        job_store: the local job store (default: the provider's data folder).
        session: an existing session to share (the backend then does not close it).
        options: defaults for every run (shots when ``n_shots`` is None, ``seed``, result
            ``timeout``, ``tag``, QCaaS ``optimizations`` and error mitigation).
        connection: a :class:`~oqc_provider.connection.Connection` in place of the connection
            keywords (any of them also given must agree with it).

    Results carry every shot (``get_shots()``) and the counts made from them, as with pytket's
    AerBackend, except with readout error mitigation, which the service applies to counts only.
    Compiled circuits are sent with ``optimizations=Tket(TketOptimizations.Empty)`` unless told
    otherwise, so they run on the nodes the compilation chose.

    Raises:
        UnknownQpuError: no such QPU; the message lists the available ones.
    """

    _supports_shots = True
    _supports_counts = True
    _persistent_handles = True

    def __init__(
        self,
        device: str,
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
        options: RunOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        super().__init__()
        self._owns_session = session is None
        self._session = session or ProviderSession(
            url,
            token,
            mode=mode,
            transport=transport,
            timeout=timeout,
            retry=retry,
            allow_insecure=allow_insecure,
            connection=connection,
        )
        try:
            self._qpu: QpuInfo = self._session.resolve(device)
        except Exception:
            self.close()
            raise
        self._options = options or RunOptions()
        store = job_store if isinstance(job_store, JobStore) else JobStore(job_store)
        self._batches = BatchIndex(self._session, self._qpu, store)
        self._info: BackendInfo | None = None
        self._warned_seed = False  # the "hardware gets no seed" warning is given once per backend
        logger.info("OQCTketBackend for %s via %s", self._qpu.name, self._session.sdk.connection.describe())

    # --- the device ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        only = ", emulator only" if self._qpu.device.emulator_only else ""
        return f"OQCTketBackend({self._qpu.name!r}{only}, {self._session.sdk.connection.describe()})"

    @property
    def qpu(self) -> QpuInfo:
        """The QPU this backend runs on."""
        return self._qpu

    @property
    def options(self) -> RunOptions:
        """The default run options (a frozen model: pass ``options=`` to change them)."""
        return self._options

    @property
    def backend_info(self) -> BackendInfo:
        """Architecture (directed ECR couplings), gate set, calibration error figures, limits."""
        if self._info is None:
            calibration = self._session.calibration(self._qpu)
            self._info = backend_info(self._qpu.device, calibration, self._qpu.name)
        return self._info

    @classmethod
    def available_devices(cls, **kwargs: Any) -> list[BackendInfo]:
        """A BackendInfo for every QPU the service lists (connection keywords as the constructor).

        Example:
            >>> sorted(info.device_name for info in OQCTketBackend.available_devices())
            ['Lucy', 'Lucy Simulator', 'Toshiko']
        """
        session = kwargs.pop("session", None)
        own = session is None
        session = session or ProviderSession(**kwargs)
        try:
            return [backend_info(q.device, session.calibration(q), q.name) for q in session.qpus()]
        finally:
            if own:
                session.close()

    @property
    def required_predicates(self) -> list[Predicate]:
        """Native gates, coupling and ECR direction, no symbols, no classical control, and (where the
        device has none) no mid-circuit measurement."""
        return passes.required_predicates(self._qpu.device)

    def rebase_pass(self) -> BasePass:
        """Convert gates to ``{ECR, Rz, SX, X}`` (ignoring connectivity)."""
        return passes.rebase_pass(self._qpu.device)

    def default_compilation_pass(self, optimisation_level: int = 2) -> BasePass:
        """A pass making any circuit valid for the device; levels 0-3 (see :mod:`.passes`)."""
        spec = self._qpu.device
        if optimisation_level < 2:
            return passes.default_compilation_pass(spec, optimisation_level)
        calibration = self._session.calibration(self._qpu)
        return passes.default_compilation_pass(
            spec,
            optimisation_level,
            node_errors=node_errors(spec, calibration),
            link_errors=link_errors(spec, calibration),
            readout_errors=readout_errors(spec, calibration),
        )

    @property
    def _result_id_type(self) -> tuple[type, ...]:
        return RESULT_ID_TYPE

    # --- submitting ----------------------------------------------------------------------------

    def process_circuits(
        self,
        circuits: Sequence[Circuit],
        n_shots: int | Sequence[int | None] | None = None,
        valid_check: bool = True,
        **kwargs: Any,
    ) -> list[ResultHandle]:
        """Submit circuits as one batch and return a handle per circuit, without waiting.

        Args:
            circuits: compiled circuits (see :meth:`get_compiled_circuits`).
            n_shots: shots for all circuits, or one number per circuit; ``None``: the options' shots.
            valid_check: check each circuit against :attr:`required_predicates` first.
            seed: simulator seed (circuit ``i`` gets ``seed + i``), sent only to QPUs whose feature
                set says ``simulator``; hardware gets none (a warning says so, once).
            tag: a label stored with each task on the server.
            optimizations: what the service's compiler may do. Default ``"empty"`` (no pass: the
                circuit runs on the nodes it was compiled onto); ``"service"`` (the service's
                default), ``"one"`` or ``"two"`` let the service place and route it, so qubits may
                move (results still map by bits; see :meth:`physical_qubits`). A
                ``TketOptimizations`` flag or codec object is accepted too.
            memory: accepted for compatibility; every result carries its shots.
            pre_selection, post_selection: drop the shots that fail QAT's heralding measurement or
                land in a disallowed state; the result's counts then sum to the shots kept.
            driven_reset, passive_reset_time: how qubits reset between shots (driven reset is
                refused before sending on a QPU whose feature set says it lacks it).
            preflight: check each program against what the service is known to refuse and the
                QPU's published limits before sending (default True); ``False`` sends it anyway.
            timeout, wait: accepted and ignored here (``run_circuits`` passes ``get_result``'s
                keywords to both); other unknown keywords warn.

        Raises:
            InvalidCircuitError: a circuit fails a predicate (named, with what to do).
            ConfigurationError: bad options, e.g. more shots than the QPU's maximum.
            PreflightError: the service is known to refuse a circuit's program on this QPU, or a
                task is over the 128 KiB request limit (nothing is sent).
            JobFailed: the service accepted none of the circuits (nothing runs).
        """
        circuits = list(circuits)
        programs, options, base = self._prepare(circuits, n_shots, valid_check, kwargs)
        if not circuits:
            return []
        labels = [f"circuit {i}" + (f" ({c.name!r})" if c.name else "") for i, c in enumerate(circuits)]
        if base.preflight:
            for index, program in enumerate(programs):
                check_program(program.qasm, self._qpu.device, label=labels[index], index=index)
        jobs = self._new_jobs(programs, options)
        if base.preflight:
            check_request_sizes(jobs, labels)  # before the batch is recorded or sent
        if budget_active(base.max_cost):
            # Refused here, before the batch is recorded or anything is sent.
            self._session.run(self._session.sdk.admit(jobs, max_cost=base.max_cost))
        key = new_job_id()
        composite = self._session.sdk.create_batch(jobs, record=self._batches.record(key))
        composite.annotations[STORE_KIND] = {
            "backend": BACKEND_NAME,
            "qpu_id": self._qpu.qpu_id,
            "circuit_names": [circuit.name for circuit in circuits],
        }
        self._batches.add(key, composite)
        self._session.run(composite.submit())  # recorded by the engine before anything is sent
        if len(composite.failed_jobs) == len(composite.jobs):
            composite.raise_for_status()
        for job in composite.failed_jobs:
            logger.warning("Circuit %d was not accepted: %s", composite.jobs.index(job), job.error)
        handles = []
        for index, (job, program) in enumerate(zip(composite.jobs, programs, strict=True)):
            data = HandleData(key, index, self._qpu.qpu_id, str(job.task_id or ""), program.bits)
            handle = data.to_handle()
            self._cache[handle] = {"batch": key, "index": index}
            handles.append(handle)
        return handles

    def _prepare(
        self,
        circuits: list[Circuit],
        n_shots: int | Sequence[int | None] | None,
        valid_check: bool,
        kwargs: dict[str, Any],
    ) -> Prepared:
        """Check circuits and options as :meth:`process_circuits` does; each circuit's program and options."""
        shots = self._shots_list(n_shots, len(circuits))
        options, base = run_options(
            shots, kwargs, defaults=self._options, qpu=self._qpu, warn_seed=not self._warned_seed
        )
        if base.seed_ignored_on(self._qpu.device):
            self._warned_seed = True
        predicates = self.required_predicates if valid_check else None
        return Prepared(wire_programs(circuits, self._qpu, predicates), options, base)

    def estimate_cost(
        self, circuits: Circuit | Sequence[Circuit], n_shots: int | Sequence[int | None] | None = None
    ) -> CostEstimate:
        """What ``process_circuits(circuits, n_shots)`` would cost at the registry's prices; sends nothing.

        Amounts are Decimals in credits as the registry prices them; a QPU with no published price
        gives ``total`` ``None`` ("not published"), never 0.

        Raises:
            InvalidCircuitError: a circuit fails a predicate (as :meth:`process_circuits` would).
            ConfigurationError: bad shots.
        """
        batch = [circuits] if isinstance(circuits, Circuit) else list(circuits)
        programs, options, _base = self._prepare(batch, n_shots, True, {})
        jobs = self._new_jobs(programs, options)
        return self._session.run(self._session.sdk.estimate_cost(jobs))

    def _shots_list(self, n_shots: int | Sequence[int | None] | None, count: int) -> list[int]:
        values = self._get_n_shots_as_list(n_shots, count, optional=True)
        return [self._options.shots if value is None else value for value in values]

    def _new_jobs(self, programs: list[WireProgram], options: list[RunOptions]) -> list[Job]:
        return new_jobs(self._session.sdk, self._qpu, programs, options)

    # --- finding a handle's job ----------------------------------------------------------------

    def _locate(self, handle: ResultHandle) -> tuple[HandleData, Job, CompositeJob | None]:
        """The handle's job (see :meth:`BatchIndex.locate`).

        Raises:
            HandleError: not a handle of this backend's QPU.
        """
        return self._batches.locate(handle)

    # --- status, results, cancellation ---------------------------------------------------------

    def circuit_status(self, handle: ResultHandle) -> CircuitStatus:
        """The circuit's status, read from the server when it has not ended (errors carry the
        server's message)."""
        _, job, _composite = self._locate(handle)
        if job.task_id is not None and not job.state.is_terminal:
            self._session.run(job.refresh())  # recorded in its batch by the engine
            read_queue(self._session, job)  # a queued circuit's message says why it waits
        return status_of(job)

    def queue_status(self) -> QueueStatus:
        """This QPU's queue and execution windows, read now (``monitoring/qpu_wait_time``)."""
        return self._session.queue_status([self._qpu])[self._qpu.qpu_id]

    def estimated_start(self, handle: ResultHandle) -> datetime | None:
        """When the service expects the circuit to start (``task_wait_time``); None when not queued."""
        _, job, _ = self._locate(handle)
        starts = self._session.run(self._session.sdk.estimated_starts([job]))
        return None if job.task_id is None else starts.get(job.task_id)

    def physical_qubits(self, handle: ResultHandle) -> list[int] | None:
        """The device qubits the service reports the circuit ran on, once it has completed.

        Known only when metrics were fetched (``RunOptions(fetch_diagnostics=True)``); worth
        reading when the service was allowed to place the circuit (``optimizations="service"``).
        """
        _, job, _ = self._locate(handle)
        metrics = job.result.metrics if job.result is not None else None
        indices = metrics.get("physical_qubit_indices") if isinstance(metrics, dict) else None
        if not isinstance(indices, list) or not all(isinstance(i, int) for i in indices):
            return None
        return list(indices)

    def get_result(self, handle: ResultHandle, **kwargs: Any) -> BackendResult:
        """The circuit's BackendResult, waiting for it if needed.

        Args:
            timeout: seconds to wait (default: the options' timeout; ``None`` there: forever).
            wait: seconds between polls (default: the engine's back-off schedule).

        Raises:
            ResultTimeoutError: not finished in time (the handle stays valid).
            JobFailed: the circuit failed on the server (its message says why).
            CircuitCancelledError: the circuit was cancelled.
            HandleError: the handle belongs to another backend or QPU.
        """
        cached = self._cache.get(handle)
        if cached is not None and "result" in cached:
            return cached["result"]
        data, job, _composite = self._locate(handle)
        if not job.state.is_terminal:
            timeout = kwargs.get("timeout", self._options.timeout)
            interval = kwargs.get("wait")
            wait_for_job(
                self._session, job, timeout, None if interval is None else float(interval), self._qpu.name
            )
        if job.state is JobState.CANCELLED:
            raise CircuitCancelledError(f"Circuit {data.index} (task {job.task_id}) was cancelled.")
        job.raise_for_status()
        if job.result is None:
            raise ResultTimeoutError(f"Task {job.task_id} has ended without a result yet; ask again.")
        result = backend_result(job.result.data, data.bits, shots=job.config_to_send().shots)
        self._cache.setdefault(handle, {})["result"] = result
        return result

    def get_results(self, handles: Iterable[ResultHandle], **kwargs: Any) -> list[BackendResult]:
        """The results of several handles, waiting for them together.

        One polling loop follows every unfinished circuit of the handles (about one request per
        circuit), and each batch is written to the job store once, instead of a wait, a poll
        stream and a store write per handle. Keywords are as for :meth:`get_result`.
        """
        if isinstance(handles, ResultHandle):
            return super().get_results(handles, **kwargs)  # pytket explains the misuse
        handles = list(handles)
        if len(handles) > 1 and kwargs.get("wait") is None:
            self._wait_together(handles, kwargs.get("timeout", self._options.timeout))
        return super().get_results(handles, **kwargs)

    def _wait_together(self, handles: list[ResultHandle], timeout: float | None) -> None:
        """Wait until every handle's circuit has ended (those never accepted are left to get_result)."""
        jobs: dict[int, Job] = {}
        for handle in handles:
            cached = self._cache.get(handle)
            if cached is not None and "result" in cached:
                continue
            _, job, _composite = self._locate(handle)
            if job.task_id is not None and job.state is not JobState.CREATED and not job.state.is_terminal:
                jobs[id(job)] = job
        if not jobs:
            return
        # The engine records each batch once, when the wait ends.
        wait_for_jobs(self._session, list(jobs.values()), timeout, self._qpu.name)

    def cancel(self, handle: ResultHandle) -> None:
        """Ask the server to cancel the circuit, if it has not ended."""
        _, job, _composite = self._locate(handle)
        self._session.run(job.cancel_if_active())  # recorded in its batch by the engine

    def empty_cache(self) -> None:
        """Forget cached results and batches (they stay in the local job store)."""
        super().empty_cache()
        self._batches.clear()

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the backend's session (unless it was given one)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> OQCTketBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["STORE_KIND", "InvalidCircuitError", "OQCTketBackend"]
