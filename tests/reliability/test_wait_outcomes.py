"""Every way a wait ends short of the result, through a real served emulator, on every front end.

* **never sent**: the emulator is killed before ``backend.run`` / ``process_circuits`` could send
  anything: the wait says the service cannot be reached since when, that the circuits were never
  sent, and how to send them once it is back (not "still being submitted; call result() again").
* **unknown task** (404): an emulator that keeps tasks in memory restarts on the same port, or a
  task is purged from an emulator's database: the wait says the service does not know the task,
  that waiting will not help, and the way out (``jobs cancel``, run again) — not "once the
  service is back".

Each asserts the facts a user acts on: the error type (or exit code), that the message names the
cause and the way out. Waits are bounded by ``TIMEOUT`` so a failing test ends quickly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytket import Circuit
from pytket.backends import ResultHandle
from qiskit import QuantumCircuit, transpile
from typer.testing import CliRunner

from oqc_provider.cli import app
from oqc_provider.cli.common import EXIT_FAILURE, EXIT_TASK_UNKNOWN, EXIT_UNREACHABLE
from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import FaultPlan
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.pytket import (
    CircuitsNotSentError,
    OQCTketBackend,
    ServiceUnreachableError,
    TaskUnknownError,
)
from oqc_provider.qiskit import (
    OQCJob,
    OQCJobNotSentError,
    OQCProvider,
    OQCServiceUnreachableError,
    OQCTaskUnknownError,
)
from tests.reliability.helpers import poll_until, serve_cli_emulator, start_cli_emulator

pytestmark = pytest.mark.slow

TIMEOUT = 3.0
QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n'


def _flip() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="flip")
    circuit.x(0)
    circuit.measure(0, 0)
    return circuit


def _kill(server: Any) -> None:
    server.kill()
    server.wait()


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    """Every emulator process a test starts, killed at the end whatever happens."""
    started: list[Any] = []
    yield started
    for server in started:
        if server.poll() is None:
            _kill(server)


def _cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(app, ["--url", url, *args])


def _line(result: Any) -> str:
    return " ".join(result.stderr.split())


def test_an_emulator_killed_before_submission_says_never_sent(servers, monkeypatch) -> None:
    server, url = serve_cli_emulator()
    servers.append(server)
    backend = OQCProvider(url=url).get_backend("Lucy Simulator")
    circuit = transpile(_flip(), backend)
    monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", "1")  # pytket's submission fails at once
    tket = OQCTketBackend("Lucy Simulator", url=url)
    compiled = tket.get_compiled_circuit(Circuit(1, 1).X(0).Measure(0, 0))
    _kill(server)

    job = backend.run(circuit, shots=10)  # sent in the background, retrying while it is refused
    with pytest.raises(OQCJobNotSentError) as caught:
        job.result(timeout=TIMEOUT)
    error = caught.value
    assert isinstance(error, OQCServiceUnreachableError)  # code that catches "unreachable" still does
    message = str(error)
    assert "never sent" in message and f"the service at {url} cannot be reached" in message, message
    assert error.since is not None and f"{error.since:%H:%M:%S} UTC" in message, message
    assert "still being submitted" not in message, message
    assert "call result() again" in message and f"jobs result {job.job_id()}" in message, message

    handles = tket.process_circuits([compiled, compiled], n_shots=10)  # nothing accepted, handles kept
    for wait in (
        lambda: tket.get_result(handles[0], timeout=TIMEOUT),
        lambda: tket.get_results(handles, timeout=TIMEOUT),
    ):
        with pytest.raises(CircuitsNotSentError) as caught:
            wait()
        assert isinstance(caught.value, ServiceUnreachableError)
        message = str(caught.value)
        assert "never sent" in message and f"the service at {url} cannot be reached" in message, message
        assert "get_result(s) again" in message, message

    done = _cli(url, "jobs", "result", job.job_id(), "--wait", str(TIMEOUT))
    assert done.exit_code == EXIT_UNREACHABLE, done.output
    line = _line(done)
    assert "never sent" in line and f"the service at {url} cannot be reached" in line, line
    assert f"oqc-provider jobs result {job.job_id()} --wait 3" in line, line

    # The way out the messages give: once the service is back, waiting again sends them.
    servers.append(start_cli_emulator(int(url.rsplit(":", 1)[1])))
    assert job.result(timeout=120).get_counts("flip") == {"1": 10}
    assert tket.get_result(handles[0], timeout=120).get_counts() == {(1,): 10}
    tket.close()


def _queued_on_both(url: str) -> tuple[OQCJob, OQCTketBackend, ResultHandle]:
    """A Qiskit job queued on the service at ``url``, and a pytket circuit sent to it."""
    backend = OQCProvider(url=url).get_backend("Lucy Simulator")
    job = backend.run(transpile(_flip(), backend), shots=10)
    poll_until(lambda: job.status().name == "QUEUED", 60, "the Qiskit job to be queued")
    tket = OQCTketBackend("Lucy Simulator", url=url)
    handle = tket.process_circuit(tket.get_compiled_circuit(Circuit(1, 1).X(0).Measure(0, 0)), n_shots=10)
    return job, tket, handle


def test_an_in_memory_emulator_restarted_says_the_task_is_unknown(servers, tmp_path, monkeypatch) -> None:
    server, url = serve_cli_emulator("--latency", "600")  # tasks stay queued, in memory only
    servers.append(server)
    job, tket, handle = _queued_on_both(url)
    bell = tmp_path / "flip.qasm"
    bell.write_text(QASM)
    queued = _cli(url, "run", str(bell), "--timeout", "0.5", "--json", "--no-progress")
    cli_job = json.loads(queued.stdout)["job_id"]  # printed even though the wait timed out

    _kill(server)
    servers.append(start_cli_emulator(int(url.rsplit(":", 1)[1])))  # same port, empty memory

    with pytest.raises(OQCTaskUnknownError) as caught:
        job.result(timeout=TIMEOUT)
    message = str(caught.value)
    assert f"the service at {url} does not know task(s)" in message, message
    assert "404" in message and "waiting longer will not help" in message, message
    assert f"oqc-provider jobs cancel {job.job_id()}" in message and "backend.run()" in message, message
    assert "Once the service is back" not in message, message
    assert caught.value.task_ids == [str(child.task_id) for child in job.composite.jobs]
    with pytest.raises(OQCTaskUnknownError):
        job.wait_for_final_state(timeout=1, wait=0.5)  # the same outcome, through Qiskit's other wait

    with pytest.raises(TaskUnknownError) as caught_tket:
        tket.get_result(handle, timeout=TIMEOUT)
    message = str(caught_tket.value)
    assert "does not know task(s)" in message and "process_circuits()" in message, message
    assert "backend.cancel(handle)" in message, message
    tket.close()

    for job_id in (job.job_id(), cli_job):
        done = _cli(url, "jobs", "result", job_id, "--wait", "1")
        assert done.exit_code == EXIT_TASK_UNKNOWN, done.output
        line = _line(done)
        assert "does not know task(s)" in line and f"oqc-provider jobs cancel {job_id}" in line, line
        cancelled = _cli(url, "jobs", "cancel", job_id)  # the way out works
        assert cancelled.exit_code == 0, cancelled.output
        assert "CANCELLED" in cancelled.stdout, cancelled.stdout


def test_a_purged_task_says_the_task_is_unknown(servers, tmp_path) -> None:
    database = tmp_path / "emulator.sqlite3"
    server, url = serve_cli_emulator("--db", str(database), "--latency", "600")
    servers.append(server)
    job, tket, handle = _queued_on_both(url)

    _purge(database)  # as QCaaS scrubs tasks after their retention period

    with pytest.raises(OQCTaskUnknownError) as caught:
        job.result(timeout=TIMEOUT)
    assert "does not know task(s)" in str(caught.value) and "jobs cancel" in str(caught.value)
    with pytest.raises(TaskUnknownError):
        tket.get_result(handle, timeout=TIMEOUT)
    tket.close()
    done = _cli(url, "jobs", "result", job.job_id())  # looking once says it too
    assert done.exit_code == EXIT_TASK_UNKNOWN, done.output
    assert f"oqc-provider jobs cancel {job.job_id()}" in _line(done)


def test_run_json_keeps_the_job_id_when_its_circuits_are_never_sent(tmp_path) -> None:
    """A service that refuses every submit (503, before storing anything): ``run --json`` still prints
    the job id and its state, and says the circuits were never sent."""
    refuse = FaultPlan(rate=1.0, seed=1, kinds=("503",), routes=frozenset({"submit"}), phases=("before",))
    flip = tmp_path / "flip.qasm"
    flip.write_text(QASM)
    with serve_in_thread(EmulatorSettings(faults=refuse)) as url:
        ran = _cli(url, "run", str(flip), "--timeout", str(TIMEOUT), "--json", "--no-progress")
    assert ran.exit_code == EXIT_UNREACHABLE, ran.output
    report = json.loads(ran.stdout)
    assert report["state"] == "CREATED" and report["outcome"] == "never sent"
    assert [circuit["state"] for circuit in report["circuits"]] == ["CREATED"]
    line = _line(ran)
    assert "never sent" in line and "did not take them" in line and "503" in line, line
    assert f"oqc-provider jobs result {report['job_id']} --wait 60" in line, line


def test_jobs_result_on_a_failed_job_exits_as_run_does(tmp_path) -> None:
    server, url = serve_cli_emulator()
    try:
        broken = tmp_path / "broken.qasm"
        broken.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nnotagate q[0];\n')
        ran = _cli(url, "run", str(broken), "--no-preflight", "--json", "--no-progress")
        assert ran.exit_code == EXIT_FAILURE, ran.output
        job_id = json.loads(ran.stdout)["job_id"]
        fetched = _cli(url, "jobs", "result", job_id)
        assert fetched.exit_code == ran.exit_code, fetched.output
        assert "1 of 1 circuit(s) failed" in _line(fetched)
    finally:
        _kill(server)


def _purge(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        assert connection.execute("DELETE FROM tasks").rowcount >= 2
