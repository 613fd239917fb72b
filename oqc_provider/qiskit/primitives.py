"""Qiskit V2 primitives whose jobs are OQC jobs: ``OQCSamplerV2`` and ``OQCEstimatorV2``.

Qiskit's ``BackendSamplerV2``/``BackendEstimatorV2`` give right answers over :class:`OQCBackend`,
but their jobs live in memory only. Here every PUB and every parameter binding of one ``run()``
call becomes one circuit of ONE :class:`OQCJob` (one engine batch, split into requests only by
the service's size limit), recorded in the local job store before anything is sent, with what
rebuilds the ``PrimitiveResult`` in its annotations: shapes, registers, observables and shots,
never the circuits. So ``OQCProvider().job(job_id).result()`` in a new process returns the same
``PrimitiveResult``, and ``cancel()`` cancels the tasks on the service.

Results are built with Qiskit's own containers (``BitArray``, ``DataBin``, ``SamplerPubResult``,
``PubResult``, ``PrimitiveResult``) and laid out as ``BackendSamplerV2``/``BackendEstimatorV2``
lay them out. PUBs asking for different shots (or precisions) run at the largest, and each PUB's
result keeps the first shots it asked for, so one call is still one batch.

Example:
    >>> from qiskit import QuantumCircuit, transpile
    >>> from qiskit.circuit import Parameter
    >>> from qiskit.quantum_info import SparsePauliOp
    >>> from oqc_provider.qiskit import OQCProvider
    >>> from oqc_provider.qiskit.primitives import OQCEstimatorV2, OQCSamplerV2
    >>> provider = OQCProvider()
    >>> backend = provider.get_backend("Lucy Simulator")
    >>> theta = Parameter("theta")
    >>> qc = QuantumCircuit(1, 1)
    >>> _ = qc.ry(theta, 0)
    >>> _ = qc.measure(0, 0)
    >>> isa = transpile(qc, backend, seed_transpiler=1)
    >>> job = OQCSamplerV2(backend, seed=7).run([(isa, [[0.0], [3.14159]])], shots=100)
    >>> result = job.result(timeout=60)
    >>> [result[0].data.c.get_counts(i) for i in range(2)]
    [{'0': 100}, {'1': 100}]
    >>> provider.job(job.job_id()).result(timeout=60)[0].data.c.get_counts(1)
    {'1': 100}
    >>> unmeasured = transpile(QuantumCircuit(1), backend)
    >>> z = SparsePauliOp("Z").apply_layout(unmeasured.layout)
    >>> estimate = OQCEstimatorV2(backend, seed=7).run([(unmeasured, z)]).result(timeout=60)
    >>> float(estimate[0].data.evs)
    1.0
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit
from qiskit.primitives import (
    BaseEstimatorV2,
    BasePrimitiveJob,
    BaseSamplerV2,
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike
from qiskit.providers import JobStatus
from qiskit.providers.jobstatus import JOB_FINAL_STATES
from qiskit.quantum_info import PauliList
from qiskit.result import Result
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import Optimize1qGatesDecomposition

from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit.results import jsonable

if TYPE_CHECKING:
    from oqc_provider.qiskit.backend import OQCBackend
    from oqc_provider.qiskit.job import OQCJob

#: The key of a primitive's data in the job's annotations (next to the Qiskit front end's).
PRIMITIVE_KEY = "primitive"
PRIMITIVE_SCHEMA = 1
#: Qiskit's default estimator precision (1 / sqrt(4096)), as BackendEstimatorV2 uses.
DEFAULT_PRECISION = 0.015625
#: Qiskit's default sampler shots, as BackendSamplerV2 uses.
DEFAULT_SHOTS = 1024
#: The classical register the estimator measures observables into.
MEASUREMENT_REGISTER = "__oqc_obs"


class PrimitiveCircuitError(OqcProviderError):
    """A circuit of a primitive's job did not complete, so its PUB has no result.

    The job and its other tasks are kept; the message names the circuit and what the service said.
    """


class OQCPrimitiveJob(BasePrimitiveJob[PrimitiveResult, JobStatus]):
    """The job of one ``OQCSamplerV2.run`` / ``OQCEstimatorV2.run``: an :class:`OQCJob` underneath.

    ``job_id()`` is the OQC job id (in the local job store); ``result()`` rebuilds the
    ``PrimitiveResult`` from the tasks' results and the data saved with the job.
    """

    def __init__(self, job: OQCJob) -> None:
        super().__init__(job.job_id())
        data = job.composite.annotations.get(PRIMITIVE_KEY)
        if not isinstance(data, dict) or data.get("kind") not in _REBUILDERS:
            raise ConfigurationError(f"Job {job.job_id()!r} was not created by an OQC primitive.")
        self.job = job
        self._data = data
        self._result: PrimitiveResult | None = None

    def __repr__(self) -> str:
        return f"<OQCPrimitiveJob {self._job_id} ({self._data['kind']}, {len(self._data['pubs'])} PUB(s))>"

    @property
    def kind(self) -> str:
        """``"sampler"`` or ``"estimator"``."""
        return str(self._data["kind"])

    def result(self, timeout: float | None = None) -> PrimitiveResult:
        """Wait for every task and return the ``PrimitiveResult`` (see :meth:`OQCJob.result`).

        Raises:
            PrimitiveCircuitError: a circuit failed or was cancelled, so its PUB has no result.
            OQCJobTimeoutError: ``timeout`` passed first (the job goes on; call again later).
        """
        if self._result is None:
            outcome = self.job.result(timeout=timeout)
            self._result = _REBUILDERS[self.kind](self._data, outcome, self._job_id)
        return self._result

    def status(self) -> JobStatus:
        """The status of the OQC job underneath."""
        return self.job.status()

    def done(self) -> bool:
        """Whether every task completed."""
        return self.status() is JobStatus.DONE

    def running(self) -> bool:
        """Whether the job is running."""
        return self.status() is JobStatus.RUNNING

    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self.status() is JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job has ended (done, failed or cancelled)."""
        return self.status() in JOB_FINAL_STATES

    def cancel(self) -> bool:
        """Cancel every task still in flight; ``True`` if any was cancelled."""
        return self.job.cancel()


