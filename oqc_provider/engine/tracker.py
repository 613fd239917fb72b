"""``Tracker``: what is spent while code runs, per QPU, and a budget that refuses before sending.

``with Tracker() as tracker:`` counts every task submitted inside the block, by any front end (Qiskit,
pytket, the CLI) or the engine itself: tasks and shots submitted and completed per QPU, and their cost
from the registry's prices (see :mod:`oqc_provider.engine.cost`). Trackers nest: a task submitted inside
an inner tracker counts in every tracker around it.

The active trackers live in a :class:`contextvars.ContextVar`, so they follow the code that runs inside
the block wherever it runs: in asyncio tasks it starts (``async with Tracker()`` works too), and on the
engine's background event-loop thread, which synchronous front ends hand their coroutines to with
``asyncio.run_coroutine_threadsafe``: that schedules them with a copy of the caller's context, so a
submission made on that thread sees the trackers active where ``run()`` was called.

A task is counted *submitted* when it is admitted (its estimate checked and charged, just before it is
sent) and *completed* when its job reaches COMPLETED, even after the block has ended. A task that
turns out not to have been sent is taken back out.

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> from oqc_provider.engine import SyncSdk
    >>> sdk = SyncSdk(default_qpu_id="qpu:uk:2:d865b5a184")
    >>> program = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; measure q[0] -> c[0];'
    >>> with Tracker(budget="10") as tracker:
    ...     _ = sdk.execute(sdk.create_job(program=[program, program]), timeout_s=30)
    >>> tracker.tasks_completed, tracker.shots_submitted, tracker.cost, tracker.remaining
    (2, 2000, Decimal('0'), Decimal('10'))
    >>> sdk.close()
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from oqc_provider.engine.cost import COST_ANNOTATION, UNIT, CostEstimate, TaskCost, as_amount, show
from oqc_provider.engine.errors import BudgetExceededError, PriceNotPublishedError
from oqc_provider.engine.states import JobState

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job

#: The trackers active in this context, outermost first.
_ACTIVE: contextvars.ContextVar[tuple[Tracker, ...]] = contextvars.ContextVar(
    "oqc_provider_trackers", default=()
)
#: Checking budgets and charging trackers is one step for all of them, whatever thread submits.
_ADMISSION = threading.Lock()


def active_trackers() -> tuple[Tracker, ...]:
    """The trackers whose block the calling code runs in, outermost first."""
    return _ACTIVE.get()


@dataclass(frozen=True)
class QpuTally:
    """What one tracker saw on one QPU.

    ``cost_submitted`` / ``cost_completed`` are ``None`` once a task whose price is not published
    is among them (the total is unknown, never under-counted).
    """

    tasks_submitted: int = 0
    shots_submitted: int = 0
    tasks_completed: int = 0
    shots_completed: int = 0
    cost_submitted: Decimal | None = Decimal(0)
    cost_completed: Decimal | None = Decimal(0)
    unpriced_tasks: int = 0


def _plus(total: Decimal | None, amount: Decimal | None, sign: int = 1) -> Decimal | None:
    return None if total is None or amount is None else total + sign * amount


class Tracker:
    """Counts tasks, shots and cost per QPU for everything submitted inside its block; a budget.

    Args:
        budget: the most the block may spend, in credits as the registry prices them (a Decimal,
            str or int). A submission whose estimate would take the spending past it is refused
            with :class:`BudgetExceededError` before anything is sent. ``None``: no limit.
        allow_unpriced: with a budget, run tasks on QPUs whose price is not published anyway (their
            cost is unknown and not counted against the budget). Without it such a submission is
            refused with :class:`PriceNotPublishedError`.

    Raises:
        ConfigurationError: a budget that is not a number of credits at least 0.
    """

    def __init__(self, budget: Decimal | str | int | None = None, *, allow_unpriced: bool = False) -> None:
        self.budget: Decimal | None = None if budget is None else as_amount(budget, "budget")
        self.allow_unpriced = allow_unpriced
        self._lock = threading.Lock()
        self._tallies: dict[str, QpuTally] = {}
        #: The cost of the submitted tasks whose price is known, per QPU: what the budget is charged.
        self._priced: dict[str, Decimal] = {}
        self._tokens: list[contextvars.Token[tuple[Tracker, ...]]] = []

    # --- entering and leaving ----------------------------------------------------------------------

    def __enter__(self) -> Tracker:
        self._tokens.append(_ACTIVE.set((*_ACTIVE.get(), self)))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _ACTIVE.reset(self._tokens.pop())

    async def __aenter__(self) -> Tracker:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # --- what it saw -------------------------------------------------------------------------------

    def qpus(self) -> dict[str, QpuTally]:
        """Each QPU's tally so far."""
        with self._lock:
            return dict(self._tallies)

    def _sum(self, name: str) -> Any:
        tallies = self.qpus().values()
        if name.startswith("cost"):
            total: Decimal | None = Decimal(0)
            for tally in tallies:
                total = _plus(total, getattr(tally, name))
            return total
        return sum(getattr(tally, name) for tally in tallies)

    @property
    def tasks_submitted(self) -> int:
        """Tasks submitted inside the block."""
        return int(self._sum("tasks_submitted"))

    @property
    def shots_submitted(self) -> int:
        """Shots of the tasks submitted inside the block."""
        return int(self._sum("shots_submitted"))

    @property
    def tasks_completed(self) -> int:
        """Of those, tasks that completed (so far)."""
        return int(self._sum("tasks_completed"))

    @property
    def shots_completed(self) -> int:
        """Shots of the completed tasks."""
        return int(self._sum("shots_completed"))

    @property
    def cost(self) -> Decimal | None:
        """The estimated cost of every task submitted; ``None`` if any has no published price."""
        return self._sum("cost_submitted")  # type: ignore[no-any-return]

    @property
    def cost_completed(self) -> Decimal | None:
        """The estimated cost of the completed tasks; ``None`` if any has no published price."""
        return self._sum("cost_completed")  # type: ignore[no-any-return]

    @property
    def unpriced_tasks(self) -> int:
        """Tasks submitted on QPUs whose price is not published (their cost is unknown)."""
        return int(self._sum("unpriced_tasks"))

    @property
    def spent(self) -> Decimal:
        """What the budget is charged: the cost of the submitted tasks whose price is known."""
        with self._lock:
            return sum(self._priced.values(), Decimal(0))

    @property
    def remaining(self) -> Decimal | None:
        """What is left of the budget, or ``None`` without one."""
        return None if self.budget is None else self.budget - self.spent

    def __str__(self) -> str:
        budget = "" if self.budget is None else f", budget {show(self.budget)} ({show(self.remaining)} left)"
        cost = self.cost
        amount = (
            f"{cost:f} {UNIT}" if cost is not None else f"unknown ({self.unpriced_tasks} unpriced task(s))"
        )
        lines = [
            f"Tracker: {self.tasks_submitted} task(s) submitted, {self.tasks_completed} completed, "
            f"cost {amount}{budget}"
        ]
        for qpu_id, t in sorted(self.qpus().items()):
            lines.append(
                f"  {qpu_id}: {t.tasks_submitted} submitted ({t.shots_submitted:,} shots), "
                f"{t.tasks_completed} completed ({t.shots_completed:,} shots), cost {show(t.cost_submitted)}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Tracker(budget={self.budget!r}, tasks_submitted={self.tasks_submitted}, "
            f"tasks_completed={self.tasks_completed}, cost={self.cost!r})"
        )

    # --- what the engine tells it ------------------------------------------------------------------

    def _submitted(self, task: TaskCost, sign: int = 1) -> None:
        unpriced = task.cost is None
        with self._lock:
            tally = self._tallies.get(task.qpu_id, QpuTally())
            unpriced_tasks = tally.unpriced_tasks + (sign if unpriced else 0)
            priced = self._priced.get(task.qpu_id, Decimal(0)) + sign * (task.cost or Decimal(0))
            self._priced[task.qpu_id] = priced
            self._tallies[task.qpu_id] = replace(
                tally,
                tasks_submitted=tally.tasks_submitted + sign,
                shots_submitted=tally.shots_submitted + sign * task.shots,
                unpriced_tasks=unpriced_tasks,
                cost_submitted=None if unpriced_tasks else priced,
            )

    def _completed(self, task: TaskCost) -> None:
        with self._lock:
            tally = self._tallies.get(task.qpu_id, QpuTally())
            self._tallies[task.qpu_id] = replace(
                tally,
                tasks_completed=tally.tasks_completed + 1,
                shots_completed=tally.shots_completed + task.shots,
                cost_completed=_plus(tally.cost_completed, task.cost),
            )


