"""Queues and execution windows through the engine, against the in-process emulator with windows set.

Windows here are dated a few seconds ahead; a task waits for its window by the engine's normal
polling (with a deadline), never a sleep.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oqc_provider.engine.states import JobState
from tests.engine.conftest import BELL, LUCY_SIM, TOSHIKO

pytestmark = pytest.mark.asyncio


def window_in(seconds: float, minutes: float = 10) -> tuple[datetime, datetime]:
    opens = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds)
    return opens, opens + timedelta(minutes=minutes)


@pytest.mark.slow
async def test_a_job_outside_its_window_stays_queued_says_why_and_runs_when_it_opens(make_emulator):
    # The window opens 4 s after the submit; the first wait gives up after 0.3 s (the margin: 3.7 s).
    opens, closes = window_in(4)
    emulator = make_emulator(seed=3, windows={LUCY_SIM: [(opens, closes)]})
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=BELL)
        await job.submit()
        with pytest.raises(TimeoutError) as raised:
            await job.wait(timeout_s=0.3)
        assert job.state is JobState.SUBMITTED
        message = str(raised.value)
        assert f"{LUCY_SIM} is outside its execution window: next window opens" in message
        assert opens.strftime("%H:%M UTC") in message and "still active" in message
        reason = job.waiting_reason()
        assert reason is not None
        assert reason.startswith("queued (1 task in the QPU's queue); next window opens")
        [start] = (await sdk.estimated_starts([job])).values()
        assert start == opens
        await job.wait(timeout_s=60)
        assert job.state is JobState.COMPLETED and job.waiting_reason() is None
        assert datetime.now(timezone.utc) >= opens


async def test_queue_status_of_several_qpus(make_emulator):
    opens, closes = window_in(3600)
    emulator = make_emulator(windows={"Lucy Simulator": [(opens, closes)]})
    async with emulator.sdk() as sdk:
        jobs = [sdk.create_job(program=BELL) for _ in range(2)]
        await sdk.create_batch(jobs).submit()
        statuses = await sdk.queue_status([LUCY_SIM, TOSHIKO])
        lucy, toshiko = statuses[LUCY_SIM], statuses[TOSHIKO]
        assert lucy.tasks_in_queue == 2 and not lucy.is_open
        assert lucy.current_window is None and lucy.next_window is not None
        assert (lucy.next_window.start, lucy.next_window.end) == (opens, closes)
        assert lucy.estimated_availability == opens
        assert toshiko.is_open and toshiko.tasks_in_queue == 0 and toshiko.current_window is not None
        assert "in its execution window" in toshiko.window_text()
        default = await sdk.queue_status()  # the default QPU
        assert list(default) == [LUCY_SIM]
        await sdk.cancel_jobs(jobs)


async def test_a_job_that_runs_at_once_reads_no_queue(make_emulator):
    emulator = make_emulator(seed=5)
    async with emulator.sdk() as sdk:
        await sdk.create_job(program=BELL).execute(timeout_s=60)
    requests = (await emulator.stats())["requests"]
    assert not any("qpu_wait_time" in route for route in requests), requests


async def test_a_failing_queue_reading_never_breaks_a_job(make_emulator):
    async def refuse_wait_times(request: Request, template: str) -> Response | None:
        if template.endswith("qpu_wait_time"):
            return JSONResponse({"meta": {"code": 500}, "response": {"errors": ["down"]}}, status_code=500)
        return None

    opens, closes = window_in(2)
    emulator = make_emulator(windows={LUCY_SIM: [(opens, closes)]}, fault_injector=refuse_wait_times)
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=BELL)
        await job.execute(timeout_s=60)
        assert job.state is JobState.COMPLETED and job.queue is None  # no reading ever succeeded
    requests = (await emulator.stats())["requests"]
    # Read once the wait had lasted a second, then at most every 10 s: once for a 2 s wait.
    assert 1 <= sum(n for route, n in requests.items() if "qpu_wait_time" in route) <= 2, requests


async def test_the_progress_bar_says_why_the_batch_waits(make_emulator):
    from oqc_provider.engine.progress import _waiting_column

    opens, closes = window_in(3600)
    emulator = make_emulator(windows={LUCY_SIM: [(opens, closes)]})
    async with emulator.sdk() as sdk:
        batch = sdk.create_batch([sdk.create_job(program=BELL) for _ in range(3)])
        await batch.submit()
        column = _waiting_column(batch)
        assert column.render(None).plain == ""  # type: ignore[arg-type]  # nothing read yet: nothing said
        await batch.read_queue()
        shown = column.render(None).plain  # type: ignore[arg-type]  # the column reads no task field
        assert shown.startswith("queued (3 tasks in the QPU's queue); next window opens"), shown
        await batch.cancel()
