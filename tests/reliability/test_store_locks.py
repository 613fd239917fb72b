"""Processes that open and close task stores on a file another process is using never make it lose
a task or run one twice.

On Linux, closing any descriptor on a file drops every POSIX lock the process holds on it, SQLite's
included. A store that opened and closed a second descriptor on its database after connecting
(to set its mode) lost its locks: the next process to close its connection then believed it was
the last user, checkpointed and deleted the live WAL, and the first process went on writing into a
deleted file (tasks vanished, or ran twice).

Everything here is a real process on a real SQLite file, over real HTTP: a served emulator runs
tasks while short-lived processes open a store on the same file, queue a task in it and close it.
Executions are counted by the simulator processes themselves (their execution log), not by the
store.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from oqc_provider.emulator.simulator_process import EXECUTION_LOG_ENV
from oqc_provider.emulator.store import TaskStore
from tests.reliability.helpers import LUCY_SIM, SHOTS, poll_until, program, serve_cli_emulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}

#: A process that opens a store on the file, queues one task and closes it; prints the task's id.
QUEUE_ONE = """
import sys
from oqc_provider.emulator.store import TaskStore
store = TaskStore(sys.argv[1])
outcome = store.submit(task_id=None, qpu_id=sys.argv[2], program=sys.argv[3], config=sys.argv[4],
                       tag="visitor", external_config=None, due_at=0.0)
store.close()
print(outcome.task_id)
"""


def queue_one_in_another_process(db: Path, index: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", QUEUE_ONE, str(db), LUCY_SIM, program(1000 + index), SHOTS.to_json()],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def submit(url: str, first: int, count: int) -> list[str]:
    tasks = [
        {"program": program(index), "qpu_id": LUCY_SIM, "config": SHOTS.to_json(), "tag": "served"}
        for index in range(first, first + count)
    ]
    response = httpx.post(f"{url}/tasks/submit", json={"tasks": tasks}, timeout=30)
    response.raise_for_status()
    return [item["task_id"] for item in response.json()]


def wait_terminal(url: str, task_ids: list[str], timeout: float) -> dict[str, str]:
    """Each task's status as the server reports it once terminal (polling, with a deadline)."""
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as http:
        while len(statuses) < len(task_ids):
            for task_id in task_ids:
                if task_id not in statuses:
                    status = http.get(f"/tasks/{task_id}/status").json()["status"]
                    if status in TERMINAL:
                        statuses[task_id] = status
            assert time.monotonic() < deadline, f"{len(task_ids) - len(statuses)} task(s) never finished"
            time.sleep(0.05)
    return statuses


def wait_idle(url: str, timeout: float) -> None:
    def idle() -> bool:
        tasks = httpx.get(f"{url}/_emulator/stats", timeout=10).json()["tasks"]
        return not tasks.get("SUBMITTED", 0) + tasks.get("RUNNING", 0)

    poll_until(idle, timeout, "the emulator to finish every queued task")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)  # a clean shutdown: the store is closed
    server.wait(60)


def test_stores_opened_and_closed_beside_a_running_emulator_lose_no_task_and_run_none_twice(tmp_path):
    db, log = tmp_path / "shared.sqlite3", tmp_path / "executions.log"
    environment = {**os.environ, EXECUTION_LOG_ENV: str(log)}
    options = ("--db", str(db), "--workers", "1")
    served, url = serve_cli_emulator(*options, env=environment)
    served_ids: list[str] = []
    visitor_ids: list[str] = []
    try:
        for round_ in range(6):
            served_ids += submit(url, 5 * round_, 5)
            visitor_ids.append(queue_one_in_another_process(db, round_))
        statuses = wait_terminal(url, served_ids, timeout=300)
        assert set(statuses.values()) == {"COMPLETED"}, statuses
    finally:
        stop(served)
    # A fresh emulator on the file finishes what the first did not see; then every task is on disk.
    settler, url = serve_cli_emulator(*options, env=environment)
    try:
        wait_idle(url, timeout=300)
    finally:
        stop(settler)
    store = TaskStore(db)
    try:
        for task_id in served_ids + visitor_ids:
            record = store.get(task_id)
            assert record is not None, f"task {task_id} vanished from the store"
            assert record.status.value == "COMPLETED", (task_id, record.status, record.task_error)
    finally:
        store.close()
    executions = collections.Counter(log.read_text().split())
    assert {task_id: executions[task_id] for task_id in served_ids + visitor_ids} == dict.fromkeys(
        served_ids + visitor_ids, 1
    ), "each task simulated exactly once"
    assert set(executions) == set(served_ids + visitor_ids)


def test_a_short_soak_of_four_served_emulators_on_one_store_runs_each_task_once():
    """``benchmarks/shared_store_soak.py`` for 30 s (the 10-minute run is the same script)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "shared_store_soak.py"), "--duration", "30", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["server_stops"] > 0 and report["tasks"] > 0, report
    assert report["lost"] == 0 and report["repeated"] == 0 and report["never_run"] == 0, report
    assert report["executions"] == report["completed"] == report["tasks"], report
