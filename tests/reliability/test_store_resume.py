"""The write-ahead job store for engine jobs: recorded before sending, found and resumed later.

Crash-like situations are made by abandoning a session mid-run and resuming from a new one on the
same store folder (the kill -9 version, with a real child process, is in test_benchmarks.py).
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import FaultPlan
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import CompositeJob, Job, JobState, OqcSdk
from oqc_provider.engine.errors import JobStoreError, SubmissionIncomplete
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.qcaas.retry import RetryPolicy
from tests.engine.client_faults import FaultyTransport
from tests.reliability.helpers import (
    FAST_POLL,
    LUCY_SIM,
    RESUBMIT_POLICIES,
    SHOTS,
    InProcess,
    assert_ran_once_each,
    program,
    serve_cli_emulator,
    served_stats,
    start_cli_emulator,
)


@pytest.fixture(params=RESUBMIT_POLICIES)
def policy(request) -> str:
    """Each test runs against a server that answers, refuses (409) or re-runs a re-submitted id."""
    return request.param


@pytest.fixture
def emulators(policy):
    made: list[InProcess] = []

    def make(**settings) -> InProcess:
        emulator = InProcess(**{"resubmit": policy, **settings})
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.close()


def submits(stats: dict) -> int:
    """Submit requests the emulator received, in either layout."""
    return sum(n for key, n in stats["requests"].items() if key.endswith("/tasks/submit"))


@pytest.mark.slow
async def test_an_engine_job_is_recorded_with_its_id_and_listed(emulators, tmp_path):
    emulator = emulators()
    store = JobStore(tmp_path / "jobs")
    async with emulator.sdk(job_store=store) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(3)], config=SHOTS)
        job_id = job_id_of(batch)
        assert job_id and batch.annotations["store"]["kind"] == "engine"
        assert not store.path_for(job_id).exists()  # nothing sent, nothing to record yet
        await batch.execute(timeout_s=30)
        [entry] = sdk.jobs()
    assert entry.job_id == job_id and entry.kind == "engine"
    assert entry.state == "COMPLETED" and entry.circuits == 3 and entry.shots == 20
    assert sdk.jobs(kind="qiskit") == []


async def test_ids_are_on_disk_before_the_submit_is_answered(emulators, tmp_path):
    """Every submit is dropped: the store still holds the pre-allocated ids, ready to resend."""
    plan = FaultPlan(rate=1.0, kinds=("drop",), phases=("before",), routes=frozenset({"submit"}))
    emulator = emulators(faults=plan)
    store = JobStore(tmp_path / "jobs")
    one_try = RetryPolicy(max_attempts=1, initial_wait=0.01, max_wait=0.02)
    async with emulator.sdk(job_store=store, retry=one_try) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(3)], config=SHOTS)
        with pytest.raises(SubmissionIncomplete):
            await batch.execute(timeout_s=10)
    saved = store.read(job_id_of(batch))
    assert [child.state for child in saved.jobs] == ["CREATED"] * 3
    assert [child.task_id for child in saved.jobs] == [job.task_id for job in batch]
    assert all(child.task_id for child in saved.jobs)


async def test_resume_fetches_what_reached_the_server_and_resends_nothing(emulators, tmp_path):
    emulator = emulators(latency=0.3)
    store = JobStore(tmp_path / "jobs")
    async with emulator.sdk(job_store=store) as first:
        batch = first.create_job(program=[program(i) for i in range(6)], config=SHOTS)
        await batch.submit()  # then the "process" goes away without waiting
        job_id = job_id_of(batch)
    before = await emulator.stats()
    async with emulator.sdk(job_store=store) as second:
        resumed = second.resume(job_id)
        assert isinstance(resumed, CompositeJob)
        assert [job.state for job in resumed] == [JobState.SUBMITTED] * 6
        await resumed.execute(timeout_s=30)
    after = await emulator.stats()
    assert resumed.completed and len(resumed.outputs) == 6
    assert submits(after) == submits(before) and after["submitted_task_count"] == 6
    assert_ran_once_each(after, 6)
    assert store.read(job_id).jobs[0].state == "COMPLETED"  # updated as it moved


async def test_resuming_a_finished_job_keeps_its_results_and_sends_nothing(emulators, tmp_path):
    emulator = emulators()
    store = JobStore(tmp_path / "jobs")
    async with emulator.sdk(job_store=store) as sdk:
        job = sdk.create_job(program=program(7), config=SHOTS)
        await job.execute(timeout_s=30)
    async with emulator.sdk(job_store=store) as sdk:
        resumed = sdk.resume(job_id_of(job))
        assert isinstance(resumed, Job)
        outputs = await resumed.execute(timeout_s=30)
        assert sdk.request_count == 1  # the health check of `async with`; the results are on disk
    assert resumed.task_id == job.task_id and outputs[0].data == job.result.data
    assert (await emulator.stats())["submitted_task_count"] == 1
    assert_ran_once_each(await emulator.stats(), 1)


async def test_resume_sends_the_never_sent_children_once(emulators, tmp_path):
    """A crash before anything was sent: resume submits each child exactly once."""
    emulator = emulators()
    store = JobStore(tmp_path / "jobs")
    sdk = emulator.sdk(job_store=store)
    batch = sdk.create_job(program=[program(i) for i in range(4)], config=SHOTS)
    batch.submit().close()  # submit() records the batch when called; closed, it sends nothing
    async with emulator.sdk(job_store=store) as second:
        resumed = second.resume(job_id_of(batch))
        await resumed.execute(timeout_s=30)
    assert resumed.completed
    assert (await emulator.stats())["submitted_task_count"] == 4
    assert_ran_once_each(await emulator.stats(), 4)


async def test_damaged_store_entries_are_reported_and_skipped(emulators, tmp_path, caplog):
    emulator = emulators()
    store = JobStore(tmp_path / "jobs")
    async with emulator.sdk(job_store=store) as sdk:
        good = sdk.create_job(program=program(1), config=SHOTS)
        await good.execute(timeout_s=30)
    text = store.path_for(job_id_of(good)).read_text()
    (store.root / "half-written.json").write_text(text[: len(text) // 2])
    (store.root / "not-json.json").write_text("this is not JSON")
    (store.root / "wrong-kind.json").write_text(json.dumps({"schema_version": "1", "snapshot_kind": "x"}))
    (store.root / "future.json").write_text(json.dumps({**json.loads(text), "schema_version": "99"}))
    # Readable JSON of the wrong types: the store's record is what listings read.
    document = json.loads(text)
    record = document["annotations"]["store"]
    for name, damaged in {"int-created": {**record, "created": 5}, "list-record": [record]}.items():
        (store.root / f"{name}.json").write_text(
            json.dumps({**document, "annotations": {**document["annotations"], "store": damaged}})
        )
    (store.root / "nested.json").write_text('{"a": ' * 50_000 + "0" + "}" * 50_000)
    sdk = emulator.sdk(job_store=store)
    with caplog.at_level(logging.WARNING, logger="oqc_provider.engine"):
        entries = sdk.jobs()
    assert [entry.job_id for entry in entries] == [job_id_of(good)]
    for name in ("half-written", "not-json", "wrong-kind", "future", "int-created", "list-record", "nested"):
        assert f"{name}.json" in caplog.text
        with pytest.raises(JobStoreError, match="damaged"):
            sdk.resume(name)
    assert sdk.resume(job_id_of(good)).completed  # the good entry is untouched


async def test_the_store_can_be_turned_off(emulators, tmp_path):
    emulator = emulators()
    async with emulator.sdk(job_store=False) as sdk:
        job = sdk.create_job(program=program(1), config=SHOTS)
        await job.execute(timeout_s=30)
        assert job_id_of(job) is None and sdk.jobs() == []
        with pytest.raises(JobStoreError, match="no job store"):
            sdk.resume("anything")


async def test_the_default_store_lives_under_the_provider_home(emulators, _isolated_provider_home):
    emulator = emulators()
    async with emulator.sdk() as sdk:
        job = sdk.create_job(program=program(1), config=SHOTS)
        await job.execute(timeout_s=30)
    assert (_isolated_provider_home / "jobs" / f"{job_id_of(job)}.json").is_file()


async def polled(watched: FaultyTransport, run: asyncio.Task) -> None:
    """Wait (with a deadline) until the engine has read a task's state at least once."""
    deadline = asyncio.get_running_loop().time() + 20
    while not watched.seen["all_info"]:
        assert not run.done(), run
        assert asyncio.get_running_loop().time() < deadline, "the engine never polled"
        await asyncio.sleep(0.01)


