"""The simulator runs in worker processes: a crash there fails a task, never the caller.

Crashes are real: ``EmulatorSettings.crash_marker`` (a test hook) makes the simulator process that
receives a marked task kill itself with SIGSEGV, as Aer does on some circuits; and a test kills
simulator processes with SIGKILL mid-batch. Everything else is HTTP and polling with deadlines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from oqc_provider.emulator.store import TaskStore
from tests.emulator.emulator_helpers import BELL, LUCY_SIM, TERMINAL, Api, config

MARKER = "CRASH-THE-SIMULATOR"
CRASHING = BELL + f"// {MARKER}\n"


def task(program: str, shots: int = 100) -> dict[str, Any]:
    return {"program": program, "qpu_id": LUCY_SIM, "config": config(shots=shots)}


async def submit_batch(api: Api, programs: list[str], shots: int = 100) -> list[str]:
    response = await api.submit_raw([task(program, shots) for program in programs])
    assert response.status_code == 200, response.text
    return [item["task_id"] for item in response.json()]


async def stats(api: Api) -> dict[str, Any]:
    response = await api.client.get("/_emulator/stats")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.slow
async def test_a_task_that_crashes_its_simulator_is_failed_after_two_crashes_and_the_rest_complete(
    make_api,
):
    api = await make_api(crash_marker=MARKER)
    ids = await submit_batch(api, [BELL, BELL, CRASHING, BELL, BELL])
    infos = [await api.wait(task_id, timeout=120) for task_id in ids]
    crashed = infos[2]
    assert crashed["status"] == "FAILED"
    message = crashed["task_error"]["error_message"]
    assert "simulator process died (SIGSEGV)" in message and "2 times" in message
    for info in infos[:2] + infos[3:]:
        assert info["status"] == "COMPLETED" and sum(info["results"]["c"].values()) == 100
    numbers = await stats(api)
    assert numbers["executions"] == numbers["executed_tasks"] == 4  # the crashed one never ran
    assert numbers["repeated_executions"] == []
    # The next task runs as if nothing happened.
    assert (await api.run(BELL))["status"] == "COMPLETED"


async def test_the_crash_count_survives_a_restart_so_a_poisonous_task_is_not_retried_forever(
    make_api, tmp_path
):
    db = tmp_path / "emulator.sqlite3"
    # A previous process claimed the task, saw one simulator die under it, and was killed itself.
    previous = TaskStore(db)
    outcome = previous.submit(
        task_id=None, qpu_id=LUCY_SIM, program=CRASHING, config=config(shots=10), tag=None,
        external_config=None, due_at=0.0,
    )  # fmt: skip
    assert [record.id for record in previous.take_due()] == [outcome.task_id]
    assert previous.record_crash(outcome.task_id) == 1
    previous.close()

    api = await make_api(db_path=db, crash_marker=MARKER)
    info = await api.wait(outcome.task_id, timeout=120)
    assert info["status"] == "FAILED" and "(SIGSEGV)" in info["task_error"]["error_message"]
    assert (await stats(api))["crashes"] == 2  # one before the restart, one after: then never again


@pytest.mark.slow
async def test_killing_simulator_processes_mid_batch_leaves_the_caller_alive_and_the_batch_ends(make_api):
    api = await make_api()
    pool = api_state(api).pool
    assert pool.wait_ready(120), "no simulator process started"
    before = set(pool.worker_pids())
    ids = await submit_batch(api, [BELL] * 40, shots=20_000)

    deadline = time.monotonic() + 60
    while (await stats(api))["tasks"].get("RUNNING", 0) == 0:
        assert time.monotonic() < deadline, "the batch never started"
        await asyncio.sleep(0.01)
    for pid in before:
        os.kill(pid, signal.SIGKILL)

    infos = [await api.wait(task_id, timeout=180) for task_id in ids]
    for info in infos:
        if info["status"] == "FAILED":
            assert "simulator process died (SIGKILL)" in info["task_error"]["error_message"]
        else:
            assert info["status"] == "COMPLETED" and sum(info["results"]["c"].values()) == 20_000
    assert {info["status"] for info in infos} <= TERMINAL
    numbers = await stats(api)
    assert numbers["repeated_executions"] == []
    assert not before & set(pool.worker_pids()), "the killed simulators were not replaced"
    assert (await api.run(BELL))["status"] == "COMPLETED"


def api_state(api: Api) -> Any:
    """The emulator behind an in-process Api (its pool gives the simulator pids to kill)."""
    return api.client._transport.app.state.emulator  # type: ignore[attr-defined]


def test_store_files_are_private_also_in_existing_folders(tmp_path, monkeypatch):
    from oqc_provider.paths import emulator_db_path

    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    monkeypatch.setenv("OQC_PROVIDER_HOME", str(home))
    db = emulator_db_path()
    (db.parent / db.name).write_text("")  # an existing database file, world-readable
    db.chmod(0o644)
    store = TaskStore(db)
    try:
        assert home.stat().st_mode & 0o777 == 0o755  # an existing folder is left as it is
        for path in [db, *db.parent.glob(db.name + "-*")]:
            assert path.stat().st_mode & 0o777 == 0o600, path
        fresh = TaskStore(tmp_path / "new" / "folder" / "tasks.sqlite3")
        assert (tmp_path / "new" / "folder").stat().st_mode & 0o777 == 0o700
        fresh.close()
    finally:
        store.close()


async def test_simulator_processes_share_the_cores_instead_of_each_taking_all_of_them(make_api):
    # Aer's OpenMP threads in several processes at once compete for the same cores (measured: twice
    # the CPU time for the same work), so each process's Aer calls get a share of the cores.
    api = await make_api()
    assert (await api.run(BELL))["status"] == "COMPLETED"
    simulators = (await stats(api))["simulators"]
    cores = os.cpu_count() or 1
    assert simulators["threads_per_worker"] >= 1
    assert simulators["workers"] * simulators["threads_per_worker"] <= max(cores, simulators["workers"])


def test_an_executor_caps_the_threads_of_its_aer_calls():
    from oqc_provider.devices import CATALOGUE, reference_calibration
    from oqc_provider.emulator.executor import Executor

    spec = CATALOGUE[LUCY_SIM]
    calibrations = {LUCY_SIM: reference_calibration(spec)}
    assert (
        Executor(CATALOGUE, calibrations, None, threads=1).simulator(spec).options.max_parallel_threads == 1
    )
    assert Executor(CATALOGUE, calibrations, None).simulator(spec).options.max_parallel_threads == 0


@pytest.mark.slow
def test_a_pool_starts_its_processes_with_their_share_of_the_cores():
    from oqc_provider.emulator.pool import SimulatorPool

    pool = SimulatorPool(2)
    try:
        assert pool.wait_ready(120, count=2), pool.stats()
        share = max(1, (os.cpu_count() or 1) // 2)
        for pid in pool.worker_pids():
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                arguments = cmdline.read().decode().split("\0")
            assert f"threads={share}" in arguments, arguments
    finally:
        pool.close()
