"""Execution windows on the emulator: tasks of a closed QPU stay SUBMITTED and run when it opens,
and the monitoring routes answer from the real queue and schedule (protocol §1.8-1.9)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.windows import WindowSchedule, WindowSpecError, parse_window_option
from tests.emulator.emulator_helpers import BELL, LUCY_SIM, TOSHIKO

PLAIN = "%Y-%m-%d %H:%M:%S"
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_a_daily_window_crossing_midnight_is_open_on_both_sides() -> None:
    schedule = WindowSchedule(["22:00-01:00"])
    assert schedule.current(utc(2026, 3, 1, 23, 30)) is not None
    assert schedule.current(utc(2026, 3, 2, 0, 30)).start == utc(2026, 3, 1, 22)  # type: ignore[union-attr]
    assert schedule.current(utc(2026, 3, 2, 12)) is None
    assert schedule.opens_at(utc(2026, 3, 2, 12)) == utc(2026, 3, 2, 22)


def test_dated_and_daily_windows_merge_and_run_out() -> None:
    dated = (utc(2026, 3, 1, 9, 30), utc(2026, 3, 1, 11))
    schedule = WindowSchedule(["09:00-10:00", dated])
    [first, second] = schedule.upcoming(utc(2026, 3, 1, 8), 2)
    assert (first.start, first.end) == (utc(2026, 3, 1, 9), utc(2026, 3, 1, 11))  # overlapping: one window
    assert second.start == utc(2026, 3, 2, 9)
    once = WindowSchedule([dated])
    assert once.opens_at(utc(2026, 3, 1, 10)) == utc(2026, 3, 1, 10)  # open: now
    assert once.opens_at(utc(2026, 3, 2)) is None  # no window left


@pytest.mark.parametrize(
    "text", ["Lucy", "=09:00-10:00", "Lucy=9-10", "Lucy=25:00-01:00", "Lucy=10:00-10:00"]
)
def test_a_bad_window_option_says_how_to_write_it(text: str) -> None:
    with pytest.raises(WindowSpecError, match=r"HH:MM|empty|hour"):
        parse_window_option(text)


def test_windows_for_an_unknown_qpu_name_the_known_ones() -> None:
    with pytest.raises(WindowSpecError, match="Lucy Simulator"):
        create_app(EmulatorSettings(windows={"Nobody": ["09:00-10:00"]}))


@pytest.mark.slow
async def test_a_closed_qpu_keeps_its_tasks_queued_and_reports_its_next_window(make_api) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    opens, closes = now + timedelta(hours=1), now + timedelta(hours=2)
    api = await make_api(windows={"Lucy Simulator": [(opens, closes)]})
    held = await api.submit(BELL)
    # Toshiko has no windows: once a task submitted after the held one has run, the dispatcher has
    # passed the held one over (it claims in submission order).
    other = await api.submit(BELL, qpu_id=TOSHIKO)
    assert (await api.wait(other, TOSHIKO))["status"] == "COMPLETED"
    assert (await api.info(held))["status"] == "SUBMITTED"

    waits = await api.client.post("/d865b5a184/monitoring/qpu_wait_time", json={"targets": [LUCY_SIM]})
    [wait] = waits.json()["qpu_wait_times"]
    assert wait["tasks_in_queue"] == 1
    assert wait["estimated_availability_time"] == opens.strftime(PLAIN)
    assert [w["window_description"] for w in wait["windows"]] == ["NEXT"]  # the one dated window
    assert (wait["windows"][0]["start_time"], wait["windows"][0]["end_time"]) == (
        opens.strftime(PLAIN),
        closes.strftime(PLAIN),
    )
    task_waits = await api.client.post(
        "/d865b5a184/monitoring/task_wait_time", json={"task_ids": [held], "qpu_id": LUCY_SIM}
    )
    [task_wait] = task_waits.json()["task_wait_times"]
    assert task_wait["estimated_start_time"] == opens.strftime(PLAIN) and task_wait["tasks_ahead"] == 0
    window = (await api.client.get("/d865b5a184/windows/next")).json()["next_window"]
    assert window["starting"] == window["start_time"] == opens.strftime(ISO_Z)


async def test_an_open_qpu_lists_current_next_and_future_windows(make_api) -> None:
    # Windows around now, not a daily one: the test holds at any time of day.
    now = datetime.now(timezone.utc)
    spans = [
        (now + timedelta(hours=start), now + timedelta(hours=end)) for start, end in ((-1, 1), (2, 3), (4, 5))
    ]
    api = await make_api(windows={LUCY_SIM: spans}, legacy=False)
    waits = await api.client.post("/monitoring/qpu_wait_time", json={"targets": [LUCY_SIM, TOSHIKO]})
    lucy, toshiko = waits.json()["qpu_wait_times"]
    assert [w["window_description"] for w in lucy["windows"]] == ["CURRENT", "NEXT", "FUTURE"]
    assert [w["window_description"] for w in toshiko["windows"]] == ["CURRENT"]  # always open


async def test_a_task_runs_when_its_window_opens_not_before(make_api) -> None:
    # A window a second away: the dispatcher wakes at its start (not on a polling tick); the task's
    # own dequeue time, recorded by the emulator, shows it did not run before the window opened.
    opens = datetime.now(timezone.utc) + timedelta(seconds=1)
    api = await make_api(windows={"Lucy Simulator": [(opens, opens + timedelta(minutes=5))]})
    task_id = await api.submit(BELL)
    info = await api.wait(task_id, timeout=60)
    assert info["status"] == "COMPLETED"
    dequeued = datetime.fromisoformat(info["timings"]["SERVER_DEQUEUED"])
    assert dequeued >= opens
