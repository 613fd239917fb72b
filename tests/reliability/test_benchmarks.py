"""Small runs of the two reliability benchmarks, so CI proves what they demonstrate.

* soak: 100 circuits through a served emulator faulting 20% of requests -> 100 completed, no
  duplicates, none lost.
* kill and resume: a child process is SIGKILLed mid-run, a new process resumes the job by id ->
  every result, and the server ran no extra task.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_json(script: str, *args: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_soak_of_100_circuits_under_20_percent_faults_loses_and_duplicates_nothing():
    [report] = run_json("soak.py", "--n", "100", "--seed", "11", "--budget", "90")
    assert report["completed"] == 100
    assert report["duplicated"] == 0 and report["lost"] == 0 and report["server_tasks"] == 100
    assert report["faults_injected"] > 0 and report["retries"] > 0


@pytest.mark.slow
def test_a_killed_run_resumed_in_a_new_process_gets_every_result_once():
    [report] = run_json("kill_resume.py", "--n", "100", "--seed", "1", "--latency", "1.0")
    # The kill must land mid-run, or the test proves nothing about resuming: the child was still
    # running, and the store still held work in flight.
    assert report["child_had_finished"] is False, report
    assert set(report["states_at_resume"]) - {"COMPLETED", "FAILED", "CANCELLED"}, report
    assert report["listed_in_store"]
    assert report["results"] == 100
    assert report["server_tasks"] == 100 and report["extra_server_tasks"] == 0
