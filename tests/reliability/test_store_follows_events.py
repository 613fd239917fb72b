"""Property-based: the job store holds the live job's state after every settled change, whatever breaks.

Hypothesis draws a job (one program or a batch), faults between the engine and an in-process
emulator (:mod:`tests.engine.client_faults`), a queue latency and a sequence of calls (execute,
submit, refresh, wait, cancel) with short deadlines. A recorder subscribed to the job's events
after the store's (so it runs right after each of the store's writes) loads the entry from the
store and compares it with the live job's snapshot; a listener hears every event.

Invariants:

* at every write, the stored entry equals the live job's snapshot, and it was made for exactly the
  events heard since the previous write (no event goes unrecorded, none is recorded twice);
* after every call, whatever it raised, every event heard has been recorded and the entry equals
  the live job (``refresh()`` records like every other transition);
* every run is written before its first request (the first write comes before any request).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oqc_provider.engine import CompositeJob, Job, JobEvent
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.errors import OqcProviderError
from tests.engine.client_faults import ROUTES, FaultyTransport, Rule
from tests.reliability.helpers import SHOTS, InProcess, program
from tests.reliability.test_engine_properties import QUICK_RETRY
from tests.reliability.test_engine_properties import rules as fault_rules

CALLS = ("execute", "submit", "refresh", "wait", "cancel")

#: The fault rules of the engine property test, less "slow" (a slow answer only costs time here).
rules = fault_rules.filter(lambda rule: rule.kind != "slow")


@dataclass
class Scenario:
    programs: int
    latency: float
    rules: list[Rule]
    calls: list[str]


scenarios = st.builds(
    Scenario,
    programs=st.integers(1, 3),
    latency=st.sampled_from((0.0, 0.1)),
    rules=st.lists(rules, max_size=2),
    calls=st.lists(st.sampled_from(CALLS), min_size=1, max_size=4),
)


class Mirror:
    """Checks, at each of the store's writes, that the entry equals the live job."""

    def __init__(self, store: JobStore, job: Job | CompositeJob, faults: FaultyTransport) -> None:
        self.store, self.job, self.faults = store, job, faults
        self.heard: list[JobEvent] = []
        self.recorded: list[JobEvent] = []
        self.requests_before_first_write: int | None = None
        job.events.subscribe(self.heard.append)
        job.events.add_recorder(self.on_write)  # after the store's own: runs right after it wrote

    def on_write(self, events: Sequence[JobEvent]) -> None:
        if self.requests_before_first_write is None:
            self.requests_before_first_write = sum(
                n for route, n in self.faults.seen.items() if route in ROUTES
            )
        assert list(events) == self.heard[len(self.recorded) :], "events recorded out of turn"
        self.recorded.extend(events)
        self.assert_mirrors()

    def assert_mirrors(self) -> None:
        job_id = job_id_of(self.job)
        assert job_id is not None
        stored = self.store.read(job_id).model_dump()
        live = self.job.to_snapshot().model_dump()
        assert stored == live

    def assert_settled(self) -> None:
        assert self.recorded == self.heard, "an event was heard but never recorded"
        if self.recorded:
            self.assert_mirrors()


async def call(job: Job | CompositeJob, name: str) -> None:
    with contextlib.suppress(TimeoutError, OqcProviderError):  # every outcome the engine may raise
        if name == "execute":
            await job.execute(timeout_s=0.4)
        elif name == "submit":
            await job.submit(timeout_s=0.4)
        elif name == "refresh":
            if isinstance(job, CompositeJob) or job.task_id is not None:
                await job.refresh()
        elif name == "wait":
            await job.wait(timeout_s=0.4)
        else:
            await job.cancel()


async def check(case: Scenario, root: Path) -> None:
    emulator = InProcess(latency=case.latency, seed=1)
    try:
        store = JobStore(root)
        faults = FaultyTransport(emulator.transport(), case.rules)
        async with emulator.sdk(job_store=store, retry=QUICK_RETRY, transport=faults) as sdk:
            programs: Any = [program(i) for i in range(case.programs)]
            job = sdk.create_job(program=programs if case.programs > 1 else programs[0], config=SHOTS)
            mirror = Mirror(store, job, faults)
            for name in case.calls:
                await call(job, name)
                mirror.assert_settled()
            # Write-ahead: no request about the job left before its first write.
            assert mirror.requests_before_first_write in (None, 0), mirror.requests_before_first_write
    finally:
        emulator.close()


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(case=scenarios)
def test_the_store_mirrors_the_live_job_after_every_change(case: Scenario, tmp_path_factory) -> None:
    asyncio.run(check(case, tmp_path_factory.mktemp("mirror")))
