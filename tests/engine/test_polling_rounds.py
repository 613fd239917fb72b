"""The polling rounds' bookkeeping on its own: which task each round reads.

Tasks here are stand-ins that end on a chosen read, so the order of reads is exact (no server, no
clock): the end-to-end behaviour is tested against the emulator in test_server_promises.py.
"""

from __future__ import annotations

import asyncio

import pytest

from oqc_provider.engine.polling import PollSchedule, _Follower
from oqc_provider.engine.states import JobState


class _Task:
    """Ends (COMPLETED) at its ``ends_on``-th read; ``None``: never (a held task)."""

    def __init__(self, name: str, ends_on: int | None) -> None:
        self.name = name
        self.ends_on = ends_on
        self.reads = 0
        self.state = JobState.RUNNING
        self.task_id = name

    async def refresh(self, *, deadline: float | None = None) -> _Task:
        self.reads += 1
        if self.ends_on is not None and self.reads >= self.ends_on:
            self.state = JobState.COMPLETED
        return self


@pytest.mark.parametrize("rest", [2, 3, 4, 5, 8])
async def test_the_scout_reaches_every_task_behind_a_held_head(rest: int) -> None:
    # The head and every other task are held; the rest were RUNNING at their first read and end at
    # the second. Each must be read again within a bounded number of rounds, whatever the count.
    head = _Task("head", None)
    others = [_Task(f"t{i}", None if i % 2 else 2) for i in range(rest)]
    follower = _Follower(
        pending=[head, *others],  # type: ignore[list-item]
        deadline=None,
        schedule=PollSchedule(),
        gate=asyncio.Semaphore(4),
    )
    for task in others:  # everyone was read once already (e.g. by a sweep) and found running
        await task.refresh()
    for _ in range(4 * (rest + 1)):
        await follower.round()
    finishing = [task for task in others if task.ends_on is not None]
    assert all(task.state is JobState.COMPLETED for task in finishing), [
        (task.name, task.reads) for task in finishing
    ]


def test_the_gap_grows_with_nothing_finished_holds_for_one_and_shrinks_for_several() -> None:
    schedule = PollSchedule()
    elapsed = 100.0  # far past the floor: only the 10 % rule and `longest` cap the gap
    assert schedule.gap(1.0, elapsed, finished=0) == 2.0
    # One task at a time (a QPU finishing tasks seconds apart): polling no faster than before.
    assert schedule.gap(1.0, elapsed, finished=1) == 1.0
    # Several at once (a batch finishing): read sooner, never below `first`.
    assert schedule.gap(1.0, elapsed, finished=5) == 0.5
    assert schedule.gap(schedule.first, elapsed, finished=5) == schedule.first