@dataclass
class Charge:
    """One admitted run of one job: the trackers it counts in and its estimated cost."""

    trackers: tuple[Tracker, ...]
    task: TaskCost
    completed: bool = False


def check_and_charge(jobs: Sequence[Job], estimate: CostEstimate, *, max_cost: Decimal | None = None) -> None:
    """Refuse ``jobs`` if ``estimate`` would cross a budget; else charge every active tracker.

    ``estimate.tasks`` are the jobs' costs, in order. Each job then carries its :class:`Charge`
    (``job.cost_charge``) and its estimate in its annotations (saved with it).

    Raises:
        BudgetExceededError: ``max_cost`` or an active tracker's budget would be crossed.
        PriceNotPublishedError: a budget is set and a task's price is not published.
    """
    trackers = active_trackers()
    with _ADMISSION:
        _check(estimate, trackers, max_cost)
        for job, task in zip(jobs, estimate.tasks, strict=True):
            charge = Charge(trackers, task)
            job.cost_charge = charge
            _note_estimate(job, task, estimate)
            for tracker in trackers:
                tracker._submitted(task)  # noqa: SLF001  (the engine reports to its trackers)
            job.add_listener(_completion_listener(charge))


def release(job: Job) -> None:
    """Take back a job's charge: it was admitted but never reached the server."""
    charge, job.cost_charge = job.cost_charge, None
    if isinstance(charge, Charge):
        for tracker in charge.trackers:
            tracker._submitted(charge.task, sign=-1)  # noqa: SLF001


