"""Persistent handles: ``ResultHandle.from_str(str(handle))`` in a new process with a new backend.

The emulator is served on 127.0.0.1 so separate processes reach the same tasks; the child process
is a plain ``python -c`` script using only the public API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytket import Circuit, Qubit

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine.store import JobStore
from oqc_provider.pytket import OQCTketBackend

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from pytket.backends import ResultHandle
from oqc_provider import OQCTketBackend
handle = ResultHandle.from_str(sys.argv[1])
with OQCTketBackend("Lucy Simulator") as backend:
    result = backend.get_result(handle, timeout=60)
    status = backend.circuit_status(handle).status.name
bits = [[b.reg_name, b.index[0]] for b in result.c_bits]
counts = {"".join(map(str, k)): v for k, v in result.get_counts().items()}
print(json.dumps({"bits": bits, "counts": counts, "status": status}))
"""


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("served-emulator") / "tasks.sqlite"
    with serve_in_thread(EmulatorSettings(db_path=db, seed=3, latency=0.5)) as url:
        yield url


def _fetch_in_new_process(handle: str, url: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQC_")}
    env.update(OQC_URL=url, OQC_PROVIDER_HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, handle],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _circuit() -> Circuit:
    circuit = Circuit(2, name="x-and-bell").H(0).CX(0, 1)
    m = circuit.add_c_register("m", 2)
    return circuit.Measure(Qubit(0), m[1]).Measure(Qubit(1), m[0])


def test_handles_round_trip_through_strings_across_processes(served_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with OQCTketBackend("Lucy Simulator", url=served_url, job_store=home / "jobs") as backend:
        assert backend.persistent_handles
        compiled = backend.get_compiled_circuit(_circuit())
        handles = backend.process_circuits([compiled, compiled], n_shots=[100, 300], memory=True, seed=8)
        text = [str(handle) for handle in handles]
        entry = JobStore(home / "jobs").list()[0]
        assert entry.kind == "pytket" and entry.circuits == 2  # recorded with the submission
    # A new process, a new backend, the same data folder: the batch comes from the local job store.
    first = _fetch_in_new_process(text[0], served_url, home)
    second = _fetch_in_new_process(text[1], served_url, home)
    assert first["status"] == "COMPLETED"
    assert first["bits"] == [["m", 0], ["m", 1]]
    assert sum(first["counts"].values()) == 100 and sum(second["counts"].values()) == 300
    assert set(first["counts"]) <= {"00", "11"}
    # Back in this process, a fresh backend reads the same results (kept with the job, not refetched).
    with OQCTketBackend("Lucy Simulator", url=served_url, job_store=home / "jobs") as again:
        from pytket.backends import ResultHandle

        result = again.get_result(ResultHandle.from_str(text[1]))
        assert {"".join(map(str, k)): v for k, v in result.get_counts().items()} == second["counts"]


def test_handles_work_without_the_local_store(served_url: str, tmp_path: Path) -> None:
    with OQCTketBackend("Lucy Simulator", url=served_url, job_store=tmp_path / "a" / "jobs") as backend:
        handle = backend.process_circuit(backend.get_compiled_circuit(_circuit()), n_shots=50)
    # Another machine, in effect: an empty data folder; the handle's task id finds the task.
    fetched = _fetch_in_new_process(str(handle), served_url, tmp_path / "elsewhere")
    assert sum(fetched["counts"].values()) == 50 and set(fetched["counts"]) <= {"00", "11"}
