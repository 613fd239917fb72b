"""Leases in the shared task store: claims never overlap, and a live owner's tasks are never taken.

These drive :class:`TaskStore` directly (two stores on one file stand for two processes); the
multi-process versions are in ``test_shared_store.py``.
"""

from __future__ import annotations

import threading

import pytest

from oqc_provider.emulator.store import TaskStore
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.store import JobStore
from tests.reliability.helpers import LUCY_SIM, SHOTS, program


def submit(store: TaskStore, count: int) -> list[str]:
    return [
        store.submit(
            task_id=None, qpu_id=LUCY_SIM, program=program(index), config=SHOTS.to_json(), tag=None,
            external_config=None, due_at=0.0,
        ).task_id
        for index in range(count)
    ]  # fmt: skip


def test_two_stores_claiming_at_once_never_claim_the_same_task(tmp_path):
    stores = [TaskStore(tmp_path / "tasks.sqlite3") for _ in range(2)]
    ids = submit(stores[0], 200)
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def claim(index: int) -> None:
        start.wait()
        while batch := stores[index].take_due(limit=7):
            claimed[index] += [record.id for record in batch]

    threads = [threading.Thread(target=claim, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(ids)
    for store in stores:
        store.close()


def test_a_live_owners_tasks_are_left_alone_and_a_closed_owners_are_taken_back(tmp_path):
    owner, other = TaskStore(tmp_path / "tasks.sqlite3"), TaskStore(tmp_path / "tasks.sqlite3")
    ids = submit(owner, 3)
    assert len(owner.take_due()) == 3
    assert other.reclaim() == 0 and other.requeue_interrupted() == 0
    assert other.take_due() == []
    owner.close()  # as if its process had exited
    assert other.reclaim() == 3
    assert sorted(record.id for record in other.take_due()) == sorted(ids)
    assert other.finish(ids[0], results={"c": {"1": 20}})
    stranger = TaskStore(tmp_path / "tasks.sqlite3")
    assert not stranger.finish(ids[1], results={"c": {"1": 20}})  # not its task: outcome dropped
    stats = other.execution_stats()
    assert stats["executions"] == 2 and stats["executed_tasks"] == 2  # both simulations counted
    assert other.get(ids[1]).status.value == "RUNNING"
    stranger.close()
    other.close()


@pytest.mark.slow
def test_a_dead_process_is_recognised_by_pid_and_start_time(tmp_path):
    import subprocess
    import sys

    store = TaskStore(tmp_path / "tasks.sqlite3")
    child = subprocess.run(
        [sys.executable, "-c", (
            "import sys; from oqc_provider.emulator.store import TaskStore; "
            f"s = TaskStore({str(tmp_path / 'tasks.sqlite3')!r}); "
            "from tests.reliability.test_leases import submit; submit(s, 2); print(len(s.take_due()))"
        )],
        capture_output=True, text=True, timeout=120, cwd=str(__import__("pathlib").Path(__file__).parents[2]),
    )  # fmt: skip
    assert child.stdout.strip() == "2", child.stderr
    assert store.status_counts() == {"RUNNING": 2}
    assert store.reclaim() == 2  # the owner exited without closing: its pid is gone
    store.close()


@pytest.mark.parametrize("job_id", ["abc\n", "abc\r\n", "../x", ""])
def test_job_ids_with_a_trailing_newline_or_path_parts_are_refused(tmp_path, job_id):
    with pytest.raises(JobStoreError):
        JobStore(tmp_path / "jobs").path_for(job_id)
