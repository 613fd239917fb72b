"""Time to a first result: a fresh process, and a fresh ``oqc-provider emulator serve``.

    python benchmarks/first_result.py [--repeats 3]

1. Fresh process: ``python -c`` that imports the Qiskit front end, creates ``OQCProvider()``, gets
   "Lucy Simulator", transpiles a Bell pair and waits for ``result()``; timed from before the
   interpreter starts to its exit (goal <= 2.5 s). The simulator processes start in the background
   when ``OQCProvider()`` is created, while the caller imports and transpiles.
2. Fresh server: ``oqc-provider emulator serve`` on a free port; once ``/admin/version`` answers,
   a Bell pair in standard gates (``h``, ``cx``: the emulator compiles it) is submitted over HTTP and
   polled until COMPLETED (goal <= 1.5 s after the first ``/admin/version`` answer). Also printed:
   when the port first answered and when the server printed "listening".
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import print_table

PROCESS_GOAL = 2.5
SERVER_GOAL = 1.5
ROOT = Path(__file__).resolve().parents[1]

FRESH_PROCESS = """
import json, time
marks = [time.perf_counter()]
from qiskit import QuantumCircuit, transpile
from oqc_provider.qiskit import OQCProvider
marks.append(time.perf_counter())
provider = OQCProvider()
backend = provider.get_backend("Lucy Simulator")
marks.append(time.perf_counter())
bell = QuantumCircuit(2, 2)
bell.h(0)
bell.cx(0, 1)
bell.measure([0, 1], [0, 1])
compiled = transpile(bell, backend)
marks.append(time.perf_counter())
counts = backend.run(compiled, shots=100).result(timeout=120).get_counts()
marks.append(time.perf_counter())
assert sum(counts.values()) == 100, counts
print(json.dumps([b - a for a, b in zip(marks, marks[1:])]))
"""
#: The stages the fresh process reports, in order.
STAGES = ("import", "OQCProvider + get_backend", "transpile (client side)", "run + result")

BELL = (
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0], q[1]; '
    "measure q[0] -> c[0]; measure q[1] -> c[1];"
)


def fresh_process() -> tuple[float, list[float]]:
    """Seconds for one fresh interpreter to import, run a Bell pair and exit; and its stages."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "OQC_PROVIDER_HOME": home}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return time.perf_counter() - started, json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_server() -> tuple[float, float, float]:
    """(seconds to the first /admin/version answer, to "listening", first Bell after /admin/version)."""
    import httpx

    from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "oqc_provider.cli", "emulator", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    listening: list[float] = []

    def read_output() -> None:  # uvicorn's access log goes to stdout: an unread pipe would block it
        assert server.stdout is not None
        for line in server.stdout:
            if "listening" in line and not listening:
                listening.append(time.perf_counter())

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            while True:
                try:
                    if http.get("/admin/version").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > 120:
                    raise SystemExit("the server did not answer within 120 s")
                time.sleep(0.005)
            answered = time.perf_counter()
            config = CompilerConfig(repeats=100, results_format=QuantumResultsFormat.binary_count()).to_json()
            task = {"program": BELL, "qpu_id": "qpu:uk:2:d865b5a184", "config": config}
            task_id = http.post("/tasks/submit", json={"tasks": [task]}).json()[0]["task_id"]
            while (status := http.get(f"/tasks/{task_id}/status").json()["status"]) != "COMPLETED":
                if status == "FAILED" or time.perf_counter() - answered > 120:
                    raise SystemExit(f"the first Bell pair ended {status}")
                time.sleep(0.005)
            done = time.perf_counter()
        while not listening and time.perf_counter() - done < 60:
            time.sleep(0.01)
        return answered - started, (listening or [float("nan")])[0] - started, done - answered
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    process = [fresh_process() for _ in range(args.repeats)]
    servers = [fresh_server() for _ in range(args.repeats)]
    first_bell = statistics.median(s[2] for s in servers)
    wall = statistics.median(p[0] for p in process)
    stages = [
        (f"  of which {name}", f"{statistics.median(p[1][index] for p in process):.2f}", "", "")
        for index, name in enumerate(STAGES)
    ]
    print_table(
        f"Time to a first result, median of {args.repeats}",
        ("", "s", "goal", "met?"),
        [
            ("fresh process: import + OQCProvider + first Bell", f"{wall:.2f}", f"<= {PROCESS_GOAL}",
             "yes" if wall <= PROCESS_GOAL else "NO"),
            *stages,
            ("fresh serve: first /admin/version answer", f"{statistics.median(s[0] for s in servers):.2f}",
             "", ""),
            ("fresh serve: 'listening' printed", f"{statistics.median(s[1] for s in servers):.2f}",
             "", ""),
            ("fresh serve: first Bell after /admin/version", f"{first_bell:.2f}", f"<= {SERVER_GOAL}",
             "yes" if first_bell <= SERVER_GOAL else "NO"),
        ],
    )  # fmt: skip
    print("runs:", [f"{p[0]:.2f}" for p in process], [tuple(f"{x:.2f}" for x in s) for s in servers])


if __name__ == "__main__":
    main()