def budget_active(max_cost: Decimal | None = None) -> bool:
    """Whether a submission now would be checked against a budget (``max_cost`` or a tracker's)."""
    return max_cost is not None or any(tracker.budget is not None for tracker in active_trackers())


def _completion_listener(charge: Charge) -> Any:
    def on_state(job: Job, _old: JobState, new: JobState) -> None:
        if new is JobState.COMPLETED and job.cost_charge is charge and not charge.completed:
            charge.completed = True
            for tracker in charge.trackers:
                tracker._completed(charge.task)  # noqa: SLF001

    return on_state


def _note_estimate(job: Job, task: TaskCost, estimate: CostEstimate) -> None:
    price = estimate.prices.get(task.qpu_id)
    job.annotations[COST_ANNOTATION] = {
        "estimate": None if task.cost is None else str(task.cost),
        "shots": task.shots,
        **({} if price is None else {k: v for k, v in price.to_json().items() if k != "qpu_id"}),
    }


def _check(estimate: CostEstimate, trackers: tuple[Tracker, ...], max_cost: Decimal | None) -> None:
    unpriced = estimate.unpriced_qpus
    if max_cost is not None:
        if unpriced:
            raise PriceNotPublishedError(
                f"Refused before sending: max_cost={show(max_cost)} is set, but the registry publishes no "
                f"price for {', '.join(unpriced)}, so this run's cost is unknown. Nothing was sent. Drop "
                "max_cost to run it anyway, or run it on a QPU with a published price.",
                estimate=None,
                budget=max_cost,
                spent=Decimal(0),
            )
        total = estimate.priced_total
        if total > max_cost:
            raise BudgetExceededError(
                f"Refused before sending: this run's estimate, {show(total)} {UNIT} "
                f"({len(estimate.tasks)} task(s), {estimate.shots:,} shots), is above "
                f"max_cost={show(max_cost)}. Nothing was sent. Raise max_cost to at least {show(total)}, "
                "or ask for fewer shots or tasks.",
                estimate=total,
                budget=max_cost,
                spent=Decimal(0),
            )
    for tracker in trackers:
        if tracker.budget is None:
            continue
        spent = tracker.spent
        if unpriced and not tracker.allow_unpriced:
            raise PriceNotPublishedError(
                f"Refused before sending: a Tracker with budget {show(tracker.budget)} is active, but the "
                f"registry publishes no price for {', '.join(unpriced)}, so this submission's cost is "
                "unknown. Nothing was sent. To run it anyway, opt in with "
                "Tracker(budget=..., allow_unpriced=True) (its cost is then not counted against the budget).",
                estimate=None,
                budget=tracker.budget,
                spent=spent,
            )
        total = estimate.priced_total
        if spent + total > tracker.budget:
            raise BudgetExceededError(
                f"Refused before sending: this submission's estimate, {show(total)} {UNIT} "
                f"({len(estimate.tasks)} task(s), {estimate.shots:,} shots), would cross the Tracker's "
                f"budget of {show(tracker.budget)}: {show(spent)} is spent, {show(tracker.budget - spent)} "
                "is left. Nothing was sent, and tasks already submitted are untouched. To go on, raise "
                f"the budget (Tracker(budget=...) of at least {show(spent + total)}), or ask for fewer "
                "shots or tasks.",
                estimate=total,
                budget=tracker.budget,
                spent=spent,
            )


__all__ = ["Charge", "QpuTally", "Tracker", "active_trackers", "check_and_charge", "release"]
