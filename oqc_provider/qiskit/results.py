"""The one place where engine outputs become a Qiskit :class:`~qiskit.result.Result`.

QCaaS answers per classical register: BinaryCount gives ``{register: {bitstring: count}}`` with
``register[0]`` the *leftmost* character, each register counted on its own (so correlations between
registers are lost); the raw format gives ``{register: [[bit 0 of every shot], [bit 1 ...], ...]}``.
Qiskit wants one value per shot over the circuit's whole classical memory, clbit 0 the least
significant bit, keyed by hex (``'0x5'``) in ``data.counts`` and ``data.memory``, and a header
(``name``, ``creg_sizes``, ``memory_slots``, ``qreg_sizes``, ``n_qubits``, ``metadata``) that
``get_counts()`` uses to print register-separated keys (``'1 00'``). With ``fetch_diagnostics``
the header also holds ``physical_qubits``: the qubits the service reports the program ran on.

So a circuit with one register and no per-shot memory asks for BinaryCount; anything else asks for
the raw format, and the joint counts are rebuilt here shot by shot. Clbits that are never measured
read 0 and circuits without clbits have no counts, exactly as with ``AerSimulator``.

Example:
    >>> from qiskit import QuantumCircuit, ClassicalRegister, QuantumRegister
    >>> qc = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"))
    >>> record = CircuitRecord.of(qc, registers=(("a", (0, 1)), ("b", (2,))), raw=True)
    >>> values = shot_values({"a": [[1.0, 1.0], [-1.0, -1.0]], "b": [[-1.0, 1.0]]}, record.registers)
    >>> [hex(v) for v in values]
    ['0x6', '0x2']
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from qiskit import QuantumCircuit
from qiskit.result import Result
from qiskit.result.models import ExperimentResult, ExperimentResultData

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.job import Job
from oqc_provider.engine.states import JobState
from oqc_provider.qat_results import register_shots
from oqc_provider.qcaas.errors import ProtocolError

logger = logging.getLogger("oqc_provider.qiskit")

Registers = tuple[tuple[str, tuple[int, ...]], ...]


def jsonable(value: Any) -> Any:
    """``value`` made JSON-safe for the job store: NumPy scalars and arrays become plain numbers
    and lists, tuples lists, anything else unknown its ``repr``."""
    return json.loads(json.dumps(value, default=_fallback))


def _fallback(value: Any) -> Any:
    for attribute in ("tolist", "item"):  # NumPy arrays and scalars
        method = getattr(value, attribute, None)
        if callable(method):
            return method()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, complex):
        return [value.real, value.imag]
    return repr(value)


@dataclass
class CircuitRecord:
    """What rebuilding one circuit's result needs, kept in the job's annotations (JSON)."""

    name: str
    header: dict[str, Any]
    registers: Registers
    raw: bool
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, circuit: QuantumCircuit, registers: Registers, raw: bool) -> CircuitRecord:
        """The record of ``circuit`` sent with the program's ``registers`` (see ``to_wire``)."""
        header = {
            "creg_sizes": [[creg.name, creg.size] for creg in circuit.cregs],
            "global_phase": float(circuit.global_phase) if not circuit.num_parameters else 0.0,
            "memory_slots": circuit.num_clbits,
            "n_qubits": circuit.num_qubits,
            "name": circuit.name,
            "qreg_sizes": [[qreg.name, qreg.size] for qreg in circuit.qregs],
        }
        return cls(
            circuit.name, header, registers, raw, jsonable(circuit.metadata) if circuit.metadata else {}
        )

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (the header and metadata copied, as ``dataclasses.asdict``
        would, without its per-value ``deepcopy``: a batch writes one record per circuit)."""
        return {
            "name": self.name,
            "header": _copied(self.header),
            "registers": self.registers,  # tuples of str and int: immutable, shared
            "raw": self.raw,
            "metadata": _copied(self.metadata),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CircuitRecord:
        """Read a record written by :meth:`to_json`."""
        registers = tuple((str(name), tuple(int(i) for i in indices)) for name, indices in data["registers"])
        return cls(str(data["name"]), dict(data["header"]), registers, bool(data["raw"]), data["metadata"])


def _copied(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists and tuples copied at every level; other values shared,
    as immutable JSON values are)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copied(item) for item in value)
    return value


def shot_values(data: dict[str, Any], registers: Registers, shots: int | None = None) -> list[int]:
    """Each shot's classical memory as an integer (clbit ``i`` is bit ``i``), from raw results.

    Raises:
        ValueError: a register is missing, or registers disagree on the number of shots.
        ProtocolError: a register's entry is not QAT's raw shape.
    """
    values: list[int] | None = None
    # A register nothing was measured into reads 0 in every shot the others kept (pre- or
    # post-selection can keep fewer than asked for): take the count from a measured register.
    measured = (
        len(column) for name, _ in registers for column in data.get(name) or () if isinstance(column, list)
    )
    shots = next(measured, shots)
    for name, indices in registers:
        columns = data.get(name)
        if columns is None:
            raise ValueError(f"the results have no register {name!r} (they have {sorted(data)})")
        rows = register_shots(columns, len(indices), shots)
        if values is None:
            values = [0] * len(rows)
        elif len(rows) != len(values):
            raise ValueError(f"register {name!r} has {len(rows)} shots, the others {len(values)}")
        weights = [1 << clbit for clbit in indices]
        for shot, bits in enumerate(rows):
            values[shot] |= sum(weight for weight, bit in zip(weights, bits, strict=True) if bit)
    return values or []


def count_values(data: dict[str, Any], registers: Registers) -> Counter[int]:
    """Counts by classical-memory integer, from BinaryCount results of a one-register program."""
    ((name, indices),) = registers
    width = len(indices)
    # The usual register (its bits in order, first character first) is read by int() in C, into a
    # plain dict: the bit-by-bit loop into a Counter cost 0.45 ms per 256 outcomes, this 0.12 ms.
    in_order = indices == tuple(range(width))
    counts: dict[int, int] = {}
    for bitstring, count in data[name].items():
        if in_order and len(bitstring) == width and not bitstring.strip("01"):
            value = int(bitstring[::-1], 2)
        else:
            value = 0
            for position, character in enumerate(bitstring):
                if character == "1":
                    value |= 1 << indices[position]
        counts[value] = counts.get(value, 0) + int(count)
    return Counter(counts)


def experiment_data(
    data: Any, record: CircuitRecord, memory: bool, shots: int | None = None
) -> ExperimentResultData:
    """Qiskit's hex-keyed counts (and per-shot memory) from one task's results document."""
    if not record.registers:
        return ExperimentResultData()  # no clbits: no counts, as with AerSimulator
    if not isinstance(data, dict):
        raise ValueError(f"unexpected results document {type(data).__name__}")
    if record.raw:
        values = shot_values(data, record.registers, shots)
        counts: Counter[int] = Counter(values)
        shots_memory = [hex(value) for value in values] if memory else None
    else:
        counts = count_values(data, record.registers)
        shots_memory = None
    hex_counts = {hex(value): count for value, count in sorted(counts.items())}
    return ExperimentResultData(counts=hex_counts, memory=shots_memory)


def physical_qubits(job: Job) -> list[int] | None:
    """The physical qubits the service reported the program ran on, if metrics were fetched.

    They matter when the user let the service place the program (``optimizations="service"``...):
    results still map by classical bits, and this says where the qubits went.
    """
    metrics = job.result.metrics if job.result is not None else None
    indices = metrics.get("physical_qubit_indices") if isinstance(metrics, dict) else None
    if not isinstance(indices, list) or not all(isinstance(i, int) for i in indices):
        return None
    return [int(i) for i in indices]


def kept_shots(job: Job, data: ExperimentResultData) -> int | None:
    """How many shots pre- or post-selection kept (None when the job asked for neither).

    QAT drops the shots that fail either, so the counts sum to this, not to the shots asked for.
    """
    selects = getattr(job.config, "pre_selection", False) or getattr(job.config, "post_selection", False)
    counts = getattr(data, "counts", None)
    if not selects or counts is None:
        return None
    return sum(counts.values())


def _experiment(job: Job, record: CircuitRecord, shots: int, memory: bool, metadata: Any) -> ExperimentResult:
    header = {**record.header, "metadata": metadata}
    used = physical_qubits(job)
    if used is not None:
        header["physical_qubits"] = used
    if job.completed and job.result is not None:
        try:
            data = experiment_data(job.result.data, record, memory, shots)
        except (ValueError, KeyError, IndexError, TypeError, ProtocolError) as exc:
            message = f"Could not read the results of task {job.task_id}: {exc}"
            logger.error(message)
            return ExperimentResult(shots, False, ExperimentResultData(), status=message, header=header)
        kept = kept_shots(job, data)
        if kept is not None:
            header["shots_requested"] = shots
        return ExperimentResult(
            shots if kept is None else kept, True, data, meas_level=2, status="DONE", header=header
        )
    if job.error is not None:
        status = f"ERROR: {job.error.short}"
    elif job.state is JobState.CANCELLED:
        status = "CANCELLED"
    else:
        status = f"not finished ({job.state.value})"
    return ExperimentResult(shots, False, ExperimentResultData(), status=status, header=header)


def build_result(
    composite: CompositeJob,
    records: list[CircuitRecord],
    *,
    job_id: str,
    backend_name: str,
    shots: int,
    memory: bool,
    metadata: list[Any] | None = None,
) -> Result:
    """The Qiskit Result of a finished batch, one experiment per circuit, in circuit order.

    ``metadata`` overrides each circuit's stored (JSON) metadata with the live objects, so a result
    read in the submitting process carries exactly what the circuits carried.
    """
    if len(records) != len(composite.jobs):
        raise ValueError(f"{len(records)} circuit records for {len(composite.jobs)} tasks")
    results = [
        _experiment(job, record, shots, memory, metadata[i] if metadata is not None else record.metadata)
        for i, (job, record) in enumerate(zip(composite.jobs, records, strict=True))
    ]
    success = all(result.success for result in results)
    failed = [r.status for r in results if not r.success]
    return Result(
        backend_name=backend_name,
        backend_version="1",
        job_id=job_id,
        success=success,
        results=results,
        status="COMPLETED" if success else f"{len(failed)} of {len(results)} circuits failed: {failed[0]}",
    )