async def test_polling_survives_an_emulator_restart_on_the_same_database(tmp_path):
    db = tmp_path / "emulator.sqlite3"
    first = serve_in_thread(EmulatorSettings(db_path=db, latency=1.0))
    url = first.__enter__()
    port = int(url.rsplit(":", 1)[1])  # the restart takes the same port, freed by the first server
    patient = RetryPolicy(max_attempts=10, initial_wait=0.1, max_wait=0.5)
    try:
        watched = FaultyTransport(httpx.AsyncHTTPTransport())  # no rules: it only counts
        sdk = OqcSdk(
            url,
            "t",
            default_qpu_id=LUCY_SIM,
            retry=patient,
            poll_schedule=FAST_POLL,
            job_store=False,
            transport=watched,
        )
        async with sdk:
            batch = sdk.create_job(program=[program(i) for i in range(5)], config=SHOTS)
            await batch.submit()
            run = asyncio.create_task(batch.execute(timeout_s=60))
            await polled(watched, run)  # the poll loop has read a task before the server goes away
            await asyncio.to_thread(first.__exit__, None, None, None)
            second = serve_in_thread(EmulatorSettings(db_path=db, latency=0.1), port=port)
            assert await asyncio.to_thread(second.__enter__) == url
            try:
                await run
                stats = served_stats(url)
            finally:
                await asyncio.to_thread(second.__exit__, None, None, None)
    finally:
        first.__exit__(None, None, None)
    assert batch.completed and batch.state is JobState.COMPLETED
    assert stats["submitted_task_count"] == 5


