"""Soak: served emulators sharing one task store, started and stopped at random while clients submit.

``--servers`` (default 4) slots each run ``oqc-provider emulator serve --db FILE --port 0`` on one
SQLite file. For ``--duration`` seconds a supervisor stops a running server (SIGINT: a clean
shutdown; ``--kill-fraction`` of them SIGKILL instead) or starts a stopped one, at random gaps,
keeping at least one up, while ``--clients`` threads submit batches of one-qubit tasks to a random
live server and, every ``--visit-every`` seconds, a visitor process opens a store on the file,
queues one task in it and closes it (as ``oqc-provider demo`` beside a long-lived script does).
Clients choose their task ids, so a batch whose answer was lost (its server went away) is sent
again, to another server, with the same ids: the server answers an id it already has without
queueing it again. Then every server stops, a fresh one on the file finishes what was left
queued, and the figures are counted:

* tasks       - ids the servers accepted from the clients, and the visitors' tasks
* completed   - of those, COMPLETED in the file at the end
* lost        - of those, missing from the file or not COMPLETED (must be 0)
* executions  - simulations of those tasks counted by the simulator processes themselves (their
                execution log, ``OQC_EMULATOR_TEST_EXECUTION_LOG``), not by the store
* repeated    - tasks simulated more than once; never_run - tasks never simulated (both must be 0)

A SIGKILLed server may die with a simulation under way: that task is run again by another server
(at least once on a crash), so a run with ``--kill-fraction`` above 0 may report repeats.

Usage::

    nice -n 10 .venv/bin/python benchmarks/shared_store_soak.py --duration 600   # the 10-minute soak
    .venv/bin/python benchmarks/shared_store_soak.py --duration 30 --json        # the slow test's
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from oqc_provider.emulator.simulator_process import EXECUTION_LOG_ENV
from oqc_provider.emulator.store import TaskStore
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat

logger = logging.getLogger("shared_store_soak")

LUCY_SIM = "qpu:uk:2:d865b5a184"
CONFIG = CompilerConfig(repeats=5, results_format=QuantumResultsFormat.binary_count()).to_json()
ROOT = Path(__file__).resolve().parents[1]


def program(index: int) -> str:
    """A distinct one-qubit program per index."""
    return (
        'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; '
        f"rz({index % 997}*0.001) q[0]; x q[0]; measure q[0] -> c[0];"
    )


@dataclass
class Slot:
    """One server's place: at most one ``emulator serve`` process at a time."""

    index: int
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    url: str | None = None

    def start(self) -> None:
        process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env
        )
        assert process.stdout is not None
        for line in process.stdout:  # ends when the process exits
            text = line.decode()
            if "listening on " in text:
                self.process, self.url = process, text.split("listening on ", 1)[1].split()[0]
                return
        process.wait()
        raise RuntimeError(f"server {self.index} exited with {process.returncode} before listening")

    def stop(self, kill: bool) -> None:
        process, self.url, self.process = self.process, None, None
        if process is None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGINT)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            logger.warning("server %d ignored SIGINT for 120 s; killing it", self.index)
            process.kill()
            process.wait()


@dataclass
class Soak:
    slots: list[Slot]
    rng: random.Random
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    starts: int = 0
    stops: int = 0
    kills: int = 0
    resent_batches: int = 0
    visits: int = 0

    def live_urls(self) -> list[str]:
        return [slot.url for slot in self.slots if slot.url is not None]

    def churn(self, gap: tuple[float, float], kill_fraction: float) -> None:
        """Start or stop one server at random gaps until told to stop; at least one stays up."""
        while not self.stop.wait(self.rng.uniform(*gap)):
            slot = self.rng.choice(self.slots)
            if slot.process is None:
                slot.start()
                self.starts += 1
            elif len(self.live_urls()) > 1:
                kill = self.rng.random() < kill_fraction
                slot.stop(kill)
                self.stops += 1
                self.kills += kill

    def client(self, seed: int, batch: int, pause: float) -> None:
        """Submit batches of fresh ids until told to stop; a batch is resent (same ids) until accepted."""
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as http:
            while not self.stop.wait(pause):
                ids = [str(uuid.uuid4()) for _ in range(batch)]
                body = {
                    "tasks": [
                        {"task_id": task_id, "program": program(rng.randrange(10_000)), "qpu_id": LUCY_SIM,
                         "config": CONFIG, "tag": "soak"}
                        for task_id in ids
                    ]
                }  # fmt: skip
                for attempt in range(1000):
                    urls = self.live_urls()
                    if urls:
                        try:
                            response = http.post(f"{rng.choice(urls)}/tasks/submit", json=body)
                            if response.status_code == 200:
                                break
                        except httpx.TransportError:
                            pass  # the server went away: its answer is lost, the ids may be stored
                    if attempt:
                        self.resent_batches += 1
                    time.sleep(0.05)  # a pause before the next try (a script's pacing, not a test's wait)
                else:
                    raise RuntimeError("a batch was never accepted by any server")
                with self.lock:
                    self.accepted += ids