# --- the sampler -----------------------------------------------------------------------------------


class OQCSamplerV2(BaseSamplerV2):
    """A Qiskit ``SamplerV2`` over an :class:`OQCBackend` whose jobs are OQC jobs.

    Args:
        backend: where the circuits run (they must be ISA circuits of its Target: transpile them).
        default_shots: shots of a PUB that names none and a ``run`` given none.
        seed: ``seed_simulator`` for simulators (circuit ``i`` of the batch gets ``seed + i``).
        run_options: any other :class:`OQCBackend` run options (``optimizations``, ``tag``...).
    """

    def __init__(
        self,
        backend: OQCBackend,
        *,
        default_shots: int = DEFAULT_SHOTS,
        seed: int | None = None,
        run_options: dict[str, Any] | None = None,
    ) -> None:
        self._backend = backend
        self.default_shots = default_shots
        self.seed = seed
        self.run_options = dict(run_options or {})

    @property
    def backend(self) -> OQCBackend:
        """The backend the circuits run on."""
        return self._backend

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None) -> OQCPrimitiveJob:
        """Submit every PUB and binding as one OQC job; return its job at once.

        Raises:
            CircuitValidationError: a circuit is not an ISA circuit of the backend's Target.
            ConfigurationError: no PUBs, or a bad run option.
        """
        coerced = [SamplerPub.coerce(pub, self.default_shots if shots is None else shots) for pub in pubs]
        if not coerced:
            raise ConfigurationError("run() needs at least one PUB.")
        circuits: list[QuantumCircuit] = []
        layouts = []
        for pub in coerced:
            bound = pub.parameter_values.bind_all(pub.circuit)
            circuits.extend(np.ravel(bound).tolist())
            layouts.append(
                {
                    "shape": list(bound.shape),
                    "shots": int(pub.shots),
                    "registers": _register_layout(pub.circuit),
                    "circuit_metadata": jsonable(pub.circuit.metadata or {}),
                }
            )
        data = {"schema": PRIMITIVE_SCHEMA, "kind": "sampler", "pubs": layouts}
        run_shots = max(int(pub.shots) for pub in coerced)
        return _submit(self._backend, circuits, data, run_shots, self.seed, self.run_options)


