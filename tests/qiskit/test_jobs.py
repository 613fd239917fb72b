"""OQCJob: status, result, cancel, failures, big batches, save/load and retrieval in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.providers import JobStatus

from oqc_provider.engine.states import JobState
from oqc_provider.errors import ConfigurationError
from oqc_provider.qcaas.compiler_config import ErrorMitigationConfig
from oqc_provider.qiskit import OQCBackend, OQCJob, OQCJobTimeoutError, OQCProvider
from oqc_provider.qiskit.job import STATUS_OF_STATE

from .circuits import layout_circuits


def test_every_engine_state_has_a_status() -> None:
    assert set(STATUS_OF_STATE) == set(JobState)
    assert STATUS_OF_STATE[JobState.COMPLETED] is JobStatus.DONE
    assert STATUS_OF_STATE[JobState.FAILED] is JobStatus.ERROR


def test_run_returns_at_once_and_status_follows_the_job(slow_provider: OQCProvider, bell) -> None:
    backend = slow_provider.get_backend("Lucy Simulator")
    circuit = transpile(bell, backend)
    job = backend.run(circuit, shots=20)
    # run() returned before the job ended: the emulator keeps it queued for 1.5 s (the status
    # below would be DONE had run() waited for it).
    assert job.job_id() in {entry.job_id for entry in slow_provider.jobs()}  # recorded before sending
    assert job.status() in (JobStatus.INITIALIZING, JobStatus.QUEUED)
    with pytest.raises(OQCJobTimeoutError, match="call result"):
        job.result(timeout=0.2)
    assert job.result(timeout=60).success  # the same job, waited for again
    assert job.status() is JobStatus.DONE
    assert job.job_id() == job.result().job_id


def test_cancel_a_queued_job(slow_provider: OQCProvider, bell) -> None:
    backend = slow_provider.get_backend("Lucy Simulator")
    job = backend.run(transpile(bell, backend), shots=20)
    assert job.cancel() is True
    assert job.status() is JobStatus.CANCELLED
    result = job.result(timeout=30)
    assert not result.success and result.results[0].status == "CANCELLED"


def test_failed_circuits_are_unsuccessful_with_the_server_message(lucy_sim: OQCBackend) -> None:
    two = QuantumCircuit(1, name="two_registers")
    from qiskit import ClassicalRegister

    two.add_register(ClassicalRegister(1, "a"), ClassicalRegister(1, "b"))
    two.measure(0, 0)
    two.measure(0, 1)
    one = QuantumCircuit(1, 1, name="one_register")
    one.measure(0, 0)
    job = lucy_sim.run([two, one], shots=10, error_mitigation=ErrorMitigationConfig.MatrixMitigation)
    result = job.result(timeout=60)
    assert job.status() is JobStatus.ERROR
    assert not result.success
    assert not result.results[0].success
    assert "multiple registers" in result.results[0].status
    assert result.results[1].success and result.get_counts("one_register") == {"0": 10}


@pytest.mark.slow
def test_batches_bigger_than_a_request_are_split(lucy_sim: OQCBackend) -> None:
    circuits = []
    for index in range(260):
        circuit = QuantumCircuit(2, 2, name=f"c{index}")
        if index % 2:
            circuit.x(1)
        circuit.measure([0, 1], [0, 1])
        circuits.append(circuit)
    result = lucy_sim.run(circuits, shots=8).result(timeout=120)
    assert result.success and len(result.results) == 260
    assert result.get_counts("c7") == {"10": 8} and result.get_counts("c8") == {"00": 8}


def test_save_and_load(lucy_sim: OQCBackend, provider: OQCProvider, tmp_path: Path) -> None:
    circuits = transpile(layout_circuits(), lucy_sim, seed_transpiler=1)
    job = lucy_sim.run(circuits, shots=100, memory=True, seed_simulator=3)
    job.save(tmp_path / "job.json")  # saved while (possibly) still running
    loaded = OQCJob.load(tmp_path / "job.json", provider)
    assert loaded.job_id() == job.job_id()
    with pytest.raises(ConfigurationError, match=r"needs the provider or backend.*OQCProvider\(\)"):
        OQCJob.load(tmp_path / "job.json")  # the provider decides where requests go: it is named
    assert loaded.result(timeout=60).to_dict()["results"] == job.result(timeout=60).to_dict()["results"]


def _child_env() -> dict[str, str]:
    """This process's environment (OQC_PROVIDER_HOME included) with the repository importable."""
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def _result_json(job: OQCJob) -> str:
    data = job.result(timeout=60).to_dict()
    data.pop("date", None)
    return json.dumps(data, sort_keys=True, default=str)


