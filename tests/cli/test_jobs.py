"""``oqc-provider jobs`` on jobs made in another process by the engine, Qiskit and pytket.

The jobs run on an emulator served on a loopback port (``OQC_URL``), as a user's would run on
QCaaS: the process that made them has exited, and the CLI finds them in the local job store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oqc_provider import OQCJob, OQCProvider
from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import CompositeJob, OqcSdk
from tests.cli.conftest import assert_one_line_error

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_emulator() -> Iterator[str]:
    with serve_in_thread(EmulatorSettings(seed=11)) as url:
        yield url


@pytest.fixture(scope="module")
def held_emulator() -> Iterator[str]:
    """Tasks wait 10 minutes in the queue: still active when the CLI looks, however loaded the machine
    (a 5 s wait did not outlast a loaded machine's subprocess start and CLI calls)."""
    with serve_in_thread(EmulatorSettings(seed=11, latency=600.0)) as url:
        yield url


def make_jobs(mode: str, url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OQC_URL", url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OQC_PROVIDER_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cli" / "make_jobs.py"), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_list_show_result_export_jobs_from_every_front_end(
    cli, quick_emulator: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ids = make_jobs("wait", quick_emulator, monkeypatch)
    listed = {entry["job_id"]: entry for entry in cli.json("jobs", "list")}
    assert {listed[ids[kind]]["kind"] for kind in ids} == {"engine", "qiskit", "pytket"}
    for kind, job_id in ids.items():
        entry = listed[job_id]
        assert entry["kind"] == kind and entry["state"] == "COMPLETED", entry
        assert entry["qpu_ids"] == ["qpu:uk:2:d865b5a184"] and entry["created"]
    assert listed[ids["qiskit"]]["backend"] == "Lucy Simulator" and listed[ids["qiskit"]]["shots"] == 123
    assert listed[ids["pytket"]]["circuits"] == 2 and listed[ids["pytket"]]["shots"] == 77
    assert listed[ids["engine"]]["tag"] == "engine-tag" and listed[ids["engine"]]["circuits"] == 2
    assert cli.json("jobs", "list", "--kind", "pytket")[0]["job_id"] == ids["pytket"]

    table = cli("jobs", "list")
    assert table.exit_code == 0 and all(job_id in table.stdout for job_id in ids.values())

    shown = cli.json("jobs", "show", ids["pytket"])
    assert [task["state"] for task in shown["tasks"]] == ["COMPLETED", "COMPLETED"]
    assert all(task["task_id"] for task in shown["tasks"])
    assert ids["qiskit"] in cli("jobs", "show", ids["qiskit"]).stdout

    qiskit = cli.json("jobs", "result", ids["qiskit"])
    counts = qiskit["circuits"][0]["counts"]["c"]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 123
    pytket = cli.json("jobs", "result", ids["pytket"])
    assert [c["counts"] for c in pytket["circuits"]] == [{"c": {"1": 77}}] * 2
    engine = cli("jobs", "result", ids["engine"])
    assert engine.exit_code == 0 and "1000" in engine.stdout

    exported = tmp_path / "engine.json"
    assert cli("jobs", "export", ids["engine"], str(exported)).exit_code == 0
    job = OqcSdk().load(exported)
    assert isinstance(job, CompositeJob) and [j.result.data for j in job] == [{"c": {"1": 1000}}] * 2

    exported = tmp_path / "qiskit.json"
    assert cli("jobs", "export", ids["qiskit"], str(exported)).exit_code == 0
    with OQCProvider() as provider:
        assert OQCJob.load(exported, provider).result(timeout=60).get_counts() == counts


def test_result_refreshes_and_cancel_cancels_jobs_still_running(
    cli, held_emulator: str, quick_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = make_jobs("submit", held_emulator, monkeypatch)
    assert {entry["state"] for entry in cli.json("jobs", "list")} <= {"SUBMITTED", "RUNNING"}
    assert_one_line_error(cli("jobs", "result", held["pytket"]), "is still", "--wait")
    cancelled = cli("jobs", "cancel", held["pytket"])
    assert cancelled.exit_code == 0, cancelled.output
    assert "CANCELLED" in cancelled.stdout
    assert cli.json("jobs", "show", held["pytket"])["state"] == "CANCELLED"

    # Submitted by a process that did not wait for the result.
    ids = make_jobs("submit", quick_emulator, monkeypatch)
    report = cli.json("jobs", "result", ids["qiskit"], "--wait", "60")
    assert report["state"] == "COMPLETED"
    assert sum(report["circuits"][0]["counts"]["c"].values()) == 123
    assert cli.json("jobs", "show", ids["qiskit"])["state"] == "COMPLETED"  # saved back to the store


def test_unknown_job_ids_are_one_line_errors(cli, tmp_path: Path) -> None:
    for command in ("show", "result", "cancel"):
        assert_one_line_error(cli("jobs", command, "no-such-job"), "No job 'no-such-job'")
    assert_one_line_error(cli("jobs", "export", "no-such-job", str(tmp_path / "x.json")), "No job")
    assert_one_line_error(cli("jobs", "show", "../etc/passwd"), "not a valid job id")