def _register_layout(circuit: QuantumCircuit) -> list[list[Any]]:
    """Each classical register as ``[name, size, index of its first clbit]``."""
    return [
        [creg.name, creg.size, circuit.find_bit(creg[0]).index if creg.size else 0] for creg in circuit.cregs
    ]


def _sampler_result(data: dict[str, Any], outcome: Result, job_id: str) -> PrimitiveResult:
    results = []
    position = 0
    for pub in data["pubs"]:
        shape, shots = tuple(pub["shape"]), int(pub["shots"])
        size = math.prod(shape)
        values = [_shot_values(outcome, position + k, shots) for k in range(size)]
        position += size
        # Pre-/post-selection keep fewer shots than asked for, a different number per circuit: a
        # BitArray holds as many shots in every cell, so each keeps the first min(kept) of its own.
        kept = [len(v) for v in values]
        held = min(kept, default=shots)
        values = [v[:held] for v in values]
        metadata: dict[str, Any] = {"shots": held, "circuit_metadata": pub["circuit_metadata"]}
        if held < shots:
            metadata.update(shots_requested=shots, shots_kept=kept)
        registers = {}
        for name, num_bits, start in pub["registers"]:
            packed = np.stack([_packed(v, int(num_bits), int(start)) for v in values]) if values else None
            if packed is None:
                packed = np.zeros((0, held, _num_bytes(int(num_bits))), dtype=np.uint8)
            registers[name] = BitArray(packed.reshape(shape + packed.shape[1:]), int(num_bits))
        results.append(SamplerPubResult(DataBin(**registers, shape=shape), metadata=metadata))
    return PrimitiveResult(results, metadata={"version": 2, "job_id": job_id})


def _num_bytes(num_bits: int) -> int:
    return (num_bits + 7) // 8


def _packed(values: Sequence[int], num_bits: int, start: int) -> np.ndarray:
    """Bits ``start .. start + num_bits - 1`` of each shot, as BitArray's big-endian bytes."""
    num_bytes = _num_bytes(num_bits)
    mask = (1 << num_bits) - 1
    chunks = b"".join(((int(v) >> start) & mask).to_bytes(num_bytes, "big") for v in values)
    return np.frombuffer(chunks, dtype=np.uint8).reshape(len(values), num_bytes)


def _shot_values(outcome: Result, index: int, shots: int) -> list[int]:
    """The first ``shots`` shots of circuit ``index`` as integers (clbit ``i`` is bit ``i``): fewer
    when pre- or post-selection dropped some."""
    experiment = outcome.results[index]
    if not experiment.success:
        raise PrimitiveCircuitError(
            f"Circuit {index} of job {outcome.job_id} did not complete ({experiment.status}); its PUB "
            "has no result. Rerun the PUB, or read the other circuits with job.job.result()."
        )
    memory = getattr(experiment.data, "memory", None)
    if not memory:  # a circuit with no classical bits
        return [0] * shots
    return [int(value, 16) for value in memory[:shots]]


# --- the estimator ---------------------------------------------------------------------------------


