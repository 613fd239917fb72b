"""Job events, over HTTP against the in-process emulator: what a subscriber hears, in what order.

Faults sit between the engine and the emulator (:mod:`tests.engine.client_faults`); nothing is
patched. A run's events are read from a listener subscribed to the job (or the batch) before it
is submitted.
"""

from __future__ import annotations

import asyncio

import pytest

from oqc_provider.engine import CompositeJob, Job, JobEvent, JobEventKind, JobState, SubmissionIncomplete
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.polling import PollSchedule
from oqc_provider.engine.store import JobStore, job_id_of
from tests.engine.client_faults import Rule
from tests.engine.conftest import BAD, ONE, Emulator
from tests.engine.test_server_promises import faulty, session

K = JobEventKind


def record_events(job: Job | CompositeJob) -> list[JobEvent]:
    """Every event ``job`` publishes from now on, in order."""
    heard: list[JobEvent] = []
    job.events.subscribe(heard.append)
    return heard


def kinds(events: list[JobEvent]) -> list[JobEventKind]:
    return [event.kind for event in events]


def without_progress(events: list[JobEvent]) -> list[JobEventKind]:
    """The kinds, with the server's intermediate states (RUNNING, seen or not by polling) left out."""
    return [event.kind for event in events if event.kind is not K.STATE_CHANGED]


async def test_a_normal_run_is_created_allocated_submitted_then_finished(make_emulator) -> None:
    emulator: Emulator = make_emulator()
    async with session(emulator, faulty(emulator)) as sdk:
        job = sdk.create_job(program=ONE)
        assert isinstance(job, Job)
        events = record_events(job)
        await job.execute(timeout_s=30)
    assert without_progress(events) == [K.CREATED, K.ALLOCATED, K.SUBMITTED, K.FINISHED]
    created, allocated, submitted, *_, finished = events
    assert created.task_id is None and allocated.task_id == job.task_id == finished.task_id
    assert (submitted.old_state, submitted.new_state) == (JobState.CREATED, JobState.SUBMITTED)
    assert finished.new_state is JobState.COMPLETED and finished.job is job
    assert all(e.new_state is JobState.RUNNING for e in events if e.kind is K.STATE_CHANGED)
    assert [e.at for e in events] == sorted(e.at for e in events)


async def test_a_failing_task_ends_with_a_failed_event_carrying_the_servers_message(make_emulator) -> None:
    emulator: Emulator = make_emulator()
    async with session(emulator, faulty(emulator)) as sdk:
        job = sdk.create_job(program=BAD)
        events = record_events(job)
        await job.execute(timeout_s=30)
    assert job.state is JobState.FAILED
    assert without_progress(events) == [K.CREATED, K.ALLOCATED, K.SUBMITTED, K.FAILED]
    assert events[-1].detail == job.error.short


async def test_a_batch_forwards_each_childs_events_in_order(make_emulator) -> None:
    emulator: Emulator = make_emulator()
    async with session(emulator, faulty(emulator)) as sdk:
        batch = sdk.create_job(program=[ONE, BAD, ONE])
        assert isinstance(batch, CompositeJob)
        events = record_events(batch)
        await batch.execute(timeout_s=30)
    for index, child in enumerate(batch):
        own = [event for event in events if event.job is child]
        end = K.FAILED if index == 1 else K.FINISHED
        assert without_progress(own) == [K.CREATED, K.ALLOCATED, K.SUBMITTED, end], index
    # Every child is on record (CREATED) before any id is allocated, and has its id before any is sent.
    order = kinds(events)
    assert order[:3] == [K.CREATED] * 3 and order[3:6] == [K.ALLOCATED] * 3


async def test_a_cancel_ends_with_a_cancelled_event(make_emulator) -> None:
    emulator: Emulator = make_emulator(latency=30.0)  # the task stays queued until cancelled
    async with session(emulator, faulty(emulator)) as sdk:
        job = sdk.create_job(program=ONE)
        events = record_events(job)
        await job.submit()
        await job.cancel()
    assert without_progress(events) == [K.CREATED, K.ALLOCATED, K.SUBMITTED, K.CANCELLED]
    assert events[-1].old_state is JobState.SUBMITTED and job.state is JobState.CANCELLED


async def test_an_ambiguous_submit_is_uncertain_then_resolved_without_resending(make_emulator) -> None:
    """The submit's answer is lost and the server cannot be asked; later it is asked, never resent."""
    emulator: Emulator = make_emulator()
    faults = faulty(emulator, Rule("submit", "lost", phase="after"), Rule("status", "503", times=None))
    async with session(emulator, faults) as sdk:
        job = sdk.create_job(program=ONE)
        events = record_events(job)
        with pytest.raises(SubmissionIncomplete):
            await job.execute(timeout_s=1.0)
        assert kinds(events) == [K.CREATED, K.ALLOCATED, K.SUBMIT_UNCERTAIN]
        uncertain = events[-1]
        assert uncertain.old_state is uncertain.new_state is JobState.CREATED and uncertain.detail
        faults.rules.clear()
        events.clear()
        await job.execute(timeout_s=30)
    assert without_progress(events) == [K.CREATED, K.SUBMITTED, K.FINISHED]  # no second ALLOCATED
    assert faults.seen["submit"] == 1


