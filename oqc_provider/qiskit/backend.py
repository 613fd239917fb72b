"""``OQCBackend``: one OQC QPU (or cloud simulator, or the emulator's stand-in) as a Qiskit ``BackendV2``.

``run()`` checks each circuit against the Target, writes it as OpenQASM 2 (OpenQASM 3 with the per-shot
``raw()`` results format if it has delays: see :mod:`oqc_provider.qiskit.translate`), records the batch in
the local job store and submits it as one engine CompositeJob, returning an :class:`OQCJob` at
once. Options set per call apply to that call only.

Run options (``backend.set_options`` or ``run(..., **options)``):

* ``shots`` (default 1000, at most the QPU's maximum), ``memory`` (per-shot results);
* ``seed_simulator``: circuit ``i`` of a batch runs with seed ``seed_simulator + i`` on QPUs whose
  feature set says ``simulator`` (runs are reproducible); hardware is sent no seed (a warning says so,
  once per backend);
* ``meas_level``: 2 only (classified counts); ``meas_return`` is accepted and ignored;
* ``optimizations``: what the service's compiler may do to the program. The default, ``"empty"``
  (``Tket(TketOptimizations.Empty)``), runs no pass: circuits transpiled for the Target run on exactly
  the qubits the transpiler chose. ``"service"`` (null: the service's default, tket One), ``"one"`` and
  ``"two"`` let the service place and route the program, so qubits may move (counts still map by
  classical bits; ``fetch_diagnostics=True`` puts the qubits it used in each result's header as
  ``physical_qubits``). Any ``TketOptimizations`` flag or codec object is accepted too;
* ``timeout`` (seconds ``result()`` waits by default), ``tag``, ``error_mitigation``,
  ``fetch_diagnostics``;
* ``max_cost``: the most the run may cost (credits as the registry prices them); a run estimated above
  it is refused with ``BudgetExceededError`` before anything is sent (see :meth:`OQCBackend.estimate_cost`
  and :class:`~oqc_provider.Tracker`).
* ``pre_selection``, ``post_selection`` (QAT drops the shots that fail them, so each experiment's
  ``shots`` is the number kept, and its header says ``shots_requested``), ``driven_reset`` (refused
  before sending on a QPU whose feature set says it lacks it) and ``passive_reset_time`` (seconds).

Circuits with classical control (``if_else``, loops, ``switch``) are refused before anything is sent
(:class:`ConditionalOperationError`): the service does not run them.

Anything else (``rep_delay``, ``init_qubits``, ``parameter_binds``...) is dropped with a warning.

Example:
    >>> from qiskit import QuantumCircuit, transpile
    >>> from oqc_provider.qiskit import OQCProvider
    >>> backend = OQCProvider().get_backend("qpu:uk:2:d865b5a184")
    >>> backend.name, backend.num_qubits, backend.max_circuits
    ('Lucy Simulator', 8, None)
    >>> bell = QuantumCircuit(2, 2, name="bell")
    >>> _ = bell.h(0)
    >>> _ = bell.cx(0, 1)
    >>> _ = bell.measure([0, 1], [0, 1])
    >>> counts = backend.run(transpile(bell, backend), shots=200, seed_simulator=1).result().get_counts()
    >>> sorted(counts), sum(counts.values())
    (['00', '11'], 200)
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from oqc_provider.devices import Calibration, DeviceSpec
from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.cost import CostEstimate
from oqc_provider.engine.job import Job
from oqc_provider.engine.queues import QueueStatus
from oqc_provider.engine.snapshots import AnySnapshot, CompositeJobSnapshot
from oqc_provider.engine.store import Record, new_job_id
from oqc_provider.engine.tracker import budget_active
from oqc_provider.preflight import check_program, check_request_sizes
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit.job import ANNOTATION_KEY, ANNOTATION_SCHEMA, OQCJob
from oqc_provider.qiskit.provider_services import ProviderServices
from oqc_provider.qiskit.results import CircuitRecord
from oqc_provider.qiskit.target import build_target
from oqc_provider.qiskit.translate import checked_wire, circuit_label, wire_hint
from oqc_provider.run_options import DEFAULT_SHOTS, DEFAULT_TIMEOUT_S, KEEP_LAYOUT, RunOptions, plain_int
from oqc_provider.service_observations import refuses_openqasm3_multi_qubit_gates
from oqc_provider.session import QpuInfo

logger = logging.getLogger("oqc_provider.qiskit")

#: Accepted by ``run()`` and ignored without a warning: meaningful only for ``meas_level=1``.
_QUIETLY_IGNORED = frozenset({"meas_return"})
#: The job store's ``kind`` for Qiskit jobs.
STORE_KIND = "qiskit"


class OQCBackend(BackendV2):
    """An OQC QPU as a Qiskit backend. Get one from :meth:`OQCProvider.get_backend`."""

    def __init__(self, provider: ProviderServices, qpu: QpuInfo) -> None:
        super().__init__(
            provider=provider,
            name=qpu.name,
            description=f"OQC {qpu.label} via {provider.session.sdk.connection.describe()}",
            backend_version="1",
        )
        self.qpu = qpu
        self._target: Target | None = None
        self._warned_seed = False  # the "hardware gets no seed" warning is given once per backend
        self.options.set_validator("shots", (1, qpu.device.max_shots))

    def __repr__(self) -> str:
        return f"<OQCBackend {self.qpu.label}>"

    # --- what the device is --------------------------------------------------------------------

    @property
    def qpu_id(self) -> str:
        """The QCaaS id of the QPU, e.g. ``'qpu:uk:2:d865b5a184'``."""
        return self.qpu.qpu_id

    @property
    def device(self) -> DeviceSpec:
        """The device's catalogue entry (couplings, native gates, limits, durations)."""
        return self.qpu.device

    @property
    def calibration(self) -> Calibration:
        """The calibration figures behind the Target's errors and ``QubitProperties``."""
        return self.provider.session.calibration(self.qpu)

    @property
    def target(self) -> Target:
        """The QPU's Target: native gates, directed ECR couplings, errors, durations, T1/T2."""
        if self._target is None:
            self._target = build_target(self.device, self.calibration)
        return self._target

    @property
    def max_circuits(self) -> None:
        """No limit: big batches are split into requests the service accepts."""
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(
            shots=DEFAULT_SHOTS,
            memory=False,
            seed_simulator=None,
            meas_level=2,
            meas_return="avg",
            timeout=DEFAULT_TIMEOUT_S,
            tag=None,
            optimizations=KEEP_LAYOUT,
            error_mitigation=None,
            fetch_diagnostics=False,
            max_cost=None,
            pre_selection=False,
            post_selection=False,
            driven_reset=False,
            passive_reset_time=None,
            preflight=True,
        )

    # --- running -------------------------------------------------------------------------------

    def _settings(self, overrides: dict[str, Any]) -> tuple[RunOptions, dict[str, Any]]:
        """This call's options: the backend's, then ``overrides`` (validated; unknown ones dropped)."""
        settings = dict(self.options.items())
        unknown = []
        for key, value in overrides.items():
            if key in settings:
                if value is not None:  # None (as clients often pass) means "the backend's setting"
                    settings[key] = value
            elif key not in _QUIETLY_IGNORED:
                unknown.append(key)
        if unknown:
            warnings.warn(
                f"{self.name} ignores run option(s) {sorted(unknown)}; known options are {sorted(settings)}.",
                UserWarning,
                stacklevel=3,
            )
        if not _is_classified(settings["meas_level"]):
            raise ConfigurationError(
                f"meas_level={settings['meas_level']!r} is not available on {self.name}: it returns "
                "classified counts only (meas_level=2)."
            )
        seed = settings["seed_simulator"]
        shots = settings["shots"]
        options = RunOptions.build(
            shots=plain_int(shots),  # NumPy integers too; True and 1.5 are refused, not rounded
            memory=bool(settings["memory"]),
            seed=plain_int(seed),
            timeout=settings["timeout"],
            tag=settings["tag"],
            optimizations=settings["optimizations"],
            error_mitigation=settings["error_mitigation"],
            fetch_diagnostics=bool(settings["fetch_diagnostics"]),
            max_cost=settings["max_cost"],
            pre_selection=settings["pre_selection"],
            post_selection=settings["post_selection"],
            driven_reset=settings["driven_reset"],
            passive_reset_time=settings["passive_reset_time"],
            preflight=bool(settings["preflight"]),
        )
        options.check_device(self.device)
        if options.seed_ignored_on(self.device) and not self._warned_seed:
            self._warned_seed = True
            warnings.warn(
                f"{self.name} is not a simulator: seed_simulator={options.seed} is not sent (QCaaS "
                "documents seeds for simulators only), so its counts are not reproducible.",
                UserWarning,
                stacklevel=3,
            )
        return options, settings

    def run(self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any) -> OQCJob:
        """Check, convert and submit circuits; return their job at once.

        Raises:
            CircuitValidationError: a circuit cannot run here as it stands (the message names the
                circuit, gate and qubits); transpile it for this backend.
            ConditionalOperationError: a circuit has classically controlled operations.
            ConfigurationError: a bad option value, ``meas_level`` other than 2, or too many shots.
            PreflightError: the service is known to refuse a circuit's program on this QPU, or a
                task is over the 128 KiB request limit (nothing is sent; ``preflight=False`` sends it).
        """
        job = self.prepare_job(run_input, **options)
        job.submit()
        circuits = len(job.composite.jobs)
        logger.info("Submitting job %s: %d circuit(s) to %s", job.job_id(), circuits, self.name)
        return job

    def prepare_job(self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options: Any) -> OQCJob:
        """The job :meth:`run` submits, checked, converted and admitted against any budget, but not
        yet recorded or sent.

        For front ends that add their own data to the job's annotations before
        :meth:`OQCJob.submit` records it (the primitives do), so it is saved with the job from
        the start.

        Raises:
            CircuitValidationError: a circuit cannot run here as it stands (the message names the
                circuit, gate and qubits); transpile it for this backend.
            ConditionalOperationError: a circuit has classically controlled operations.
            ConfigurationError: a bad option value, ``meas_level`` other than 2, or too many shots.
            BudgetExceededError: ``max_cost`` or an active tracker's budget would be crossed.
        """
        circuits = _circuits(run_input)
        run_options, _ = self._settings(options)
        sdk = self.provider.session.sdk
        jobs, records = self._new_jobs(circuits, run_options)
        if run_options.preflight:
            check_request_sizes(jobs, [circuit_label(circuit, i) for i, circuit in enumerate(circuits)])
        if budget_active(run_options.max_cost):
            # Refused here, in the caller's thread, before the job is recorded or anything is sent.
            self.provider.session.run(sdk.admit(jobs, max_cost=run_options.max_cost))
        job_id = new_job_id()
        composite = sdk.create_batch(jobs, record=self._record(job_id, run_options.shots))
        composite.annotations[ANNOTATION_KEY] = {
            "schema": ANNOTATION_SCHEMA,
            "job_id": job_id,
            "backend": self.name,
            "qpu_id": self.qpu_id,
            "shots": run_options.shots,
            "memory": run_options.memory,
            "seed_simulator": run_options.seed,
            "timeout": run_options.timeout,
            "circuits": [record.to_json() for record in records],
        }
        return OQCJob(self, job_id, composite, live_metadata=[circuit.metadata for circuit in circuits])

    def _new_jobs(
        self, circuits: list[QuantumCircuit], run_options: RunOptions
    ) -> tuple[list[Job], list[CircuitRecord]]:
        """One engine job per circuit (checked for this backend; nothing is sent), and its record."""
        target, device = self.target, self.device
        sdk = self.provider.session.sdk
        config_counts = run_options.merged(memory=False).compiler_config()
        config_raw = run_options.merged(memory=True).compiler_config()
        jobs, records = [], []
        # Where OpenQASM 3 with a two-qubit gate is known to be refused, idle delays are left out so
        # a scheduled circuit whose every delay is idle goes as OpenQASM 2 (preflight=False: as written).
        drop_idle = run_options.preflight and refuses_openqasm3_multi_qubit_gates(device.name, device.qpu_id)
        for index, circuit in enumerate(circuits):  # everything that raises does so before sending
            wire = checked_wire(circuit, target, device, index, drop_idle_delays=drop_idle)
            if run_options.preflight:
                label = circuit_label(circuit, index)
                check_program(wire.program, device, label=label, index=index, hint=wire_hint(wire))
            # Per shot: for memory, for joint counts over several registers, and for OpenQASM 3
            # (circuits with delays: QAT's counts runtime refuses their fractional delays).
            raw = run_options.memory or len(wire.registers) > 1 or wire.per_shot
            jobs.append(
                sdk.new_job(
                    wire.program,
                    self.qpu_id,
                    config_raw if raw else config_counts,
                    tag=run_options.tag,
                    fetch_diagnostics=run_options.fetch_diagnostics,
                    external_config=run_options.external_config(device, seed_offset=index),
                )
            )
            records.append(CircuitRecord.of(circuit, wire.registers, raw))
        return jobs, records

    def estimate_cost(
        self, run_input: QuantumCircuit | Sequence[QuantumCircuit], shots: int | None = None
    ) -> CostEstimate:
        """What ``run(run_input, shots=shots)`` would cost, from the registry's prices; nothing is sent.

        Amounts are Decimals in credits as the registry prices them; a QPU with no published price
        gives ``total`` ``None`` ("not published"), never 0.

        Raises:
            CircuitValidationError: a circuit cannot run here as it stands (as :meth:`run` would).
            ConfigurationError: bad shots.
        """
        circuits = _circuits(run_input)
        run_options, _ = self._settings({"shots": shots})
        jobs, _records = self._new_jobs(circuits, run_options)
        return self.provider.session.run(self.provider.session.sdk.estimate_cost(jobs))

    def _record(self, job_id: str, shots: int | None) -> Record:
        """How this backend's jobs are recorded in the provider's local job store."""
        return Record(self.provider.job_store, kind=STORE_KIND, job_id=job_id, backend=self.name, shots=shots)

    # --- finding jobs again --------------------------------------------------------------------

    def job_from_snapshot(self, job_id: str, snapshot: AnySnapshot) -> OQCJob:
        """The job a snapshot describes, attached to this backend (no network call)."""
        if not isinstance(snapshot, CompositeJobSnapshot) or ANNOTATION_KEY not in snapshot.annotations:
            raise ConfigurationError(f"Job {job_id!r} was not created by the Qiskit front end.")
        qpu_id = snapshot.annotations[ANNOTATION_KEY].get("qpu_id")
        if qpu_id != self.qpu_id:
            raise ConfigurationError(f"Job {job_id!r} ran on {qpu_id}, not on {self.name} ({self.qpu_id}).")
        shots = snapshot.annotations[ANNOTATION_KEY].get("shots")
        composite = self.provider.session.sdk.from_snapshot(snapshot, record=self._record(job_id, shots))
        assert isinstance(composite, CompositeJob)
        return OQCJob(self, job_id, composite)

    def queue_status(self) -> QueueStatus:
        """This QPU's queue and execution windows, read now: tasks in queue, estimated
        availability, current and next windows (``monitoring/qpu_wait_time``)."""
        return self.provider.session.queue_status([self.qpu])[self.qpu_id]

    def retrieve_job(self, job_id: str) -> OQCJob:
        """A job this provider ran, from the local job store (works in a new Python process).

        Raises:
            JobStoreError: no such job in the store.
            ConfigurationError: the job ran on another backend, or is not a Qiskit job.
        """
        return self.job_from_snapshot(job_id, self.provider.job_store.read(job_id))


def _circuits(run_input: QuantumCircuit | Sequence[QuantumCircuit]) -> list[QuantumCircuit]:
    """``run_input`` as a non-empty list of circuits.

    Raises:
        ConfigurationError: no circuit, or something that is not a QuantumCircuit.
    """
    circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
    if not circuits:
        raise ConfigurationError("run() needs at least one circuit.")
    for index, circuit in enumerate(circuits):
        if not isinstance(circuit, QuantumCircuit):
            raise ConfigurationError(
                f"run() takes QuantumCircuits; item {index} is a {type(circuit).__name__}."
            )
    return circuits


def _is_classified(meas_level: Any) -> bool:
    """Whether ``meas_level`` asks for classified counts (2, ``MeasLevel.CLASSIFIED``)."""
    try:
        return int(meas_level) == 2
    except (TypeError, ValueError):
        return False