@pytest.mark.slow
def test_retrieve_job_in_a_new_process(tmp_path: Path) -> None:
    """Nothing configured: the built-in emulator and the job store live in OQC_PROVIDER_HOME."""
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        circuits = transpile(layout_circuits(), backend, seed_transpiler=1)
        job = backend.run(circuits, shots=300, memory=True)
        expected = _result_json(job)
        job_id = job.job_id()
    assert job_id in {entry.job_id for entry in OQCProvider(job_store=provider.job_store).jobs()}
    script = (
        "import json, sys\n"
        "from oqc_provider import OQCProvider\n"
        "backend = OQCProvider().get_backend('Lucy Simulator')\n"
        "job = backend.retrieve_job(sys.argv[1])\n"
        "data = job.result(timeout=60).to_dict(); data.pop('date', None)\n"
        "print(json.dumps(data, sort_keys=True, default=str))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script, job_id],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env(),
        check=True,
    )
    assert output.stdout.strip() == expected


@pytest.mark.slow
def test_job_submitted_in_one_process_finishes_in_another(tmp_path: Path, bell) -> None:
    """A job still queued when its process ends is picked up and finished by a new process."""
    script = (
        "import sys\n"
        "from qiskit import QuantumCircuit, transpile\n"
        "from oqc_provider import OQCProvider\n"
        "backend = OQCProvider().get_backend('Lucy Simulator')\n"
        "qc = QuantumCircuit(2, 2, name='x1'); qc.x(1); qc.measure([0, 1], [0, 1])\n"
        "job = backend.run(transpile(qc, backend), shots=40)\n"
        "job.save(sys.argv[1]); print(job.job_id())\n"
    )
    path = tmp_path / "queued.json"
    first = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env(),
        check=True,
    )
    job_id = first.stdout.strip()
    with OQCProvider() as provider:
        retrieved = provider.get_backend("Lucy Simulator").retrieve_job(job_id)
        assert retrieved.result(timeout=60).get_counts("x1") == {"10": 40}
        assert OQCJob.load(path, provider).result(timeout=60).get_counts("x1") == {"10": 40}


@pytest.mark.slow
def test_a_process_that_exits_mid_simulation_leaves_its_tasks_to_the_next(tmp_path: Path) -> None:
    """Tasks still simulating in the in-process emulator when the script exits are not failed:
    the next process's emulator finishes them. (They used to fail with "cannot schedule new
    futures after shutdown" when anything kept the exiting interpreter alive a moment, here a
    non-daemon thread, as a logging or notebook thread would.)"""
    script = (
        "import threading, time\n"
        "from qiskit import QuantumCircuit, transpile\n"
        "from oqc_provider import OQCProvider\n"
        "backend = OQCProvider().get_backend('Lucy Simulator')\n"
        "qc = QuantumCircuit(8); qc.h(0); [qc.cx(i, i + 1) for i in range(7)]; qc.measure_all()\n"
        # Seeded, so one Aer call per task: Aer is called again after the exit has begun.
        "job = backend.run([transpile(qc, backend)] * 120, shots=5000, seed_simulator=5)\n"
        "job.save('job.json'); print(job.job_id())\n"
        "threading.Thread(target=time.sleep, args=(3,)).start()\n"
    )
    first = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=_child_env(),
        check=True,
        cwd=tmp_path,
    )
    with OQCProvider() as provider:
        result = provider.get_backend("Lucy Simulator").retrieve_job(first.stdout.strip()).result(timeout=300)
    failed = [r.status for r in result.results if not r.success]
    assert not failed, failed[:3]
    assert all(set(counts) == {"0" * 8, "1" * 8} for counts in result.get_counts())
