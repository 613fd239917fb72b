"""Submission cannot duplicate: under faults, every program is executed once by the server.

Each test runs the engine against an emulator that fails requests on purpose (seeded), under
each of the three things a server may do with a re-submitted id (answer it, refuse it with 409,
run it again), then counts executions through ``/_emulator/stats`` (runs, not ids: under
``rerun`` a duplicate submit shows as a second execution of the same id).
"""

from __future__ import annotations

import pytest

from oqc_provider.emulator.faults import NETWORK_KINDS, FaultPlan
from oqc_provider.engine import CompositeJob, JobState
from oqc_provider.engine.errors import SubmissionIncomplete
from oqc_provider.qcaas.retry import RetryPolicy
from tests.engine.client_faults import FaultyTransport, Rule
from tests.reliability.helpers import (
    RESUBMIT_POLICIES,
    SHOTS,
    TOSHIKO_SIM,
    InProcess,
    assert_ran_once_each,
    program,
)

LUCY = "qpu:uk:2:d865b5a184"
ONE_TRY = RetryPolicy(max_attempts=1, initial_wait=0.01, max_wait=0.02)


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


@pytest.mark.slow
async def test_a_batch_under_thirty_percent_faults_completes_once_each(emulators):
    plan = FaultPlan(rate=0.3, seed=5, kinds=NETWORK_KINDS, slow_seconds=0.01, retry_after=0.01)
    emulator = emulators(faults=plan, seed=3)
    # Patient enough that no request fails for good (0.3**10 per request): the property under
    # test is "no duplicates", not the retry budget.
    patient = RetryPolicy(max_attempts=10, initial_wait=0.005, max_wait=0.02)
    async with emulator.sdk(job_store=False, retry=patient) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(60)], config=SHOTS)
        assert isinstance(batch, CompositeJob)
        await batch.execute(timeout_s=60)
        retries = sdk.retry_count
    stats = await emulator.stats()
    assert batch.completed, [job.error for job in batch.failed_jobs]
    assert all(sum(job.result.data["c"].values()) == 20 for job in batch)
    assert stats["submitted_task_count"] == 60
    assert_ran_once_each(stats, 60)
    assert stats["faults"]["total"] > 0 and retries > 0


@pytest.mark.parametrize("kind", ["garbled", "shape"])
async def test_a_submit_answered_200_unreadably_after_the_server_stored_it_runs_once(emulators, kind):
    """The emulator stores the tasks, then answers 200 with a body the client cannot read: an
    answer, not a refusal; the engine asks about the ids and never sends them again."""
    plan = FaultPlan(rate=1.0, kinds=(kind,), phases=("after",), routes=frozenset({"submit"}), limit=1)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False, retry=ONE_TRY) as sdk:
        job = sdk.create_job(program=program(1), config=SHOTS)
        await job.execute(timeout_s=30)
    assert job.completed and len(job.history) == 1, job
    stats = await emulator.stats()
    assert stats["faults"]["injected"] == {kind: 1}
    assert_ran_once_each(stats, 1)


async def test_a_submit_that_fails_after_the_server_stored_it_is_not_sent_again(emulators):
    """Retries exhausted on an ambiguous 503: the engine asks the server, which knows the ids."""
    plan = FaultPlan(rate=1.0, kinds=("503",), phases=("after",), routes=frozenset({"submit"}), limit=1)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False, retry=ONE_TRY) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(5)], config=SHOTS)
        ids_before = [job.task_id for job in batch]
        await batch.execute(timeout_s=30)
    assert batch.completed
    assert all(len(job.history) == 1 for job in batch)  # never failed, never re-run
    stats = await emulator.stats()
    assert stats["faults"]["by_route"] == {"submit:after": 1}
    assert stats["submitted_task_count"] == 5
    assert_ran_once_each(stats, 5)
    assert ids_before == [None] * 5 and all(job.task_id for job in batch)