async def test_a_listener_that_raises_breaks_neither_the_job_nor_other_listeners(
    make_emulator, caplog
) -> None:
    emulator: Emulator = make_emulator()
    async with session(emulator, faulty(emulator)) as sdk:
        job = sdk.create_job(program=ONE)

        def broken(_event: JobEvent) -> None:
            raise RuntimeError("a broken progress display")

        job.events.subscribe(broken)
        events = record_events(job)
        await job.execute(timeout_s=30)
    assert job.completed and kinds(events)[-1] is K.FINISHED
    assert "a broken progress display" in caplog.text


async def test_unsubscribing_stops_the_events(make_emulator) -> None:
    emulator: Emulator = make_emulator()
    async with session(emulator, faulty(emulator)) as sdk:
        job = sdk.create_job(program=ONE)
        heard: list[JobEvent] = []
        stop = job.events.subscribe(heard.append)
        await job.submit()
        stop()
        before = len(heard)
        await job.wait(timeout_s=30)
    assert job.completed and len(heard) == before == 3


async def test_a_failing_store_write_stops_the_submission_before_anything_is_sent(
    make_emulator, tmp_path
) -> None:
    """A recorder's error is not swallowed: a run that cannot be recorded is not sent."""
    emulator: Emulator = make_emulator()
    store = JobStore(tmp_path / "jobs")
    faults = faulty(emulator)
    async with session(emulator, faults, job_store=store) as sdk:
        job = sdk.create_job(program=ONE)
        store.root.rmdir()
        store.root.write_text("a file where the store's folder was")  # no entry can be written
        try:
            with pytest.raises(JobStoreError, match="Could not write job"):
                await job.submit()
        finally:
            store.root.unlink()
            store.root.mkdir()
        assert faults.seen["submit"] == 0 and faults.seen["allocate"] == 0
        assert job.state is JobState.CREATED
        await asyncio.wait_for(job.execute(timeout_s=30), 60)  # the bound only stops a hang
    assert job.completed and store.read(job_id_of(job)).state == "COMPLETED"


def test_a_recorder_that_fails_in_a_group_leaves_every_publisher_recording() -> None:
    """Unit: a failing write is raised once the group ends, and no group is left open by it."""
    from oqc_provider.engine.events import EventPublisher, grouped

    job, other = Job(ONE, "qpu:uk:2:d865b5a184"), Job(ONE, "qpu:uk:2:d865b5a184")
    writes: list[int] = []
    failing = [True]

    def flaky(events) -> None:
        if failing[0]:
            raise OSError("disk full")
        writes.append(len(events))

    job.events.add_recorder(flaky)
    other.events.add_recorder(lambda events: writes.append(-len(events)))
    publishers: list[EventPublisher] = [job.events, other.events]
    with pytest.raises(OSError, match="disk full"), grouped(publishers):
        job.begin_submission()
        other.begin_submission()
        assert writes == []  # held back until the group ends
    assert writes == [-1]  # the other publisher recorded despite the first one's failure
    failing[0] = False
    job.failed(ValueError("refused"))  # outside any group: recorded at once
    assert writes == [-1, 1]


class _ToldWhenSleeping(PollSchedule):
    """A schedule with a long gap that says when a wait is about to sleep it (a wait computes the
    gap, then sleeps without yielding in between)."""

    def gap(self, previous: float | None, elapsed: float, *, finished: int = 0) -> float:
        SLEEPING.set()
        return super().gap(previous, elapsed, finished=finished)


SLEEPING = asyncio.Event()


async def test_a_wait_wakes_when_a_job_it_follows_ends_elsewhere(make_emulator) -> None:
    """Waits subscribe to their jobs' events: a cancel from another coroutine ends a wait that is
    sleeping a 60 s gap at once, not at the next poll (the bound, 10 s, is 6 times under the gap)."""
    SLEEPING.clear()
    emulator: Emulator = make_emulator(latency=300.0)  # the task stays queued until cancelled
    schedule = _ToldWhenSleeping(first=60.0, factor=1.0, longest=60.0, floor=60.0)
    async with session(emulator, faulty(emulator), poll_schedule=schedule) as sdk:
        job = sdk.create_job(program=ONE)
        await job.submit()
        waiting = asyncio.create_task(job.wait(timeout_s=120))
        await SLEEPING.wait()  # the wait read the task once and now sleeps its gap
        await job.cancel()
        await asyncio.wait_for(waiting, 10)
    assert job.state is JobState.CANCELLED