@pytest.mark.slow
async def test_polling_survives_a_cli_emulator_killed_and_restarted(tmp_path):
    """The emulator process dies (SIGKILL) mid-poll; a new one on the same --db finishes the job."""
    db = tmp_path / "cli.sqlite3"
    server, url = await asyncio.to_thread(serve_cli_emulator, "--db", str(db), "--latency", "1.0")
    port = int(url.rsplit(":", 1)[1])  # the restart takes the same port, freed by the killed server
    patient = RetryPolicy(max_attempts=10, initial_wait=0.1, max_wait=0.5)
    watched = FaultyTransport(httpx.AsyncHTTPTransport())  # no rules: it only counts
    try:
        sdk = OqcSdk(
            f"http://127.0.0.1:{port}",
            "t",
            default_qpu_id=LUCY_SIM,
            retry=patient,
            poll_schedule=FAST_POLL,
            job_store=JobStore(tmp_path / "jobs"),
            transport=watched,
        )
        async with sdk:
            batch = sdk.create_job(program=[program(i) for i in range(5)], config=SHOTS)
            await batch.submit()
            run = asyncio.create_task(batch.execute(timeout_s=60))
            await polled(watched, run)  # the poll loop has read a task; the tasks are still queued
            server.kill()
            server.wait()
            server = await asyncio.to_thread(start_cli_emulator, port, "--db", str(db), "--latency", "0.1")
            await run
        stats = served_stats(f"http://127.0.0.1:{port}")
    finally:
        server.kill()
        server.wait()
    assert batch.completed
    assert stats["submitted_task_count"] == 5
