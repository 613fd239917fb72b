"""The synchronous facade: scripts, Jupyter (a loop already running) and progress callbacks."""

from __future__ import annotations

import asyncio

from oqc_provider.engine import CompositeJob, LoopThread, Progress, SyncSdk
from tests.engine.conftest import BELL, ONE, Emulator


def test_sync_sdk_runs_jobs_from_plain_code() -> None:
    emulator = Emulator(seed=3)
    with SyncSdk(
        url="http://emulator",
        authentication_token="t",
        transport=emulator.transport(),
        default_qpu_id="qpu:uk:2:d865b5a184",
    ) as sdk:
        assert any(q["id"] == "qpu:uk:2:d865b5a184" for q in sdk.list_qpus())
        job = sdk.create_job(program=BELL)
        outputs = sdk.execute(job, timeout_s=30)
        assert set(outputs.first.data["c"]) <= {"00", "11"}


def test_sync_sdk_works_while_an_event_loop_is_running() -> None:
    """Jupyter runs a loop in the caller's thread; the facade must not touch it."""

    async def notebook_cell() -> dict:
        with SyncSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:  # the built-in emulator
            job = sdk.create_job(program=ONE)
            return sdk.execute(job, timeout_s=30).first.data

    assert asyncio.run(notebook_cell()) == {"c": {"1": 1000}}


def test_composite_progress_callbacks_count_up_to_done() -> None:
    seen: list[Progress] = []
    with SyncSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
        composite = sdk.create_job(program=[ONE] * 6)
        assert isinstance(composite, CompositeJob)
        composite.add_listener(lambda _c, progress: seen.append(progress))
        sdk.execute(composite, timeout_s=60)
    assert seen[-1].done == 6 and seen[-1].completed == 6
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_loop_thread_refuses_to_deadlock_on_itself() -> None:
    loop = LoopThread()

    async def inner() -> str:
        try:
            loop.run(asyncio.sleep(0))
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "own loop" in loop.run(inner())
    loop.close()
