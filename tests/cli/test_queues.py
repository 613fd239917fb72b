"""``qpus``, ``run``, ``jobs show --queue`` and ``jobs result`` say where queues and windows stand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from tests.cli.conftest import BELL_QASM2, assert_one_line_error

OPENS = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(hours=2)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    settings = EmulatorSettings(windows={"Lucy Simulator": [(OPENS, OPENS + timedelta(hours=1))]})
    with serve_in_thread(settings) as url:
        yield url


def test_qpus_shows_each_queue_and_window(cli, served: str) -> None:
    records = {r["name"]: r for r in cli.json("--url", served, "qpus")}
    sim = records["Lucy Simulator"]
    assert (sim["tasks_in_queue"], sim["open"], sim["next_window"]) == (0, False, OPENS.isoformat())
    assert sim["window_text"].startswith(f"opens {OPENS:%H:%M} UTC, in ")
    assert records["Toshiko"]["open"] is True and records["Toshiko"]["window_text"].startswith("open until")
    table = cli("--url", served, "qpus")
    assert table.exit_code == 0, table.output
    assert "queue" in table.stdout and f"opens {OPENS:%H:%M} UTC" in table.stdout


@pytest.mark.slow
def test_a_run_outside_its_window_says_so_and_jobs_show_why_it_waits(cli, qasm, served: str) -> None:
    bell = qasm("bell.qasm", BELL_QASM2)
    result = cli(
        "--url", served, "run", str(bell), "--qpu", "Lucy Simulator", "--timeout", "1", "--no-progress"
    )
    assert_one_line_error(
        result,
        "is still running after 1 s (0/1 tasks done; ",
        "is outside its execution window: next window opens",
    )
    job_id = result.stderr.split("job ", 1)[1].split()[0]
    shown = cli("--url", served, "jobs", "show", job_id, "--queue")
    assert shown.exit_code == 0, shown.output
    assert "queued (1 task in the QPU's queue); next window opens" in " ".join(shown.stdout.split())
    record = cli.json("--url", served, "jobs", "show", job_id, "--queue")
    assert record["waiting"].startswith("queued (1 task in the QPU's queue); next window opens")
    assert "waiting" not in cli.json("jobs", "show", job_id)  # offline unless asked
    fetched = cli("--url", served, "jobs", "result", job_id)
    assert_one_line_error(fetched, "is still SUBMITTED (0/1 tasks done; queued (1 task", "next window opens")
    assert cli("--url", served, "jobs", "cancel", job_id).exit_code == 0


@pytest.mark.parametrize(
    ("window", "says"),
    [("Lucy=9-10", "HH:MM-HH:MM"), ("Nobody=09:00-10:00", "no emulated QPU")],
)
def test_a_bad_window_is_refused_before_the_emulator_starts(cli, window: str, says: str) -> None:
    result = cli("emulator", "serve", "--port", "0", "--window", window)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output
