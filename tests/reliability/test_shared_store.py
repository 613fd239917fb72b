"""Several processes sharing one data folder simulate every task exactly once, even when some are
killed (SIGKILL) at random points, and a task that crashes simulators does not poison the folder.

Each process is a real ``python`` using the built-in emulator of the shared ``OQC_PROVIDER_HOME``
(``tests/reliability/shared_store_client.py``). Counting comes from the store itself
(``/_emulator/stats``: executions per task), read over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from oqc_provider.emulator.store import TaskStore
from tests.reliability.helpers import LUCY_SIM, SHOTS, InProcess

ROOT = Path(__file__).resolve().parents[2]
MARKER = "CRASH-THE-SIMULATOR"


def client(home: Path, count: int, label: str, *extra: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "OQC_PROVIDER_HOME": str(home), "OQC_EMULATOR_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.shared_store_client", str(count), label, *extra],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )


async def settled_stats(home: Path, timeout: float = 600) -> dict[str, Any]:
    """Open the folder's emulator here (it takes back what dead processes left RUNNING) and wait,
    polling with a deadline, until no task is queued or running; return its stats."""
    emulator = InProcess(db_path=home / "emulator.sqlite3")
    try:
        deadline = time.monotonic() + timeout
        while True:
            stats = await emulator.stats()
            active = sum(stats["tasks"].get(status, 0) for status in ("SUBMITTED", "RUNNING"))
            if not active:
                return stats
            assert time.monotonic() < deadline, f"tasks still active: {stats['tasks']}"
            await asyncio.sleep(0.1)
    finally:
        emulator.close()


def assert_each_task_ran_once(stats: dict[str, Any], tasks: int) -> None:
    assert stats["submitted_task_count"] == tasks
    assert stats["tasks"].get("COMPLETED", 0) == tasks, stats["tasks"]
    assert stats["repeated_executions"] == []
    assert stats["executions"] == stats["executed_tasks"] == tasks


@pytest.mark.slow
async def test_four_processes_sharing_a_folder_run_each_of_their_200_tasks_once(tmp_path):
    home = tmp_path / "shared"
    processes = [client(home, 50, f"p{index}") for index in range(4)]
    for process in processes:
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, output
        assert output.splitlines()[-1] == "done " + str(["COMPLETED"] * 50).replace("'", '"')
    assert_each_task_ran_once(await settled_stats(home), 200)


@pytest.mark.slow
async def test_processes_killed_at_random_points_never_make_a_task_run_twice(tmp_path):
    home = tmp_path / "shared"
    chooser = random.Random(13)
    processes = [client(home, 30, f"p{index}") for index in range(4)]
    doomed = chooser.sample(processes, 2)
    for process in doomed:
        assert process.stdout is not None
        if chooser.random() < 0.75:  # else: killed while still starting or submitting
            assert process.stdout.readline().strip() == "submitted"
        time.sleep(chooser.uniform(0.0, 1.5))  # the random point itself, not an ordering wait
        process.send_signal(signal.SIGKILL)
        process.wait(60)
    for process in processes:
        if process not in doomed:
            output, _ = process.communicate(timeout=900)
            assert process.returncode == 0, output
    stats = await settled_stats(home)
    tasks = stats["submitted_task_count"]
    assert tasks >= 60  # the survivors' at least
    assert_each_task_ran_once(stats, tasks)


@pytest.mark.slow
async def test_tasks_running_when_a_process_exits_are_finished_by_the_next_never_failed(tmp_path):
    home = tmp_path / "shared"
    leaving = client(home, 12, "leaver", "leave")
    output, _ = leaving.communicate(timeout=600)
    assert leaving.returncode == 0 and "leaving" in output, output
    assert "FAILED" not in output
    stats = await settled_stats(home)  # the next process on the folder
    assert stats["tasks"] == {"COMPLETED": 12}
    assert stats["repeated_executions"] == [] and stats["crashes"] == 0


@pytest.mark.slow
def test_a_task_that_crashes_simulators_does_not_stop_the_next_demo_in_the_same_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    # A previous process claimed a task whose simulation segfaults, and died: it is RUNNING, owned
    # by nobody alive, and every new process on the folder takes it back.
    previous = TaskStore(home / "emulator.sqlite3")
    poisonous = previous.submit(
        task_id=None, qpu_id=LUCY_SIM, program=f"// {MARKER}\n", config=SHOTS.to_json(), tag=None,
        external_config=None, due_at=0.0,
    ).task_id  # fmt: skip
    previous.take_due()
    previous.close()

    environment = {**os.environ, "OQC_PROVIDER_HOME": str(home), "OQC_EMULATOR_TEST_CRASH_MARKER": MARKER}
    demo = subprocess.run(
        [sys.executable, "-m", "oqc_provider.cli", "demo"],
        env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "counts" in demo.stdout

    store = TaskStore(home / "emulator.sqlite3")
    try:
        deadline = time.monotonic() + 300
        while (record := store.get(poisonous)) is not None and record.status.value != "FAILED":
            assert time.monotonic() < deadline, f"the poisonous task is {record.status}"
            # The demo may have exited before its second crash: a later emulator finishes the job.
            emulator = InProcess(db_path=home / "emulator.sqlite3", crash_marker=MARKER)
            asyncio.run(_wait_inactive(emulator, deadline))
        assert record is not None and "(SIGSEGV)" in (record.task_error or {}).get("error_message", "")
        assert store.crashes(poisonous) == 2
    finally:
        store.close()


async def _wait_inactive(emulator: InProcess, deadline: float) -> None:
    try:
        while True:
            tasks = (await emulator.stats())["tasks"]
            if not tasks.get("SUBMITTED", 0) + tasks.get("RUNNING", 0):
                return
            assert time.monotonic() < deadline, tasks
            await asyncio.sleep(0.1)
    finally:
        emulator.close()
