"""``oqc-provider emulator serve --workers N``: it says "listening" once a simulator is ready, and
its log carries no ``qiskit.passmanager`` INFO lines unless ``--verbose``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.emulator.emulator_helpers import LUCY_SIM, TERMINAL, config

pytestmark = pytest.mark.slow

#: Not native: the emulator compiles it (Qiskit passes run, and would log at INFO).
GHZ = (
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; creg c[3]; h q[0]; cx q[0], q[1]; cx q[1], q[2]; '
    "measure q[0] -> c[0]; measure q[1] -> c[1]; measure q[2] -> c[2];"
)


def test_serve_announces_listening_only_when_a_simulator_is_ready_and_keeps_qiskit_quiet():
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "oqc_provider.cli", "emulator", "serve"),
            "--port",
            "0",  # the system's choice, read back from the announcement
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(server.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # blocks until the announcement (or exit: "")
        assert "listening on" in first and "(1 simulator processes)" in first, first
        url = first.split("listening on ", 1)[1].split()[0]
        with httpx.Client(base_url=url, timeout=30) as http:
            simulators = http.get("/_emulator/stats").json()["simulators"]
            assert simulators["workers"] == 1 and simulators["alive"] == 1
            assert simulators["threads_per_worker"] == (os.cpu_count() or 1)  # one process: every core
            task = {"program": GHZ, "qpu_id": LUCY_SIM, "config": config(shots=50)}
            task_id = http.post("/tasks/submit", json={"tasks": [task]}).json()[0]["task_id"]
            deadline = time.monotonic() + 120
            while (status := http.get(f"/tasks/{task_id}/all_info").json()["status"]) not in TERMINAL:
                assert time.monotonic() < deadline, f"still {status}"
                time.sleep(0.02)  # polling interval; the deadline bounds the wait
            assert status == "COMPLETED"
    finally:
        server.terminate()
        server.wait(30)
        reader.join(30)
    assert not [line for line in log if "qiskit.passmanager" in line], "".join(log)[-2000:]
