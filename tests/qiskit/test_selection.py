"""Pre-selection, post-selection and driven reset through the Qiskit front end, over HTTP.

What QAT 3.5's pipeline path does with them is recorded in tests/fixtures/qat/selection.json and
imitated by the emulator (tests/emulator/test_selection.py): pre-selection drops the shots whose
heralding measurement reads 1 (a readout error on a noisy QPU), post-selection drops none on
two-level qubits, driven reset is refused without DDROP calibration.
"""

from __future__ import annotations

import math

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter

from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit import OQCBackend, OQCProvider, OQCSamplerV2

SHOTS = 4000


@pytest.fixture(scope="module")
def lucy(provider: OQCProvider) -> OQCBackend:
    """The noisy emulated Lucy: readout errors make some heralding measurements read 1."""
    return provider.get_backend("Lucy")


def kept_fraction(backend: OQCBackend, qubits: list[int]) -> float:
    """The chance that every heralding measurement reads 0: each qubit's readout error is a flip."""
    return math.prod(1 - (backend.target["measure"][(q,)].error or 0.0) for q in qubits)


@pytest.mark.slow
def test_pre_selected_counts_sum_to_the_kept_shots_and_the_result_says_so(lucy, bell):
    circuit = transpile(bell, lucy, initial_layout=[0, 1], seed_transpiler=1)
    result = lucy.run(circuit, shots=SHOTS, pre_selection=True).result()
    counts = result.get_counts()
    kept = sum(counts.values())
    experiment = result.results[0]
    assert experiment.shots == kept < SHOTS
    assert experiment.header["shots_requested"] == SHOTS
    expected = SHOTS * kept_fraction(lucy, [0, 1])
    assert abs(kept - expected) < 5 * math.sqrt(expected * (1 - expected / SHOTS)), (kept, expected)


@pytest.mark.slow
def test_memory_holds_one_entry_per_kept_shot(lucy, bell):
    circuit = transpile(bell, lucy, initial_layout=[0, 1], seed_transpiler=1)
    result = lucy.run(circuit, shots=1000, memory=True, pre_selection=True).result()
    memory = result.get_memory()
    assert len(memory) == sum(result.get_counts().values()) == result.results[0].shots < 1000


def test_an_unmeasured_register_reads_zero_in_every_kept_shot(lucy):
    measured, idle = ClassicalRegister(1, "m"), ClassicalRegister(2, "idle")
    circuit = QuantumCircuit(QuantumRegister(1, "q"), measured, idle)
    circuit.x(0)
    circuit.measure(0, measured[0])
    result = lucy.run(transpile(circuit, lucy), shots=800, pre_selection=True).result()
    counts = result.get_counts()
    assert set(counts) <= {"00 1", "00 0"}
    assert sum(counts.values()) == result.results[0].shots < 800


def test_post_selection_keeps_every_shot_of_two_level_qubits(lucy_sim, bell):
    """QAT's default models discriminate two states only, so post-selection drops nothing."""
    result = lucy_sim.run(
        transpile(bell, lucy_sim), shots=300, post_selection=True, seed_simulator=1
    ).result()
    assert sum(result.get_counts().values()) == result.results[0].shots == 300
    assert result.results[0].header["shots_requested"] == 300


def test_the_sampler_holds_the_kept_shots_of_one_circuit(lucy, bell):
    circuit = transpile(bell, lucy, initial_layout=[0, 1], seed_transpiler=1)
    sampler = OQCSamplerV2(lucy, run_options={"pre_selection": True})
    pub = sampler.run([circuit], shots=1000).result()[0]
    (kept,) = pub.metadata["shots_kept"]
    assert pub.data.c.num_shots == sum(pub.data.c.get_counts().values()) == kept < 1000
    assert pub.metadata["shots_requested"] == 1000


def test_the_sampler_trims_a_sweep_to_the_fewest_kept_shots(lucy):
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, 2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    sampler = OQCSamplerV2(lucy, run_options={"pre_selection": True})
    pub = sampler.run(
        [(transpile(circuit, lucy, initial_layout=[0, 1]), [[0.0], [1.0], [3.1]])], shots=600
    ).result()[0]
    assert pub.data.c.shape == (3,) and len(pub.metadata["shots_kept"]) == 3
    assert pub.data.c.num_shots == pub.metadata["shots"] == min(pub.metadata["shots_kept"]) < 600
    assert pub.data.c.get_counts(0).get("00", 0) > 0.8 * pub.data.c.num_shots  # theta=0: mostly 00


def test_without_selection_the_sampler_is_backend_sampler_v2(lucy_sim, bell):
    pub = OQCSamplerV2(lucy_sim).run([transpile(bell, lucy_sim)], shots=300).result()[0]
    assert pub.data.c.num_shots == 300 and pub.metadata == {"shots": 300, "circuit_metadata": {}}


def test_driven_reset_is_refused_before_sending_where_the_qpu_lacks_it(lucy_sim, bell):
    with pytest.raises(ConfigurationError, match=r"driven_reset.*DDROP.*passive_reset_time"):
        lucy_sim.run(transpile(bell, lucy_sim), driven_reset=True)


def test_options_are_validated_and_kept_with_the_job(lucy_sim, bell):
    with pytest.raises(ConfigurationError, match="passive_reset_time"):
        lucy_sim.run(transpile(bell, lucy_sim), passive_reset_time=-1.0)
    job = lucy_sim.run(transpile(bell, lucy_sim), shots=50, pre_selection=True, passive_reset_time=2e-4)
    job.result()
    again = lucy_sim.retrieve_job(job.job_id())
    (task,) = again.composite.jobs
    assert task.config.pre_selection and task.config.passive_reset_time == 2e-4
    assert again.result().results[0].header["shots_requested"] == 50


def test_no_kept_shot_reads_as_empty_counts_and_memory():
    """QAT's raw results when selection keeps no shot (tests/fixtures/qat/selection.json): empty lists."""
    from oqc_provider.qiskit.results import CircuitRecord, experiment_data

    record = CircuitRecord("bell", {}, (("c", (0, 1)),), True, None)
    data = experiment_data({"c": [[], []]}, record, memory=True, shots=5)
    assert (data.counts, data.memory) == ({}, [])
