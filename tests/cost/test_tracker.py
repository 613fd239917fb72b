"""Cost while running, and a budget that holds: Tracker and max_cost on every front end and the engine.

Every count of what reached the server is read from the emulator over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pytket.circuit import Circuit

from oqc_provider import BudgetExceededError, PriceNotPublishedError, Tracker
from oqc_provider.engine import JobState, OqcSdk, SyncSdk
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit import OQCBackend, OQCProvider
from tests.cost.conftest import LUCY, LUCY_SIM, TOKEN, Served, bell, task_cost

ONE = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


@pytest.fixture
def lucy_sim(provider: OQCProvider) -> OQCBackend:
    return provider.get_backend("Lucy Simulator")


@pytest.fixture
def tket(served: Served, tmp_path: Path) -> Iterator[OQCTketBackend]:
    with OQCTketBackend("Lucy Simulator", served.url, TOKEN, job_store=tmp_path / "tket") as backend:
        yield backend


@pytest.fixture
def engine(served: Served) -> Iterator[SyncSdk]:
    with SyncSdk(url=served.url, authentication_token=TOKEN, default_qpu_id=LUCY_SIM, job_store=False) as sdk:
        yield sdk


def test_a_tracker_reports_what_the_estimates_said_for_qiskit_pytket_and_the_engine(
    lucy_sim: OQCBackend, tket: OQCTketBackend, engine: SyncSdk
) -> None:
    circuits = [bell(lucy_sim)] * 2
    tk_circuits = [tket.get_compiled_circuit(Circuit(1).X(0).measure_all())] * 3
    expected = (
        lucy_sim.estimate_cost(circuits, shots=200).total
        + tket.estimate_cost(tk_circuits, n_shots=[10, 20, 30]).total  # type: ignore[operator]
        + engine.run(engine.sdk.estimate_cost(engine.create_job(program=[ONE, ONE]))).total  # type: ignore[operator]
    )
    with Tracker() as tracker:
        job = lucy_sim.run(circuits, shots=200)  # submitted on the engine's loop thread
        handles = tket.process_circuits(tk_circuits, n_shots=[10, 20, 30])
        composite = engine.create_job(program=[ONE, ONE])
        engine.execute(composite, timeout_s=60)
    job.result()  # completes after the block: still counted as completed
    tket.get_results(handles)
    assert tracker.cost == expected == 7 * Decimal("0.35") + Decimal("0.00035") * (400 + 60 + 2000)
    assert (tracker.tasks_submitted, tracker.shots_submitted) == (7, 2460)
    assert (tracker.tasks_completed, tracker.shots_completed) == (7, 2460)
    assert tracker.cost_completed == expected
    assert set(tracker.qpus()) == {LUCY_SIM}
    # The jobs recorded their estimates too.
    assert job.estimated_cost == 2 * task_cost(200)
    assert composite.estimated_cost == 2 * task_cost(1000)


def test_trackers_nest(lucy_sim: OQCBackend) -> None:
    circuit = bell(lucy_sim)
    with Tracker() as outer:
        first = lucy_sim.run(circuit, shots=100)
        with Tracker() as inner:
            second = lucy_sim.run(circuit, shots=300)
        first.result(), second.result()
    lucy_sim.run(circuit, shots=50).result()  # after both: counted in neither
    assert inner.cost == task_cost(300) and inner.tasks_completed == 1
    assert outer.cost == task_cost(100) + task_cost(300) and outer.tasks_completed == 2


async def test_an_async_tracker_follows_tasks_it_starts(served: Served) -> None:
    sdk = OqcSdk(url=served.url, authentication_token=TOKEN, job_store=False)
    async with sdk, Tracker() as tracker:
        jobs = [sdk.create_job(program=ONE, qpu_id=LUCY_SIM) for _ in range(3)]
        await asyncio.gather(*(job.execute(timeout_s=60) for job in jobs))
    assert tracker.tasks_completed == 3
    assert tracker.cost == 3 * task_cost(1000)


def test_a_budget_refuses_the_run_that_would_cross_it_and_keeps_what_ran(
    lucy_sim: OQCBackend, provider: OQCProvider, served: Served
) -> None:
    circuit = bell(lucy_sim)
    with Tracker(budget=task_cost(100) * 2 + Decimal("0.1")) as tracker:
        first = lucy_sim.run([circuit, circuit], shots=100)
        sent = served.submitted()
        stored = len(provider.job_store.list())
        with pytest.raises(BudgetExceededError) as refused:
            lucy_sim.run(circuit, shots=100)
    message = str(refused.value)
    assert str(task_cost(100)) in message  # the estimate
    assert str(tracker.budget) in message and str(task_cost(100) * 2) in message  # budget, spent
    assert "Nothing was sent" in message and "Tracker(budget=...)" in message
    assert refused.value.estimate == task_cost(100) and refused.value.spent == task_cost(100) * 2
    assert served.submitted() == sent  # the refused run reached nothing
    assert len(provider.job_store.list()) == stored  # and left no record
    assert sum(first.result().get_counts(0).values()) == 100  # the earlier run completes
    assert tracker.tasks_completed == 2 and tracker.remaining == Decimal("0.1")


def test_a_budget_refuses_on_pytket_and_the_engine_too(
    tket: OQCTketBackend, engine: SyncSdk, served: Served
) -> None:
    circuit = tket.get_compiled_circuit(Circuit(1).X(0).measure_all())
    with Tracker(budget=task_cost(10)):
        handle = tket.process_circuit(circuit, n_shots=10)
        sent = served.submitted()
        with pytest.raises(BudgetExceededError):
            tket.process_circuit(circuit, n_shots=10)
        job = engine.create_job(program=ONE)
        with pytest.raises(BudgetExceededError):
            engine.execute(job, timeout_s=60)
        assert served.submitted() == sent
        assert job.state is JobState.CREATED and job.task_id is None
    assert tket.get_result(handle).get_counts()[(1,)] == 10


def test_max_cost_refuses_a_run_estimated_above_it(
    lucy_sim: OQCBackend, tket: OQCTketBackend, served: Served
) -> None:
    circuit = bell(lucy_sim)
    sent = served.submitted()
    below = task_cost(100) - Decimal("0.00001")
    with pytest.raises(BudgetExceededError, match="max_cost"):
        lucy_sim.run(circuit, shots=100, max_cost=below)
    with pytest.raises(BudgetExceededError, match="max_cost"):
        tket.process_circuit(tket.get_compiled_circuit(Circuit(1).measure_all()), n_shots=100, max_cost=below)
    assert served.submitted() == sent
    assert lucy_sim.run(circuit, shots=100, max_cost=str(task_cost(100))).result().success
    with pytest.raises(ConfigurationError, match="max_cost"):
        lucy_sim.run(circuit, shots=100, max_cost="lots")


@pytest.mark.slow
def test_an_unknown_price_is_refused_under_a_budget_unless_allowed(
    provider: OQCProvider, served: Served
) -> None:
    lucy = provider.get_backend("Lucy")  # the registry publishes no price for it
    circuit = bell(lucy)
    sent = served.submitted()
    with Tracker(budget="100"), pytest.raises(PriceNotPublishedError, match="allow_unpriced=True"):
        lucy.run(circuit, shots=10)
    with pytest.raises(PriceNotPublishedError, match=LUCY):
        lucy.run(circuit, shots=10, max_cost="100")
    assert served.submitted() == sent
    with Tracker(budget="100", allow_unpriced=True) as tracker:
        job = lucy.run(circuit, shots=10)
    assert sum(job.result().get_counts().values()) == 10
    assert tracker.unpriced_tasks == 1 and tracker.cost is None and tracker.spent == Decimal(0)
    assert job.estimated_cost is None


def test_a_budget_must_be_a_number_of_credits() -> None:
    with pytest.raises(ConfigurationError, match="budget"):
        Tracker(budget="ten")
    with pytest.raises(ConfigurationError, match="budget"):
        Tracker(budget=-1)


def test_a_task_that_never_left_is_taken_back_out_of_the_tally(engine: SyncSdk, served: Served) -> None:
    too_large = "// " + "x" * (130 * 1024) + "\n" + ONE  # over the service's 128 KiB: never sent
    sent = served.submitted()
    with Tracker(budget=task_cost(1000)) as tracker:
        job = engine.create_job(program=too_large)
        engine.execute(job, timeout_s=60)
        assert job.state is JobState.FAILED
        assert tracker.tasks_submitted == 0 and tracker.spent == Decimal(0)
        # So the budget is whole again for a task that does run.
        engine.execute(engine.create_job(program=ONE), timeout_s=60)
    assert tracker.tasks_completed == 1 and tracker.remaining == Decimal(0)
    assert served.submitted() == sent + 1
