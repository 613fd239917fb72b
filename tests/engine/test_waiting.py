"""The engine's account of a wait (``engine/waiting.py``), each outcome from a real emulator over HTTP.

The front ends' errors and the CLI's exit codes are built from these outcomes; here each outcome is
produced by an in-process emulator (no patching): finished, still running (a long queue), unknown
task (a job resumed on an emulator that never had its task: as after an in-memory restart), and
never sent (a job whose service cannot be reached while submitting).
"""

from __future__ import annotations

import pytest

from oqc_provider.engine import OqcSdk
from oqc_provider.engine.states import JobState
from oqc_provider.engine.waiting import WaitEnd, wait_outcome
from oqc_provider.qcaas.errors import NotFoundError
from oqc_provider.qcaas.retry import RetryPolicy
from tests.engine.conftest import LUCY_SIM, ONE

FAST_RETRY = RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.02)


async def test_a_finished_wait_and_a_slow_queue(make_emulator) -> None:
    async with make_emulator(seed=3).sdk() as sdk:
        job = sdk.create_job(program=ONE)
        outcome = await wait_outcome(job.execute(timeout_s=60), [job], service=sdk, timeout=60)
        assert outcome.finished and outcome.done == outcome.total == 1
    async with make_emulator(latency=600).sdk() as sdk:
        job = sdk.create_job(program=ONE)
        outcome = await wait_outcome(job.execute(timeout_s=0.5), [job], service=sdk, timeout=0.5)
        assert outcome.end is WaitEnd.STILL_RUNNING and not outcome.finished
        assert outcome.state is JobState.SUBMITTED and outcome.done == 0 and outcome.timeout == 0.5
        assert outcome.since is None and outcome.last_error is None


async def test_a_task_the_server_does_not_know_is_reported_as_unknown(make_emulator) -> None:
    async with make_emulator(latency=600).sdk() as first:
        job = first.create_job(program=ONE)
        await job.submit()
        snapshot = job.to_snapshot()
    async with make_emulator().sdk(retry=FAST_RETRY) as restarted:  # an emulator that never had it
        resumed = restarted.from_snapshot(snapshot)
        outcome = await wait_outcome(resumed.wait(timeout_s=0.5), [resumed], service=restarted, timeout=0.5)
    assert outcome.end is WaitEnd.UNKNOWN_TASK
    assert outcome.task_ids == [str(job.task_id)] and isinstance(outcome.last_error, NotFoundError)
    assert outcome.attempts >= 1 and outcome.since is not None
    assert resumed.state is JobState.SUBMITTED  # only the server ends a job


async def test_a_submission_the_service_never_answers_is_never_sent() -> None:
    # Nothing listens on port 1 of the loopback: every connection is refused, as by a killed server.
    sdk = OqcSdk(
        url="http://127.0.0.1:1", authentication_token="t", default_qpu_id=LUCY_SIM, retry=FAST_RETRY
    )
    job = sdk.create_job(program=ONE)
    outcome = await wait_outcome(job.execute(timeout_s=1), [job], service=sdk, timeout=1)
    await sdk.close()
    assert outcome.end is WaitEnd.NEVER_SENT
    assert outcome.jobs == (job,) and job.state is JobState.CREATED
    assert outcome.since is not None and "Could not connect" in str(outcome.last_error)


@pytest.mark.parametrize("end", list(WaitEnd))
def test_every_outcome_has_words(end: WaitEnd) -> None:
    from oqc_provider.engine.waiting import WaitOutcome
    from oqc_provider.wait_messages import NextSteps, wait_message

    outcome = WaitOutcome(end, url="http://x", total=1, done=0, timeout=1.0, state=JobState.SUBMITTED)
    words = wait_message(outcome, NextSteps("Job 1", "Saved.", "go on.", "cancel.", "rerun."))
    assert (words == "") is (end is WaitEnd.FINISHED)
    if end is WaitEnd.UNKNOWN_TASK:
        assert "cancel." in words and "rerun." in words and "go on." not in words
    elif end is not WaitEnd.FINISHED:
        assert "go on." in words and "Saved." in words
