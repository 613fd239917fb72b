"""Simulations end: a time limit stops a hung one, cancelling stops a running one, memory is bounded.

Hangs are real: ``EmulatorSettings.hang_marker`` (a test hook) makes the simulator process that
receives a marked task block in a native call holding its interpreter lock, as a simulator stuck in
Aer can, until it is killed. Everything else is HTTP and polling with deadlines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from oqc_provider.emulator.store import TaskStore
from tests.emulator.emulator_helpers import BELL, LUCY_SIM, Api, config

HANG = "HANG-THE-SIMULATOR"
HANGING = BELL + f"// {HANG}\n"
TOSHIKO_SIM = "qpu:jp:3:673b1ad43c"


def state(api: Api) -> Any:
    return api.client._transport.app.state.emulator  # type: ignore[attr-defined]


def task(program: str, shots: int = 100, qpu_id: str = LUCY_SIM) -> dict[str, Any]:
    return {"program": program, "qpu_id": qpu_id, "config": config(shots=shots)}


async def submit(api: Api, programs: list[str], qpu_id: str = LUCY_SIM) -> list[str]:
    response = await api.submit_raw([task(program, qpu_id=qpu_id) for program in programs], qpu_id)
    assert response.status_code == 200, response.text
    return [item["task_id"] for item in response.json()]


async def wait_status(api: Api, task_id: str, wanted: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (await api.info(task_id))["status"] != wanted:
        assert time.monotonic() < deadline, f"task {task_id} not {wanted} after {timeout}s"
        await asyncio.sleep(0.02)


async def cancel(api: Api, task_ids: list[str]) -> None:
    answer = await api.client.post(f"{api.prefix()}/tasks/cancel_many", json={"tasks": task_ids})
    assert answer.status_code == 200, answer.text


@pytest.mark.slow
async def test_a_hung_simulation_is_stopped_at_the_time_limit_and_its_neighbours_complete(make_api):
    api = await make_api(hang_marker=HANG, task_time_limit=3.0)
    ids = await submit(api, [HANGING, BELL, BELL])
    infos = [await api.wait(task_id, timeout=120) for task_id in ids]
    hung = infos[0]
    assert hung["status"] == "FAILED", hung
    message = hung["task_error"]["error_message"]
    assert "time limit" in message and "--task-time-limit" in message
    assert all(info["status"] == "COMPLETED" for info in infos[1:])
    pool = state(api).pool
    assert pool.wait_ready(120, count=pool.size)  # every process is back
    assert (await api.run(BELL))["status"] == "COMPLETED"  # the replaced simulator runs the next task


async def test_cancelling_a_running_task_kills_its_simulation_and_counts_no_crash(make_api):
    api = await make_api(hang_marker=HANG)  # the default time limit (10 minutes) plays no part
    pool = state(api).pool
    deadline = time.monotonic() + 120
    while len(pool.worker_pids()) < pool.size:  # every slot has its process (a replacement warms)
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    deaths = pool.deaths
    (task_id,) = await submit(api, [HANGING])
    await wait_status(api, task_id, "RUNNING")
    running = set(pool.worker_pids())  # the hung one among them
    await cancel(api, [task_id])
    deadline = time.monotonic() + 30
    while running <= set(pool.worker_pids()):  # one of them was killed
        assert time.monotonic() < deadline, "the cancelled task's simulator was not stopped within 30s"
        await asyncio.sleep(0.02)
    info = await api.info(task_id)
    assert info["status"] == "CANCELLED"
    assert pool.deaths == deaths  # a stop, not a crash
    assert TaskStore.crashes(state(api).store, task_id) == 0
    assert (await api.run(BELL))["status"] == "COMPLETED"


@pytest.mark.slow
async def test_a_task_cancelled_while_its_simulator_hangs_is_not_run_again_after_a_crash(make_api):
    api = await make_api(hang_marker=HANG)
    pool = state(api).pool
    assert pool.wait_ready(120, count=pool.size)
    # 2 x pool.size tasks: chunks of two, so the hanging task and the next one share a chunk.
    ids = await submit(api, [HANGING] + [BELL] * (2 * pool.size - 1))
    hanging, neighbour, others = ids[0], ids[1], ids[2:]
    for task_id in others:
        assert (await api.wait(task_id, timeout=120))["status"] == "COMPLETED"
    await wait_status(api, neighbour, "RUNNING")
    await cancel(api, [neighbour])  # half the chunk: its simulation goes on (for the hanging one)
    executions = (await api.client.get("/_emulator/stats")).json()["executions"]
    for pid in pool.worker_pids():  # the simulators die (the idle ones are just replaced)
        os.kill(pid, signal.SIGKILL)
    assert (await api.info(neighbour))["status"] == "CANCELLED"
    await wait_status(api, hanging, "RUNNING")  # run again, alone, and hanging again
    deadline = time.monotonic() + 60
    while TaskStore.crashes(state(api).store, hanging) < 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await cancel(api, [hanging])
    await wait_status(api, hanging, "CANCELLED")
    assert pool.wait_ready(120, count=pool.started + 1)  # a simulator after the cancel's stop
    stats = (await api.client.get("/_emulator/stats")).json()
    assert stats["executions"] == executions  # the cancelled neighbour never ran again
    assert (await api.info(neighbour))["status"] == "CANCELLED"


@pytest.mark.slow
async def test_a_simulation_over_the_memory_limit_fails_saying_so_not_as_a_dead_simulator(make_api):
    # 28 qubits in superposition (non-Clifford: a statevector of 4 GiB) under a 3 GiB limit.
    body = "".join(f"sx q[{i}];\nrz(0.1) q[{i}];\n" for i in range(28))
    wide = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[28];\ncreg c[28];\n{body}measure q -> c;\n'
    api = await make_api(simulator_memory_limit=3 * 1024**3)
    (task_id,) = await submit(api, [wide], qpu_id=TOSHIKO_SIM)
    info = await api.wait(task_id, qpu_id=TOSHIKO_SIM, timeout=120)
    assert info["status"] == "FAILED"
    message = info["task_error"]["error_message"]
    assert "more memory" in message and "limit 3072 MiB" in message, message
    assert "died" not in message
    assert TaskStore.crashes(state(api).store, task_id) == 0
    assert (await api.run(BELL))["status"] == "COMPLETED"