class OQCEstimatorV2(BaseEstimatorV2):
    """A Qiskit ``EstimatorV2`` over an :class:`OQCBackend` whose jobs are OQC jobs.

    Observables are Pauli sums on the circuit's qubits (``SparsePauliOp(...).apply_layout(isa.layout)``
    for a transpiled circuit). Qubit-wise commuting Paulis are measured together; basis changes
    are written in the Target's single-qubit gates. A PUB of precision ``p`` runs
    ``ceil(1 / p**2)`` shots; ``stds`` are as ``BackendEstimatorV2`` reports them.

    Args:
        backend: where the circuits run (ISA circuits of its Target).
        default_precision: precision of a PUB that names none and a ``run`` given none.
        abelian_grouping: measure qubit-wise commuting Paulis in one circuit.
        seed: ``seed_simulator`` for simulators.
        run_options: any other :class:`OQCBackend` run options.
    """

    def __init__(
        self,
        backend: OQCBackend,
        *,
        default_precision: float = DEFAULT_PRECISION,
        abelian_grouping: bool = True,
        seed: int | None = None,
        run_options: dict[str, Any] | None = None,
    ) -> None:
        self._backend = backend
        self.default_precision = default_precision
        self.abelian_grouping = abelian_grouping
        self.seed = seed
        self.run_options = dict(run_options or {})
        self._basis_change = PassManager([Optimize1qGatesDecomposition(target=backend.target)])

    @property
    def backend(self) -> OQCBackend:
        """The backend the circuits run on."""
        return self._backend

    def run(self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None) -> OQCPrimitiveJob:
        """Submit every PUB, binding and measurement basis as one OQC job; return its job at once.

        Raises:
            CircuitValidationError: a circuit is not an ISA circuit of the backend's Target.
            ConfigurationError: no PUBs, a precision that is not positive, or a bad run option.
        """
        default = self.default_precision if precision is None else precision
        coerced = [EstimatorPub.coerce(pub, default) for pub in pubs]
        if not coerced:
            raise ConfigurationError("run() needs at least one PUB.")
        circuits: list[QuantumCircuit] = []
        layouts = []
        for index, pub in enumerate(coerced):
            if pub.precision <= 0:
                raise ConfigurationError(f"PUB {index} has precision {pub.precision}; it must be positive.")
            if any(creg.name == MEASUREMENT_REGISTER for creg in pub.circuit.cregs):
                raise ConfigurationError(
                    f"PUB {index}'s circuit has a register named {MEASUREMENT_REGISTER!r}, which the "
                    "estimator measures into; rename it."
                )
            layout, pub_circuits = self._plan(pub)
            circuits += pub_circuits
            layouts.append(layout)
        data = {"schema": PRIMITIVE_SCHEMA, "kind": "estimator", "pubs": layouts}
        run_shots = max(layout["shots"] for layout in layouts)
        return _submit(self._backend, circuits, data, run_shots, self.seed, self.run_options)

    def _plan(self, pub: EstimatorPub) -> tuple[dict[str, Any], list[QuantumCircuit]]:
        """The circuits measuring a PUB, and what turns their shots back into its evs and stds."""
        values = pub.parameter_values
        indices = np.empty(values.shape, dtype=object)
        for index in np.ndindex(values.shape):
            indices[index] = index
        broadcast_indices, broadcast_observables = np.broadcast_arrays(indices, pub.observables)
        needed: dict[tuple[int, ...], set[str]] = {}  # binding -> Pauli labels (insertion-ordered)
        for index in np.ndindex(broadcast_indices.shape):
            needed.setdefault(broadcast_indices[index], set()).update(broadcast_observables[index])
        circuits, groups = [], []
        for binding, labels in needed.items():
            bound = values.bind(pub.circuit, binding)
            paulis = PauliList(sorted(labels))
            for group in paulis.group_commuting(qubit_wise=True) if self.abelian_grouping else paulis:
                group = PauliList(group)
                circuit, qubits = self._measuring(bound, group)
                circuits.append(circuit)
                start = circuit.find_bit(circuit.cregs[-1][0]).index
                groups.append(
                    {"binding": list(binding), "paulis": group.to_labels(), "qubits": qubits, "start": start}
                )
        cells = list(np.ndindex(broadcast_indices.shape))
        layout = {
            "shape": list(broadcast_indices.shape),
            "shots": math.ceil(1.0 / pub.precision**2),
            "precision": float(pub.precision),
            "bindings": [list(broadcast_indices[cell]) for cell in cells],
            "observables": [{k: float(v) for k, v in broadcast_observables[cell].items()} for cell in cells],
            "groups": groups,
            "circuit_metadata": jsonable(pub.circuit.metadata or {}),
        }
        return layout, circuits

    def _measuring(self, bound: QuantumCircuit, group: PauliList) -> tuple[QuantumCircuit, list[int]]:
        """``bound`` with each qubit a Pauli of ``group`` touches rotated to Z and measured."""
        x_any = np.logical_or.reduce(group.x)
        touched = np.logical_or.reduce(group.z) | x_any
        qubits = [int(q) for q in np.flatnonzero(touched)] or [0]  # the identity: measure anything
        rotation = QuantumCircuit(bound.num_qubits)
        for qubit in qubits:
            if x_any[qubit]:
                if any(pauli[qubit].to_label() == "Y" for pauli in group):
                    rotation.sdg(qubit)
                rotation.h(qubit)
        circuit = bound.copy()
        register = ClassicalRegister(len(qubits), MEASUREMENT_REGISTER)
        circuit.add_register(register)
        circuit.compose(self._basis_change.run(rotation), inplace=True)
        for bit, qubit in enumerate(qubits):
            circuit.measure(qubit, register[bit])
        circuit.metadata = {}
        return circuit, qubits


