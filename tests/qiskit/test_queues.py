"""Queues and execution windows from Qiskit (and pytket) against an emulator served on a loopback port.

Every emulated QPU here has one window, dated an hour or more ahead, so tasks stay queued for the
whole module; one test has its own emulator whose window opens seconds after the submit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.providers import JobStatus

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.qiskit import OQCJobTimeoutError, OQCProvider

pytestmark = pytest.mark.slow

WAITING = re.compile(r"^queued \(\d+ tasks? in the QPU's queue\); next window opens \d\d:\d\d UTC, in ")


def _hours_ahead(hours: float) -> tuple[datetime, datetime]:
    opens = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=hours)
    return opens, opens + timedelta(hours=1)


OPENS = {"Lucy Simulator": _hours_ahead(1), "Lucy": _hours_ahead(2), "Toshiko": _hours_ahead(3)}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    settings = EmulatorSettings(seed=4, windows={name: [window] for name, window in OPENS.items()})
    with serve_in_thread(settings) as url:
        yield url


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("queued-jobs")


@pytest.fixture(scope="module")
def provider(served: str, store: Path) -> Iterator[OQCProvider]:
    with OQCProvider(url=served, job_store=store) as provider:
        yield provider


def _one(name: str = "one") -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name=name)
    circuit.x(0)
    circuit.measure(0, 0)
    return circuit


def test_queue_status_and_least_busy_over_several_qpus(provider: OQCProvider) -> None:
    sim = provider.get_backend("Lucy Simulator").queue_status()
    assert not sim.is_open and sim.current_window is None
    assert sim.next_window is not None
    assert (sim.next_window.start, sim.next_window.end) == OPENS["Lucy Simulator"]
    assert sim.estimated_availability == OPENS["Lucy Simulator"][0]
    # None is open: the one whose window opens first wins.
    assert provider.least_busy().name == "Lucy Simulator"
    assert provider.least_busy(simulator=False).name == "Lucy"


def test_a_queued_job_says_why_and_its_timeout_names_the_window(provider: OQCProvider, store: Path) -> None:
    backend = provider.get_backend("Lucy Simulator")
    job = backend.run(transpile(_one(), backend), shots=10)
    with pytest.raises(OQCJobTimeoutError, match=r"d865b5a184") as raised:
        job.result(timeout=0.5)
    assert "is outside its execution window: next window opens" in str(raised.value)
    assert job.status() is JobStatus.QUEUED
    assert WAITING.match(job.status_message()), job.status_message()
    assert job.estimated_start() == OPENS["Lucy Simulator"][0]
    # A later process resumes the job from the local store and still says what it waits for.
    script = (
        "import sys\n"
        "from oqc_provider.qiskit import OQCProvider\n"
        "provider = OQCProvider(url=sys.argv[1], job_store=sys.argv[2])\n"
        "job = provider.get_backend('Lucy Simulator').retrieve_job(sys.argv[3])\n"
        "print(job.status().name); print(job.status_message())\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", script, provider.session.sdk.connection.url, str(store), job.job_id()],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    status, message = done.stdout.strip().splitlines()
    assert status == "QUEUED" and WAITING.match(message), message
    job.cancel()


def test_pytket_reports_the_queue_and_the_window(served: str, store: Path) -> None:
    from pytket import Circuit

    from oqc_provider.pytket import OQCTketBackend
    from oqc_provider.pytket.errors import ResultTimeoutError

    with OQCTketBackend("Toshiko", url=served, job_store=store) as backend:
        assert backend.queue_status().next_window.start == OPENS["Toshiko"][0]  # type: ignore[union-attr]
        circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).Measure(0, 0))
        [handle] = backend.process_circuits([circuit], n_shots=10)
        with pytest.raises(ResultTimeoutError, match="outside its execution window: next window opens"):
            backend.get_result(handle, timeout=0.5)
        status = backend.circuit_status(handle)
        assert status.status.name == "QUEUED"
        assert "queued (" in status.message and "next window opens" in status.message, status.message
        assert backend.estimated_start(handle) == OPENS["Toshiko"][0]
        backend.cancel(handle)


def test_a_job_waits_for_its_window_then_completes(tmp_path: Path) -> None:
    # The window opens 6 s after the emulator is made: the first wait (0.5 s) and the status are
    # read well inside that margin; then result() waits (polling with a deadline) for the window.
    opens = datetime.now(timezone.utc) + timedelta(seconds=6)
    windows = {"Lucy Simulator": [(opens, opens + timedelta(minutes=5))]}
    app = create_app(EmulatorSettings(seed=9, windows=windows))
    transport = httpx.ASGITransport(app=app)
    try:
        with OQCProvider(url="http://emulator.test", transport=transport, job_store=tmp_path) as provider:
            backend = provider.get_backend("Lucy Simulator")
            job = backend.run(transpile(_one("flip"), backend), shots=20)
            with pytest.raises(OQCJobTimeoutError, match="outside its execution window"):
                job.result(timeout=0.5)
            assert job.status() is JobStatus.QUEUED
            assert "next window opens" in job.status_message()
            assert job.result(timeout=60).get_counts("flip") == {"1": 20}
            assert datetime.now(timezone.utc) >= opens
    finally:
        app.state.emulator.close()  # type: ignore[attr-defined]
