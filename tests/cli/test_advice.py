"""The CLI follows its own advice: flags its errors name exist, ids as the docs abbreviate them
work, the demo's hints run as printed, and messages say what to do."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path

import pytest

from oqc_provider.cli.demo import program_name
from oqc_provider.connection import InvalidUrlError
from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import OqcSdk
from oqc_provider.engine.store import JobStore
from oqc_provider.qcaas.client import QcaasClient
from oqc_provider.qcaas.errors import ConfigurationError
from tests.cli.conftest import BELL_QASM2, assert_one_line_error

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"
X_QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


def _store_finished_jobs(*job_ids: str) -> None:
    """One finished engine job, saved in the local job store under each of ``job_ids``."""

    async def run() -> None:
        async with OqcSdk(default_qpu_id=LUCY_SIMULATOR, job_store=False) as sdk:
            job = sdk.create_job(program=X_QASM)
            await job.execute(timeout_s=60)
            for job_id in job_ids:
                JobStore().save(job_id, job, kind="engine")

    asyncio.run(run())


@pytest.mark.slow
def test_a_unique_id_prefix_works_wherever_an_id_does(cli, tmp_path: Path) -> None:
    _store_finished_jobs("5ef973cf-1111-4a4a-8b8b-000000000001", "5ef9aaaa-2222-4a4a-8b8b-000000000002")
    full = "5ef973cf-1111-4a4a-8b8b-000000000001"
    assert cli.json("jobs", "show", "5ef973cf")["job_id"] == full
    report = cli.json("jobs", "result", "5ef973")
    assert report["job_id"] == full and report["circuits"][0]["counts"] == {"c": {"1": 1000}}
    exported = tmp_path / "job.json"
    done = cli("jobs", "export", "5ef97", str(exported))
    assert done.exit_code == 0, done.output
    assert json.loads(exported.read_text())["annotations"]["store"]["job_id"] == full
    done = cli("jobs", "cancel", "5ef973")
    assert done.exit_code == 0, done.output
    assert full in done.stdout


@pytest.mark.slow
def test_an_ambiguous_prefix_lists_the_candidates_and_a_missing_one_says_so(cli, tmp_path: Path) -> None:
    ids = ("5ef973cf-1111-4a4a-8b8b-000000000001", "5ef9aaaa-2222-4a4a-8b8b-000000000002")
    _store_finished_jobs(*ids)
    for command in (("show",), ("result",), ("cancel",), ("export",)):
        args = ["jobs", *command, "5ef9"] + ([str(tmp_path / "x.json")] if command == ("export",) else [])
        assert_one_line_error(cli(*args), "2 jobs have an id starting with '5ef9'", *ids, "more of the id")
        args[2] = "beef"
        assert_one_line_error(cli(*args), "No job 'beef' (nor any whose id starts with it)", "jobs list")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.slow
def test_allow_insecure_exists_where_the_plain_http_refusal_suggests_it(cli) -> None:
    remote = ("--url", "http://qcaas.invalid", "--token", "t")
    refused = cli(*remote, "qpus")
    assert_one_line_error(refused, "Refusing plain http", "--allow-insecure")
    for args in (
        (*remote, "--allow-insecure", "qpus"),  # before the command
        (*remote, "qpus", "--allow-insecure"),  # or after it
        (*remote, "calibration", "Lucy", "--allow-insecure"),
        (*remote, "run", "missing.qasm", "--allow-insecure"),
        (*remote, "jobs", "result", "some-job", "--allow-insecure"),
        (*remote, "jobs", "cancel", "some-job", "--allow-insecure"),
    ):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)  # nothing answers there, or no such job/file
        assert "Refusing plain http" not in result.output and "No such option" not in result.output, args


def test_a_url_without_a_scheme_is_explained(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQC_URL", "127.0.0.1:18231")
    result = cli("qpus")
    assert_one_line_error(result, "OQC_URL '127.0.0.1:18231' has no scheme", "http://127.0.0.1:18231")
    assert "authentication token" not in result.stderr
    monkeypatch.delenv("OQC_URL")
    assert_one_line_error(cli("--url", "cloud.oqc.app", "qpus"), "has no scheme", "https://cloud.oqc.app")
    with pytest.raises(InvalidUrlError, match="has no scheme"):  # from Python, the same typed error
        OqcSdk(url="127.0.0.1:18231")
    with pytest.raises(ConfigurationError, match="scheme included"):  # the wire client alone
        QcaasClient("127.0.0.1:18231", token="t")


def test_a_refused_token_is_one_sentence_per_thought(cli) -> None:
    with serve_in_thread(EmulatorSettings(required_token="the-right-one")) as url:
        result = cli("--url", url, "--token", "wrong", "qpus")
    assert_one_line_error(result, "Authentication failed", "Check your token")
    assert ".." not in result.stderr, result.stderr


@pytest.mark.slow
def test_the_demo_hints_run_as_printed(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = cli("demo")
    assert demo.exit_code == 0, demo.output
    hints = demo.stdout.split("Next", 1)[1].splitlines()[1:]
    commands = [shlex.split(line) for line in hints if line.strip()]
    assert [words[0] for words in commands] == ["oqc-provider"] * 5  # how pytest's CLI is called
    assert {words[1] for words in commands} == {"jobs", "qpus", "calibration", "run"}
    for words in commands:
        result = cli(*words[1:])
        assert result.exit_code == 0, (words, result.output)


def test_hints_name_the_program_as_it_was_invoked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = tmp_path / ".venv" / "bin" / "oqc-provider"
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert program_name() == str(script)  # not on PATH: the path that was typed
    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/site-packages/pytest", "demo"])
    assert program_name() == "oqc-provider"


def test_a_run_that_outlasts_its_timeout_says_how_to_collect_it(cli, qasm) -> None:
    bell = qasm("bell.qasm", BELL_QASM2)
    with serve_in_thread(EmulatorSettings(latency=600)) as url:
        result = cli("--url", url, "run", str(bell), "--timeout", "1", "--no-progress")
    assert_one_line_error(result, "is still running after 1 s (0/1 tasks done", "--wait 600'")
    job_id = result.stderr.split("job ", 1)[1].split()[0]
    assert f"oqc-provider jobs result {job_id}" in result.stderr
