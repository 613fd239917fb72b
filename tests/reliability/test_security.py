"""Security, tested by searching: the token appears nowhere it could leak from.

A distinctive token runs real jobs through the engine, in-process and against a served emulator
that requires it; then every snapshot, store file, log record (DEBUG, every logger), ``repr`` and
the messages of auth failures are searched for it.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import stat
import traceback
import uuid
from pathlib import Path

import httpx
import pytest

from oqc_provider.connection import resolve_connection
from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import FaultPlan
from oqc_provider.emulator.state import TOKEN_ENV
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import CompositeJob, JobState, OqcSdk
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.qcaas.errors import AuthenticationError, ConfigurationError
from tests.reliability.helpers import (
    FAST_POLL,
    FAST_RETRY,
    LUCY_SIM,
    SHOTS,
    InProcess,
    program,
    serve_cli_emulator,
)

PACKAGE = Path(__file__).resolve().parents[2] / "oqc_provider"


def secret() -> str:
    return f"SeCrEt-{uuid.uuid4().hex}"


def leaks(token: str, *texts: object) -> list[str]:
    """The texts (shown shortened) that contain the token."""
    return [str(text)[:200] for text in texts if token in str(text)]


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots for path in root.rglob("*") if path.is_file()]


async def run_jobs(sdk: OqcSdk, tmp_path: Path) -> list[object]:
    """One job and one batch to the end, saved; returns every object worth a repr."""
    single = sdk.create_job(program=program(1), config=SHOTS)
    batch = sdk.create_job(program=[program(2), program(3)], config=SHOTS)
    assert isinstance(batch, CompositeJob)
    await single.execute(timeout_s=30)
    await batch.execute(timeout_s=30)
    assert single.completed and batch.completed
    single.save(str(tmp_path / "snapshots" / "single.json"))
    batch.save(str(tmp_path / "snapshots" / "batch.json"))
    return [sdk, await sdk.client(), sdk.connection, single, batch, *batch.jobs, single.result, sdk.job_store]


async def test_the_token_never_leaks_in_process(tmp_path, caplog):
    token = secret()
    caplog.set_level(logging.DEBUG)
    emulator = InProcess(required_token=token, db_path=tmp_path / "emulator.sqlite3")
    store = JobStore(tmp_path / "jobs")
    try:
        async with emulator.sdk(job_store=store, authentication_token=token) as sdk:
            objects = await run_jobs(sdk, tmp_path)
            texts = [repr(o) for o in objects] + [str(o) for o in objects]
    finally:
        emulator.close()
    stored = files_under(tmp_path)
    assert any(p.suffix == ".json" for p in stored) and any(p.name.endswith("sqlite3") for p in stored)
    assert leaks(token, *texts) == []
    assert leaks(token, *(p.read_bytes().decode("latin-1") for p in stored)) == []
    assert caplog.records and leaks(token, *(r.getMessage() for r in caplog.records), caplog.text) == []


def test_the_token_never_leaks_through_a_served_emulator(tmp_path, caplog):
    import asyncio

    token = secret()
    caplog.set_level(logging.DEBUG)
    settings = EmulatorSettings(required_token=token, db_path=tmp_path / "served.sqlite3")
    with serve_in_thread(settings) as url:
        # The emulator does require it: the same request without the token is refused.
        assert httpx.get(f"{url}/qpus", timeout=5).status_code == 401
        assert (
            httpx.get(f"{url}/qpus", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
            == 200
        )

        async def main() -> list[str]:
            sdk = OqcSdk(
                url,
                token,
                default_qpu_id=LUCY_SIM,
                retry=FAST_RETRY,
                poll_schedule=FAST_POLL,
                job_store=JobStore(tmp_path / "jobs"),
            )
            async with sdk:
                objects = await run_jobs(sdk, tmp_path)
                return [repr(o) for o in objects] + [str(o) for o in objects]

        texts = asyncio.run(main())
    assert leaks(token, *texts) == []
    assert leaks(token, *(p.read_bytes().decode("latin-1") for p in files_under(tmp_path))) == []
    assert leaks(token, *(r.getMessage() for r in caplog.records), caplog.text) == []


@pytest.mark.slow
@pytest.mark.parametrize("source", ["environment", "file"])
def test_a_served_emulator_takes_its_token_from_the_environment_or_a_file_never_argv(tmp_path, source):
    token = secret()
    environment = {**os.environ}
    if source == "environment":
        environment[TOKEN_ENV] = token
        options: tuple[str, ...] = ()
    else:
        (tmp_path / "token").write_text(token + "\n")
        options = ("--token-file", str(tmp_path / "token"))
    server, url = serve_cli_emulator(*options, env=environment)
    try:
        assert token not in Path(f"/proc/{server.pid}/cmdline").read_bytes().decode("latin-1")
        assert httpx.get(f"{url}/qpus", timeout=5).status_code == 401
        assert (
            httpx.get(f"{url}/qpus", headers={"Authentication-Token": token[:-1]}, timeout=5).status_code
            == 401
        )
        assert httpx.get(f"{url}/qpus", headers={"Authentication-Token": token}, timeout=5).status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/qpus", headers=bearer, timeout=5).status_code == 200
    finally:
        server.kill()
        server.wait()


async def test_auth_failures_name_the_problem_but_never_a_token(tmp_path, caplog):
    right, wrong = secret(), secret()
    caplog.set_level(logging.DEBUG)
    emulator = InProcess(required_token=right)
    try:
        async with emulator.sdk(job_store=JobStore(tmp_path / "jobs"), authentication_token=wrong) as sdk:
            with pytest.raises(AuthenticationError) as refused:
                await sdk.list_qpus()
            job = sdk.create_job(program=program(1), config=SHOTS)
            await job.execute(timeout_s=10)  # refused at id allocation: stored, not raised
        expired_plan = FaultPlan(rate=1.0, kinds=("401",), routes=frozenset({"qpus"}))
        expiring = InProcess(required_token=right, faults=expired_plan)
        async with expiring.sdk(job_store=False, authentication_token=right) as sdk:
            with pytest.raises(AuthenticationError, match="expired") as expired:
                await sdk.list_qpus()
        expiring.close()
    finally:
        emulator.close()
    assert job.state is JobState.FAILED and job.error.error_code == 401
    for error in (refused.value, expired.value):
        rendered = [str(error), repr(error), error.metadata, *traceback.format_exception(error)]
        assert "token" in str(error).lower()  # says what to check...
        assert leaks(right, *rendered) == leaks(wrong, *rendered) == []  # ...without showing it
    saved = JobStore(tmp_path / "jobs").path_for(job_id_of(job)).read_text()
    assert leaks(wrong, job.error.error_message, repr(job), saved, caplog.text) == []
    with pytest.raises(ConfigurationError) as insecure:
        OqcSdk(url="http://qcaas.example.com", authentication_token=wrong)
    assert leaks(wrong, str(insecure.value), repr(insecure.value)) == []


def test_plain_http_to_a_remote_host_needs_allow_insecure():
    with pytest.raises(ConfigurationError, match="unencrypted"):
        OqcSdk(url="http://qcaas.example.com", authentication_token="t")
    sdk = OqcSdk(url="http://qcaas.example.com", authentication_token="t", allow_insecure=True)
    assert sdk.connection.url == "http://qcaas.example.com"
    # Loopback and https need nothing special.
    OqcSdk(url="http://127.0.0.1:9", authentication_token="t")
    OqcSdk(url="https://qcaas.example.com", authentication_token="t")
    token = secret()
    assert token not in repr(resolve_connection("https://qcaas.example.com", token))


async def test_store_files_are_0600_in_a_0700_folder(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir(mode=0o755)  # a folder made by someone else first, too open
    os.chmod(folder, 0o755)
    emulator = InProcess()
    store = JobStore(folder)
    try:
        async with emulator.sdk(job_store=store) as sdk:
            job = sdk.create_job(program=program(1), config=SHOTS)
            await job.execute(timeout_s=30)
            job.save(str(tmp_path / "saved.json"))
    finally:
        emulator.close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    entries = list(folder.iterdir())
    assert entries and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    assert stat.S_IMODE((tmp_path / "saved.json").stat().st_mode) == 0o600


def test_the_default_store_and_home_are_private(_isolated_provider_home):
    store = OqcSdk(job_store=None).job_store
    assert store is not None and store.root == _isolated_provider_home / "jobs"
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(_isolated_provider_home.stat().st_mode) == 0o700


def test_a_shared_home_keeps_its_mode_and_the_files_in_it_are_private(tmp_path, monkeypatch, caplog):
    shared = tmp_path / "scratch"
    shared.mkdir()
    shared.chmod(0o1777)  # a folder shared on purpose, like /tmp
    monkeypatch.setenv("OQC_PROVIDER_HOME", str(shared))
    with caplog.at_level(logging.WARNING, logger="oqc_provider"):
        store = OqcSdk(job_store=None).job_store
        from oqc_provider.emulator.store import TaskStore
        from oqc_provider.paths import emulator_db_path

        TaskStore(emulator_db_path()).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert str(shared) in caplog.text and "left as it is" in caplog.text
    assert store is not None and stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(emulator_db_path().stat().st_mode) == 0o600


def test_snapshots_are_plain_json_and_nothing_uses_pickle():
    pattern = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|dill|shelve|marshal|cloudpickle)\b", re.M)
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if pattern.search(path.read_text()) or "pickle.load" in path.read_text()
    ]
    assert offenders == []


async def test_a_stored_entry_is_a_json_document(tmp_path):
    import json

    emulator = InProcess()
    store = JobStore(tmp_path / "jobs")
    try:
        async with emulator.sdk(job_store=store) as sdk:
            job = sdk.create_job(program=program(1), config=SHOTS)
            await job.execute(timeout_s=30)
    finally:
        emulator.close()
    document = json.loads(store.path_for(job_id_of(job)).read_text())
    assert document["snapshot_kind"] == "job" and document["schema_version"] == "1"


def test_the_emulator_binds_loopback_unless_told_otherwise():
    from oqc_provider.cli import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(serve_in_thread).parameters["host"].default == "127.0.0.1"


@pytest.mark.parametrize(
    ("contents", "extra", "complaint"),
    [("", (), "is empty"), ("t0ken\n", ("--token", "t0ken"), "not both"), (None, (), "Cannot read")],
)
def test_a_bad_token_file_is_refused_before_serving(tmp_path, contents, extra, complaint):
    from typer.testing import CliRunner

    from oqc_provider.cli import app

    path = tmp_path / "token"
    if contents is not None:
        path.write_text(contents)
    result = CliRunner().invoke(app, ["emulator", "serve", "--port", "0", "--token-file", str(path), *extra])
    said = " ".join(result.output.replace("│", " ").split())  # as read, without the box's wrapping
    assert result.exit_code == 2 and complaint in said, result.output
