"""Property-based: whatever breaks, no program runs twice and no job is lost or falsely ended.

Hypothesis draws a fault plan (route x before/after x 5xx/429/404/drop/slow/lost answer/expired
token/200 with an unreadable body/200 with an unexpected shape, each breaking one, two or every
matching request), a queue latency, what the server does
with a re-submitted id (answer it, refuse it with 409, run it again), a deadline and a point at
which the process is "killed" (its ``execute()`` task cancelled mid-flight). The faults sit between
the engine and an in-process emulator (:mod:`tests.engine.client_faults`). A second session then
resumes the job from the local job store over a clean connection.

Invariants:

* every program is executed at most once by the server (executions counted, not ids), and
  exactly the completed ones were executed;
* after the first call every job is COMPLETED, FAILED with the server's message (its code, never
  the local -1 of an error decided without an answer), or still active
  and resumable from the store; after the resume every job has ended;
* the first call returns within 0.5 s of its deadline (less any time the machine stalled every
  thread, measured by a watcher thread alongside: a loop the engine blocks is not forgiven).

CI runs 210 examples (70 per policy) in about a minute; ``benchmarks/soak.py --properties N``
runs the same property for longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oqc_provider.engine import CompositeJob, Job, JobState
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.qcaas.retry import RetryPolicy
from tests.engine.client_faults import KINDS, ROUTES, FaultyTransport, Rule
from tests.reliability.helpers import RESUBMIT_POLICIES, SHOTS, InProcess, program

pytestmark = pytest.mark.slow

#: Two tries per request, quickly: the faults, not the retry budget, are under test.
QUICK_RETRY = RetryPolicy(max_attempts=2, initial_wait=0.005, max_wait=0.02, max_retry_after=0.05)
#: Seconds past the deadline a call may return (the issue's bound).
DEADLINE_MARGIN = 0.5

rules = st.builds(
    Rule,
    route=st.sampled_from(ROUTES),
    kind=st.sampled_from(KINDS),
    phase=st.sampled_from(("before", "after")),
    times=st.sampled_from((1, 2, None)),
    skip=st.integers(0, 2),
)


@dataclass
class Scenario:
    policy: str
    programs: int
    latency: float
    rules: list[Rule]
    timeout: float
    kill_after: int | None


scenarios = st.builds(
    Scenario,
    policy=st.just("idempotent"),  # replaced per test below
    programs=st.integers(1, 3),
    latency=st.sampled_from((0.0, 0.05, 0.2)),
    rules=st.lists(rules, max_size=3),
    timeout=st.sampled_from((0.3, 0.6)),
    kill_after=st.one_of(st.none(), st.integers(1, 12)),
)


class MachineStall:
    """The longest time a watcher thread woke up late while watched: a stalled machine.

    A thread, not a task on the event loop: a loop the engine itself blocks (slow code between two
    awaits) must count against the engine, and only a machine that starves every thread alike (a
    loaded CI host, a native call holding the GIL) is forgiven. The watcher holds the GIL for
    microseconds a tick, so it does not slow the engine.
    """

    TICK = 0.02

    def __init__(self) -> None:
        self.worst = 0.0
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="machine-stall", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._since = time.monotonic()
            time.sleep(self.TICK)
            self.worst = max(self.worst, time.monotonic() - self._since - self.TICK)

    def settle(self) -> float:
        """The worst stall so far, counting the one the watcher has not woken from yet; stops it."""
        self._stop.set()
        return max(self.worst, time.monotonic() - self._since - self.TICK)


async def first_session(emulator: InProcess, store: JobStore, case: Scenario) -> tuple[Any, float | None]:
    """Run the job once under faults; returns it and the call's time (None when killed)."""
    faults = FaultyTransport(
        emulator.transport(), case.rules, slow_seconds=0.2, after_requests=case.kill_after
    )
    async with emulator.sdk(job_store=store, retry=QUICK_RETRY, transport=faults) as sdk:
        programs = [program(i) for i in range(case.programs)]
        job = sdk.create_job(program=programs if case.programs > 1 else programs[0], config=SHOTS)
        stall = MachineStall()
        started = time.monotonic()
        run = asyncio.create_task(job.execute(timeout_s=case.timeout))
        if case.kill_after is not None:
            killed = asyncio.create_task(faults.reached.wait())
            await asyncio.wait({run, killed}, return_when=asyncio.FIRST_COMPLETED)
            killed.cancel()
            if not run.done():
                run.cancel()  # the process dies here: nothing after this point runs
                await asyncio.gather(run, return_exceptions=True)
                stall.settle()
                return job, None
        with contextlib.suppress(TimeoutError):  # still active: any of the engine's timeouts
            await run
        took = time.monotonic() - started
        stalled = stall.settle()
        # A machine that starves every thread alike (a loaded CI host) delays the engine too: that
        # stall is not the engine's. A loop the engine blocks is (the watcher thread runs on).
        return job, took - stalled


def children(job: Job | CompositeJob) -> list[Job]:
    return list(job.jobs) if isinstance(job, CompositeJob) else [job]


#: The code a job's error carries when it was decided locally, without an answer from the server.
LOCAL_ERROR_CODE = -1


def assert_ended_well(job: Job) -> None:
    """COMPLETED, or FAILED with the server's message (never a local guess: no local error code)."""
    assert job.state in (JobState.COMPLETED, JobState.FAILED), job
    if job.state is JobState.FAILED:
        assert job.error is not None and job.error.error_message, job
        assert job.error.error_code not in (None, LOCAL_ERROR_CODE), (job.error, job)


async def check(case: Scenario, root: Path) -> None:
    emulator = InProcess(latency=case.latency, resubmit=case.policy, seed=1)
    try:
        store = JobStore(root)
        job, took = await first_session(emulator, store, case)
        if took is not None:
            assert took <= case.timeout + DEADLINE_MARGIN, (took, case)
        for child in children(job):
            if child.state.is_terminal:  # else still active, resumed from the store below
                assert_ended_well(child)
        job_id = job_id_of(job)
        async with emulator.sdk(job_store=store, retry=QUICK_RETRY) as second:
            try:
                resumed = second.resume(job_id) if job_id else None
            except JobStoreError:
                resumed = None  # killed before anything was recorded: nothing may have run
            if resumed is not None:
                await resumed.execute(timeout_s=120)  # clean: it ends long before
                for child in children(resumed):
                    assert_ended_well(child)
        stats = await emulator.stats()
        assert stats["queued_more_than_once"] == [], (stats, case)
        completed = sum(child.state is JobState.COMPLETED for child in children(resumed)) if resumed else 0
        assert stats["submissions"] == completed, (stats["submissions"], completed, case)
    finally:
        emulator.close()


def run_property(policy: str, case: Scenario, root: Path) -> None:
    case.policy = policy
    asyncio.run(check(case, root))


PROPERTY_SETTINGS = settings(
    max_examples=70,
    deadline=None,
    derandomize=True,  # the same examples in every CI run; the soak explores new ones
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


@pytest.mark.parametrize("policy", RESUBMIT_POLICIES)
@PROPERTY_SETTINGS
@given(case=scenarios)
def test_no_program_runs_twice_and_every_job_ends_or_resumes(
    policy: str, case: Scenario, tmp_path_factory
) -> None:
    run_property(policy, case, tmp_path_factory.mktemp("jobs"))