def _estimator_result(data: dict[str, Any], outcome: Result, job_id: str) -> PrimitiveResult:
    results = []
    position = 0
    for pub in data["pubs"]:
        shots = int(pub["shots"])
        expectations: dict[tuple[tuple[int, ...], str], tuple[float, float]] = {}
        fewest = shots  # pre-/post-selection may keep fewer shots: each group averages its own
        for group in pub["groups"]:
            values = _shot_values(outcome, position, shots)
            if not values:
                raise PrimitiveCircuitError(
                    f"Circuit {position} of job {outcome.job_id} kept no shot (pre- or post-selection "
                    "dropped them all), so its PUB has no expectation value. Run it with more shots."
                )
            fewest = min(fewest, len(values))
            counts = Counter(values)
            position += 1
            binding = tuple(group["binding"])
            for label in group["paulis"]:
                mask = _pauli_mask(label, group["qubits"], int(group["start"]))
                value = sum(n * (-1) ** bin(v & mask).count("1") for v, n in counts.items()) / len(values)
                expectations[binding, label] = (value, 1.0 - value**2)
        shape = tuple(pub["shape"])
        evs = np.zeros(len(pub["bindings"]))
        spread = np.zeros(len(pub["bindings"]))
        for cell, (binding, observable) in enumerate(zip(pub["bindings"], pub["observables"], strict=True)):
            for label, coefficient in observable.items():
                value, variance = expectations[tuple(binding), label]
                evs[cell] += coefficient * value
                spread[cell] += abs(coefficient) * math.sqrt(variance)
        results.append(
            PubResult(
                DataBin(
                    evs=evs.reshape(shape), stds=(spread / math.sqrt(fewest)).reshape(shape), shape=shape
                ),
                metadata={
                    "target_precision": pub["precision"],
                    "shots": fewest,
                    "circuit_metadata": pub["circuit_metadata"],
                },
            )
        )
    return PrimitiveResult(results, metadata={"version": 2, "job_id": job_id})


def _pauli_mask(label: str, qubits: Sequence[int], start: int) -> int:
    """The shot bits (measurement register from clbit ``start``) a Pauli's parity is taken over."""
    acting = {q for q, letter in enumerate(reversed(label)) if letter != "I"}
    return sum(1 << (start + bit) for bit, qubit in enumerate(qubits) if qubit in acting)


# --- shared ----------------------------------------------------------------------------------------

_REBUILDERS = {"sampler": _sampler_result, "estimator": _estimator_result}


def _submit(
    backend: OQCBackend,
    circuits: list[QuantumCircuit],
    data: dict[str, Any],
    shots: int,
    seed: int | None,
    run_options: dict[str, Any],
) -> OQCPrimitiveJob:
    """One OQC job for every circuit, recorded with ``data`` before anything is sent."""
    options = {**run_options, "shots": shots, "memory": True, "seed_simulator": seed}
    job = backend.prepare_job(circuits, **options)
    job.composite.annotations[PRIMITIVE_KEY] = data
    job.submit()
    return OQCPrimitiveJob(job)


__all__ = [
    "DEFAULT_PRECISION",
    "DEFAULT_SHOTS",
    "PRIMITIVE_KEY",
    "OQCEstimatorV2",
    "OQCPrimitiveJob",
    "OQCSamplerV2",
    "PrimitiveCircuitError",
]
