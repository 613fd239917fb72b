"""A circuit's record (what rebuilding its result needs, stored with the job) is written as
``dataclasses.asdict`` would write it, and as a copy: the batch's annotations share nothing mutable
with the records."""

from __future__ import annotations

import dataclasses

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter

from oqc_provider.qiskit.results import CircuitRecord


def _records() -> list[CircuitRecord]:
    plain = QuantumCircuit(2, 2, name="plain")
    rich = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b"), name="rich"
    )
    rich.metadata = {"nested": {"list": [1, (2, 3)], "array": np.arange(3)}, "tag": "x", "n": np.int64(4)}
    rich.global_phase = 0.25
    unbound = QuantumCircuit(1, 1, name="unbound", global_phase=Parameter("phi"))
    return [
        CircuitRecord.of(plain, (("c", (0, 1)),), raw=False),
        CircuitRecord.of(rich, (("a", (0, 1)), ("b", (2,))), raw=True),
        CircuitRecord.of(unbound, (("c", (0,)),), raw=False),
    ]


def test_to_json_is_what_asdict_writes() -> None:
    for record in _records():
        assert record.to_json() == dataclasses.asdict(record)
        assert CircuitRecord.from_json(record.to_json()) == record


def test_to_json_is_a_copy() -> None:
    record = _records()[1]
    written = record.to_json()
    written["header"]["creg_sizes"][0][1] = 99
    written["metadata"]["nested"]["list"].append("more")
    assert record.header["creg_sizes"][0] == ["a", 2]
    assert record.metadata["nested"]["list"] == [1, [2, 3]]


def test_the_header_reads_the_global_phase_unless_it_is_a_parameter() -> None:
    plain, rich, unbound = _records()
    assert (plain.header["global_phase"], rich.header["global_phase"], unbound.header["global_phase"]) == (
        0.0,
        0.25,
        0.0,
    )
    assert plain.metadata == {} and rich.metadata["n"] == 4