async def test_a_submit_that_never_arrives_keeps_its_ids_and_is_resent_with_them(emulators):
    # Every submit round of the first execute() is dropped before the server acts on it.
    plan = FaultPlan(rate=1.0, kinds=("drop",), phases=("before",), routes=frozenset({"submit"}), limit=3)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False, retry=ONE_TRY) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(4)], config=SHOTS)
        with pytest.raises(SubmissionIncomplete, match="send them safely") as info:
            await batch.execute(timeout_s=30)
        assert len(info.value.jobs) == 4
        assert all(job.state is JobState.CREATED and job.task_id for job in batch)
        kept = [job.task_id for job in batch]
        assert (await emulator.stats())["submitted_task_count"] == 0
        await batch.execute(timeout_s=30)  # the plan's limit is spent: this one goes through
    assert batch.completed
    assert [job.task_id for job in batch] == kept  # the same ids, not new ones
    assert (await emulator.stats())["submitted_task_count"] == 4
    assert_ran_once_each(await emulator.stats(), 4)


@pytest.mark.slow
async def test_a_mixed_outcome_marks_only_the_known_ids_submitted(emulators):
    """Two submit requests (one per QPU) fail alike to the client: one landed, one never arrived.

    The engine asks the server about every id: the landed ones are polled, only the others are
    sent again (a third submit request), and each program runs once whatever the server does
    with a re-submitted id.
    """
    emulator = emulators()
    faults = FaultyTransport(
        emulator.transport(),
        [Rule("submit", "lost", phase="after"), Rule("submit", "lost", phase="before", skip=1)],
    )
    async with emulator.sdk(job_store=False, retry=ONE_TRY, transport=faults) as sdk:
        batch = sdk.create_job(
            program=[program(i) for i in range(6)], qpu_id=[LUCY] * 3 + [TOSHIKO_SIM] * 3, config=SHOTS
        )
        await batch.execute(timeout_s=30)
    assert batch.completed and all(len(job.history) == 1 for job in batch)
    assert faults.injected == {"submit:lost:after": 1, "submit:lost:before": 1}
    assert faults.seen["submit"] == 3  # two first sends, then only the chunk that never arrived
    assert faults.seen["status"] == 6  # every id was asked about before anything was resent
    assert_ran_once_each(await emulator.stats(), 6)


async def test_a_definitive_rejection_fails_the_jobs_and_a_later_run_gets_fresh_ids(emulators):
    plan = FaultPlan(rate=1.0, kinds=("401",), phases=("before",), routes=frozenset({"submit"}), limit=1)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False, retry=ONE_TRY) as sdk:
        job = sdk.create_job(program=program(1), config=SHOTS)
        await job.execute(timeout_s=30)
        assert job.state is JobState.FAILED and job.error.error_code == 401
        assert "expired" in job.error.error_message
        first_id = job.task_id
        await job.execute(timeout_s=30)  # rejected before it was stored: a fresh run is safe
    assert job.completed and job.task_id != first_id
    assert (await emulator.stats())["submitted_task_count"] == 1
    assert_ran_once_each(await emulator.stats(), 1)


async def test_a_rejection_after_the_server_stored_the_task_does_not_fail_it(emulators):
    """Even a 4xx is checked against the server before a job is declared FAILED."""
    plan = FaultPlan(rate=1.0, kinds=("401",), phases=("after",), routes=frozenset({"submit"}), limit=1)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False, retry=ONE_TRY) as sdk:
        job = sdk.create_job(program=program(1), config=SHOTS)
        await job.execute(timeout_s=30)
    assert job.completed and len(job.history) == 1
    assert (await emulator.stats())["submitted_task_count"] == 1
    assert_ran_once_each(await emulator.stats(), 1)


@pytest.mark.slow
async def test_every_circuit_runs_once_even_when_no_submit_is_ever_answered(emulators):
    """Every submit answer is lost, half of them after the server stored the tasks."""
    kinds = ("500", "502", "503", "429", "drop")
    plan = FaultPlan(rate=1.0, seed=9, kinds=kinds, routes=frozenset({"submit"}), retry_after=0.01)
    emulator = emulators(faults=plan)
    async with emulator.sdk(job_store=False) as sdk:
        batch = sdk.create_job(program=[program(i) for i in range(40)], config=SHOTS)
        run = batch.execute
        for _ in range(10):  # each round leaves fewer unsent ids; they are resent, never renewed
            try:
                await run(timeout_s=30)
                break
            except SubmissionIncomplete:
                run = batch.wait
    stats = await emulator.stats()
    assert batch.completed
    assert stats["submitted_task_count"] == 40
    assert_ran_once_each(stats, 40)
    assert stats["faults"]["by_route"].get("submit:after", 0) > 0
