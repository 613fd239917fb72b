"""Results from the OQC backend have the same layout as AerSimulator's on the same circuits.

Same headers, hex keys, register-separated ``get_counts()`` keys, per-shot memory, for single and
batched runs, counts and memory; distributions agree within a total-variation tolerance (both
sides seeded, so the figures are fixed).
"""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.exceptions import QiskitError
from qiskit.result import Result
from qiskit_aer import AerSimulator

from oqc_provider.qiskit import OQCBackend

from .circuits import counts_of, layout_circuits, total_variation

SHOTS = 2000
SEED = 5
#: With 2000 shots per side and at most 8 outcomes, sampling noise alone keeps the distance
#: around 0.03; a bit-order mistake moves it towards 0.5 or more.
TOLERANCE = 0.08


@pytest.fixture(scope="module")
def circuits(lucy_sim: OQCBackend) -> list[QuantumCircuit]:
    return transpile(layout_circuits(), lucy_sim, seed_transpiler=11)


@pytest.fixture(scope="module")
def aer(circuits: list[QuantumCircuit]) -> Result:
    return AerSimulator().run(circuits, shots=SHOTS, memory=True, seed_simulator=SEED).result()


@pytest.fixture(scope="module")
def batch_memory(lucy_sim: OQCBackend, circuits: list[QuantumCircuit]) -> Result:
    return lucy_sim.run(circuits, shots=SHOTS, memory=True, seed_simulator=SEED).result(timeout=120)


@pytest.fixture(scope="module")
def batch_counts(lucy_sim: OQCBackend, circuits: list[QuantumCircuit]) -> Result:
    return lucy_sim.run(circuits, shots=SHOTS, seed_simulator=SEED).result(timeout=120)


def _shape(key: str) -> tuple[int, ...]:
    return tuple(len(part) for part in key.split(" "))


def _counts(result: Result, index: int) -> dict[str, int] | None:
    try:
        return dict(result.get_counts(index))
    except QiskitError:
        return None


def test_every_circuit_succeeds_and_keeps_its_name(
    batch_memory: Result, circuits: list[QuantumCircuit]
) -> None:
    assert batch_memory.success
    assert [r.header["name"] for r in batch_memory.results] == [c.name for c in circuits]
    assert all(r.shots == SHOTS and r.meas_level == 2 for r in batch_memory.results)
    # clients look results up by circuit name
    assert sum(batch_memory.get_counts("bell").values()) == SHOTS


@pytest.mark.parametrize("which", ["batch_memory", "batch_counts"])
def test_headers_equal_aer(which: str, request: pytest.FixtureRequest, aer: Result) -> None:
    ours: Result = request.getfixturevalue(which)
    for mine, theirs in zip(ours.results, aer.results, strict=True):
        assert mine.header == theirs.header


@pytest.mark.parametrize("which", ["batch_memory", "batch_counts"])
def test_counts_match_aer_in_layout_and_distribution(
    which: str, request: pytest.FixtureRequest, aer: Result, circuits: list[QuantumCircuit]
) -> None:
    ours: Result = request.getfixturevalue(which)
    for index, circuit in enumerate(circuits):
        mine, theirs = _counts(ours, index), _counts(aer, index)
        if theirs is None:  # no clbits: Aer has no counts, and neither do we
            assert mine is None, circuit.name
            continue
        assert mine is not None, circuit.name
        assert {_shape(k) for k in mine} == {_shape(k) for k in theirs}, circuit.name
        assert all(key.startswith("0x") for key in ours.results[index].data.counts), circuit.name
        distance = total_variation(mine, theirs)
        assert distance < TOLERANCE, (circuit.name, distance, mine, theirs)


def test_memory_matches_aer_layout_and_counts(
    batch_memory: Result, aer: Result, circuits: list[QuantumCircuit]
) -> None:
    for index, circuit in enumerate(circuits):
        if _counts(aer, index) is None:
            continue
        mine, theirs = batch_memory.get_memory(index), aer.get_memory(index)
        assert len(mine) == len(theirs) == SHOTS
        assert {_shape(k) for k in mine} == {_shape(k) for k in theirs}, circuit.name
        assert counts_of(mine) == batch_memory.get_counts(index), circuit.name
        assert all(value.startswith("0x") for value in batch_memory.results[index].data.memory)


@pytest.mark.slow
def test_single_runs_equal_the_batch(
    lucy_sim: OQCBackend, circuits: list[QuantumCircuit], batch_memory: Result
) -> None:
    """Circuit i of a batch runs with seed_simulator + i: alone with that seed it gives the same shots."""
    jobs = [
        lucy_sim.run(circuit, shots=SHOTS, memory=True, seed_simulator=SEED + index)
        for index, circuit in enumerate(circuits)
    ]
    for index, job in enumerate(jobs):
        single = job.result(timeout=120)
        assert single.results[0].header == batch_memory.results[index].header
        if _counts(batch_memory, index) is not None:
            assert single.get_memory(0) == batch_memory.get_memory(index)


def test_two_registers_give_aer_keys(batch_counts: Result, aer: Result) -> None:
    assert batch_counts.get_counts("one_then_zero") == aer.get_counts("one_then_zero") == {"1 00": SHOTS}
    assert (
        set(batch_counts.get_counts("two_registers"))
        == set(aer.get_counts("two_registers"))
        == {
            "100 01",
            "101 01",
        }
    )


def test_bell_on_lucy_simulator_gives_only_00_and_11(batch_counts: Result) -> None:
    counts = batch_counts.get_counts("bell")
    assert set(counts) == {"00", "11"}
    assert abs(counts["00"] / SHOTS - 0.5) < 0.05


def test_metadata_survives(batch_memory: Result, circuits: list[QuantumCircuit]) -> None:
    for result, circuit in zip(batch_memory.results, circuits, strict=True):
        assert result.header["metadata"] == circuit.metadata


@pytest.mark.parametrize("indices", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
def test_count_values_reads_the_first_character_as_the_registers_first_bit(indices: tuple[int, ...]) -> None:
    from oqc_provider.qiskit.results import count_values

    counts = {"1000": 5, "0110": 7, "1111": 1, "010": 2}  # a short string keeps the bit-by-bit reading
    expected = {
        sum(1 << indices[position] for position, character in enumerate(bits) if character == "1"): count
        for bits, count in counts.items()
    }
    assert count_values({"c": counts}, (("c", indices),)) == expected
