"""Job lifecycle against the emulator: run, re-run, resume, errors, cancel, reconfigure, deadlines."""

from __future__ import annotations

import time

import pytest

from oqc_provider.engine import JobFailed, JobNotSubmittedError, JobResult, JobState, OqcSdk
from tests.engine.conftest import BAD, BELL, ONE, Emulator


async def test_bell_on_lucy_simulator_gives_only_00_and_11(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=BELL)
    outputs = await job.execute(timeout_s=30)
    counts = job.result.data["c"]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 1000
    assert outputs.first is job.result and job.completed and job.state is JobState.COMPLETED
    assert job.result.compiler_config is not None and job.result.compiler_config.shots == 1000  # config sent


async def test_execute_on_a_terminal_job_resubmits_with_a_new_task_id(
    sdk: OqcSdk, emulator: Emulator
) -> None:
    job = sdk.create_job(program=ONE)
    await job.execute(timeout_s=30)
    first = job.task_id
    await job.execute(timeout_s=30)
    assert job.task_id != first
    assert len(job.history) == 2 and all(isinstance(h, JobResult) for h in job.history)
    assert (await emulator.stats())["task_count"] == 2


async def test_execute_on_an_active_job_resumes_without_resubmitting(make_emulator) -> None:
    emulator = make_emulator(latency=0.4)
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=ONE)
        await job.submit()
        task_id = job.task_id
        await job.submit()  # a second submit never re-sends
        await job.execute(timeout_s=30)
        assert job.task_id == task_id and job.completed
        assert (await emulator.stats())["task_count"] == 1


async def test_errors_are_stored_not_raised(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=BAD)
    await job.execute(timeout_s=30)
    assert job.state is JobState.FAILED and job.error is not None and job.result is None
    assert "OPENQASM" in job.error.error_message or "version" in job.error.error_message.lower()
    with pytest.raises(JobFailed) as failure:
        job.raise_for_status()
    assert failure.value.task_id == job.task_id and failure.value.code == job.error.error_code
    with pytest.raises(JobFailed):
        await job.execute(timeout_s=30, raise_on_error=True)
    assert len(job.history) == 2


async def test_history_keeps_failed_and_successful_runs_after_reconfigure(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=BAD)
    first = await job.execute(timeout_s=30)
    job.reconfigure(memento=first.first, program=ONE)
    await job.execute(timeout_s=30)
    history = job.history.all()
    assert [h.is_error for h in history] == [True, False]
    assert "OPENQASM 5.0" in history[0].program


async def test_refresh_on_a_terminal_job_never_duplicates_history(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE)
    await job.execute(timeout_s=30)
    await job.refresh()
    await job.refresh()
    assert len(job.history) == 1


async def test_refresh_before_submission_is_a_typed_error(sdk: OqcSdk) -> None:
    with pytest.raises(JobNotSubmittedError, match="never submitted"):
        await sdk.create_job(program=ONE).refresh()


async def test_cancel_never_turns_a_completed_job_into_a_cancelled_one(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE)
    await job.execute(timeout_s=30)
    await job.cancel()
    assert job.state is JobState.COMPLETED and job.result is not None and job.completed


@pytest.mark.slow
async def test_cancel_while_queued_asks_the_server(make_emulator) -> None:
    emulator = make_emulator(latency=5.0)
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=ONE)
        await job.submit()
        await job.cancel()
        assert job.state is JobState.CANCELLED
        assert (await emulator.stats())["tasks"].get("CANCELLED") == 1
        await job.execute(timeout_s=30)  # cancel then execute: always a fresh submission
        assert job.completed and (await emulator.stats())["task_count"] == 2


async def test_reconfigure_accepts_only_public_settings(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE)
    with pytest.raises(AttributeError, match="_state"):
        job.reconfigure(_state=JobState.COMPLETED)
    with pytest.raises(AttributeError):
        job.reconfigure(program=BELL, _client=None)
    assert job.program == ONE and job.state is JobState.CREATED  # nothing changed


async def test_reconfigure_cancels_the_run_it_would_orphan(make_emulator) -> None:
    emulator = make_emulator(latency=5.0)
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=ONE)
        await job.submit()
        job.reconfigure(program=BELL)
        assert job.state is JobState.CREATED and job.result is None and job.error is None
        await sdk.close()  # waits for the scheduled cancel
        assert (await emulator.stats())["tasks"].get("CANCELLED") == 1


async def test_timeouts_are_real_deadlines_and_leave_a_resumable_job(make_emulator) -> None:
    emulator = make_emulator(latency=1.5)
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=ONE)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="Timed out waiting for task"):
            await job.execute(timeout_s=0.3)
        # The time is the point: the deadline holds within 0.5 s (the queue takes 1.5 s).
        assert time.monotonic() - started < 0.3 + 0.5
        assert job.state.is_active and job.task_id is not None
        task_id = job.task_id
        await job.execute(timeout_s=30)
        assert job.completed and job.task_id == task_id
        assert (await emulator.stats())["task_count"] == 1


async def test_diagnostics_are_fetched_on_request(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE, fetch_diagnostics=True)
    assert job.timings is None and job.metrics is None and job.metadata is None
    await job.execute(timeout_s=30)
    assert job.timings and job.metrics and job.metadata
    assert "optimized_circuit" in job.metrics
    plain = sdk.create_job(program=ONE)
    await plain.execute(timeout_s=30)
    assert plain.timings is None


async def test_reexecute_and_resubmit_from_an_output(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE)
    outputs = await job.execute(timeout_s=30)
    await outputs.first.reexecute()
    assert len(job.history) == 2 and job.completed
    resubmitted = await job.history.first.resubmit()
    assert resubmitted is job and job.state.is_active
    await job.wait(30)
    assert len(job.history) == 3


async def test_state_listeners_see_every_transition(sdk: OqcSdk) -> None:
    seen: list[tuple[str, str]] = []
    job = sdk.create_job(program=ONE)
    job.add_listener(lambda _job, old, new: seen.append((old.value, new.value)))
    await job.execute(timeout_s=30)
    assert seen[0] == ("CREATED", "SUBMITTED") and seen[-1][1] == "COMPLETED"


async def test_unknown_qpu_is_stored_as_an_error(sdk: OqcSdk) -> None:
    job = sdk.create_job(program=ONE, qpu_id="qpu:uk:9:0000000000")
    await job.execute(timeout_s=30)
    assert job.state is JobState.FAILED and job.error.error_code == 404
    assert "qpu:uk:9:0000000000" in job.error.error_message


async def test_create_job_without_qpu_explains_how_to_choose(emulator: Emulator) -> None:
    async with emulator.sdk(default_qpu_id=None) as sdk:
        with pytest.raises(ValueError, match="set_default_qpu"):
            sdk.create_job(program=ONE)
        qpus = await sdk.list_qpus()
        sdk.set_default_qpu(qpus[0]["id"])
        assert sdk.create_job(program=ONE).qpu_id == qpus[0]["id"]
