"""A job's estimated cost is kept in the local job history: later processes and ``jobs list/show`` see it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from typer.testing import CliRunner

from oqc_provider.cli import app
from oqc_provider.engine.cost import COST_ANNOTATION
from oqc_provider.engine.snapshots import parse_snapshot
from oqc_provider.engine.store import JobStore
from oqc_provider.qiskit import OQCProvider
from tests.cost.conftest import TOKEN, Served, bell, task_cost

RESUME = """
import sys
from oqc_provider.qiskit import OQCProvider
url, token, store, job_id = sys.argv[1:]
with OQCProvider(url=url, token=token, job_store=store) as provider:
    job = provider.get_backend("Lucy Simulator").retrieve_job(job_id)
    counts = sum(sum(counts.values()) for counts in job.result().get_counts())
    print(job.estimated_cost, counts)
"""


def _bell(provider: OQCProvider) -> QuantumCircuit:
    return bell(provider.get_backend("Lucy Simulator"))


@pytest.mark.slow
def test_a_job_resumed_in_a_new_process_reports_its_cost(served: Served, tmp_path: Path) -> None:
    store = tmp_path / "jobs"
    with OQCProvider(url=served.url, token=TOKEN, job_store=store) as provider:
        job = provider.get_backend("Lucy Simulator").run([_bell(provider)] * 2, shots=150)
        job_id = job.job_id()
        assert job.estimated_cost == 2 * task_cost(150)
    # A new process, which never priced anything: the cost comes from the job store.
    done = subprocess.run(
        [sys.executable, "-c", RESUME, served.url, TOKEN, str(store), job_id],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OQC_PROVIDER_PROGRESS": "0"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cost, counts = done.stdout.split()
    assert Decimal(cost) == 2 * task_cost(150) and int(counts) == 300


def test_jobs_list_and_show_print_the_recorded_cost(served: Served) -> None:
    with OQCProvider(url=served.url, token=TOKEN) as provider:  # the default store, as the CLI reads it
        job = provider.get_backend("Lucy Simulator").run(_bell(provider), shots=40)
        job.result()
    runner = CliRunner()
    listed = runner.invoke(app, ["jobs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.stdout)
    assert Decimal(entry["cost"]) == task_cost(40)
    shown = runner.invoke(app, ["jobs", "show", job.job_id(), "--json"])
    assert shown.exit_code == 0, shown.output
    assert [Decimal(task["cost"]) for task in json.loads(shown.stdout)["tasks"]] == [task_cost(40)]
    text = runner.invoke(app, ["jobs", "show", job.job_id()], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and f"{task_cost(40)} credits" in text.stdout
    table = runner.invoke(app, ["jobs", "list"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and str(task_cost(40)) in table.stdout


def test_a_snapshot_saved_before_costs_were_recorded_reads_as_unknown(served: Served) -> None:
    with OQCProvider(url=served.url, token=TOKEN) as provider:
        job = provider.get_backend("Lucy Simulator").run(_bell(provider), shots=40)
        job.result()
    store = JobStore()
    path = store.path_for(job.job_id())
    # An older save: the same snapshot without the cost annotation.
    document = json.loads(path.read_text())
    for child in document["jobs"]:
        del child["annotations"][COST_ANNOTATION]
    path.write_text(json.dumps(document))
    assert parse_snapshot(path.read_text()).jobs[0].annotations.get(COST_ANNOTATION) is None  # type: ignore[union-attr]
    [entry] = store.list()
    assert entry.cost is None
    with OQCProvider(url=served.url, token=TOKEN) as provider:
        assert provider.get_backend("Lucy Simulator").retrieve_job(job.job_id()).estimated_cost is None
    listed = CliRunner().invoke(app, ["jobs", "show", job.job_id()], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "estimated cost when submitted: not known" in listed.stdout