#: A visitor: a short-lived process that opens a store on the file, queues one task and closes it
#: (as ``oqc-provider demo`` or a script using the in-process emulator of a shared folder does).
VISITOR = """
import sys
from oqc_provider.emulator.store import TaskStore
store = TaskStore(sys.argv[1])
store.submit(task_id=sys.argv[2], qpu_id=sys.argv[3], program=sys.argv[4], config=sys.argv[5],
             tag="visitor", external_config=None, due_at=0.0)
store.close()
"""


def visit(soak: Soak, db: Path, env: dict[str, str], every: float) -> None:
    """Every ``every`` seconds, a visitor process queues one task in the file directly."""
    index = 0
    while not soak.stop.wait(every):
        task_id, index = str(uuid.uuid4()), index + 1
        subprocess.run(
            [sys.executable, "-c", VISITOR, str(db), task_id, LUCY_SIM, program(50_000 + index), CONFIG],
            env=env, check=True, timeout=120,
        )  # fmt: skip
        with soak.lock:
            soak.accepted.append(task_id)
        soak.visits += 1


def wait_idle(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        tasks = httpx.get(f"{url}/_emulator/stats", timeout=30).json()["tasks"]
        if not tasks.get("SUBMITTED", 0) + tasks.get("RUNNING", 0):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"tasks still active after {timeout} s: {tasks}")
        time.sleep(0.2)


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    db, log = folder / "shared.sqlite3", folder / "executions.log"
    env = {**os.environ, EXECUTION_LOG_ENV: str(log), "PYTHONPATH": str(ROOT)}
    command = [
        *(sys.executable, "-m", "oqc_provider.cli", "emulator", "serve", "--port", "0"),
        *("--db", str(db), "--workers", "1", "--log-level", "warning"),
    ]
    soak = Soak([Slot(index, command, env) for index in range(args.servers)], random.Random(args.seed))
    started = time.monotonic()
    starting = [threading.Thread(target=slot.start) for slot in soak.slots]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join()
    soak.starts += len(soak.slots)
    clients = [
        threading.Thread(
            target=soak.client, args=(args.seed * 100 + index, args.batch, args.pause), daemon=True
        )
        for index in range(args.clients)
    ]
    if args.visit_every > 0:
        clients.append(threading.Thread(target=visit, args=(soak, db, env, args.visit_every), daemon=True))
    for thread in clients:
        thread.start()
    churn = threading.Thread(target=soak.churn, args=((args.min_gap, args.max_gap), args.kill_fraction))
    churn.start()
    soak.stop.wait(args.duration)
    soak.stop.set()
    churn.join()
    for thread in clients:
        thread.join()
    for slot in soak.slots:
        slot.stop(kill=False)
    settler = Slot(-1, command, env)
    settler.start()
    try:
        assert settler.url is not None
        wait_idle(settler.url, timeout=600)
    finally:
        settler.stop(kill=False)
    elapsed = time.monotonic() - started

    store = TaskStore(db)
    try:
        records = {task_id: store.get(task_id) for task_id in soak.accepted}
        store_stats = store.execution_stats()
    finally:
        store.close()
    executions = collections.Counter(log.read_text().split()) if log.exists() else collections.Counter()
    completed = sum(1 for r in records.values() if r is not None and r.status.value == "COMPLETED")
    lost = sorted(task_id for task_id, r in records.items() if r is None or r.status.value != "COMPLETED")
    repeated = {task_id: executions[task_id] for task_id in soak.accepted if executions[task_id] > 1}
    never_run = [task_id for task_id in soak.accepted if executions[task_id] == 0]
    return {
        "duration_s": args.duration,
        "elapsed_s": round(elapsed, 1),
        "servers": args.servers,
        "server_starts": soak.starts + 1,  # the settler included
        "server_stops": soak.stops,
        "server_kills": soak.kills,
        "tasks": len(soak.accepted),
        "completed": completed,
        "lost": len(lost),
        "lost_ids": lost[:20],
        "executions": sum(executions[task_id] for task_id in soak.accepted),
        "repeated": len(repeated),
        "repeated_ids": dict(list(repeated.items())[:20]),
        "never_run": len(never_run),
        "resent_batches": soak.resent_batches,
        "visitor_tasks": soak.visits,
        "store_counted_executions": store_stats["executions"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of churn (default 600)")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4, help="tasks per submit request")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between a client's submits")
    parser.add_argument("--min-gap", type=float, default=2.0, help="shortest gap between server starts/stops")
    parser.add_argument("--max-gap", type=float, default=8.0, help="longest gap between server starts/stops")
    parser.add_argument("--visit-every", type=float, default=3.0, help="seconds between visitors (0: none)")
    parser.add_argument("--kill-fraction", type=float, default=0.0, help="stops done with SIGKILL (0-1)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request drowns the report
    with tempfile.TemporaryDirectory(prefix="oqc-shared-soak-") as folder:
        report = run(args, Path(folder))
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>26}: {value}")
        ratio = report["executions"] / report["tasks"] if report["tasks"] else float("nan")
        print(f"{'executions per task':>26}: {ratio:.4f}")
    failed = (
        report["lost"] or report["repeated"] or report["never_run"] or report["executions"] != report["tasks"]
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
