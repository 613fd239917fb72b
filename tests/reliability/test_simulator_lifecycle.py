"""Simulator processes of a served emulator, with real processes and signals: one killed while it
starts fails nothing, one stuck in a native call does not outlive its server, and an idle emulator
takes back the tasks of a sibling that died.

Hooks (environment variables, inherited by ``oqc-provider emulator serve`` and its simulators):
``OQC_EMULATOR_TEST_CRASH_MARKER`` (a marked task kills its simulator with SIGSEGV),
``OQC_EMULATOR_TEST_HANG_MARKER`` (a marked task blocks its simulator in a native call that holds
the interpreter lock) and ``OQC_EMULATOR_TEST_DIE_STARTING`` (a folder: each ``start-*`` file in it kills
one starting simulator with SIGKILL, each ``chunk-*`` file one simulator as it receives a chunk).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oqc_provider.emulator.simulator_process import DIE_STARTING_ENV
from oqc_provider.emulator.state import CRASH_MARKER_ENV, HANG_MARKER_ENV
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat, Tket, TketOptimizations
from tests.reliability.helpers import LUCY_SIM, poll_until, serve_cli_emulator

pytestmark = pytest.mark.slow

CONFIG = CompilerConfig(
    repeats=20,
    results_format=QuantumResultsFormat.binary_count(),
    optimizations=Tket(tket_optimizations=TketOptimizations.Empty),
).to_json()
FLIP = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n'


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Servers a test starts; each killed at the end, with any simulator it left behind."""
    started: list[subprocess.Popen[bytes]] = []
    orphans: set[int] = set()
    yield started
    for server in started:
        orphans |= _children(server.pid)
        server.kill()
        server.wait()
    for pid in orphans:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _serve(servers: list[subprocess.Popen[bytes]], *options: str) -> str:
    server, url = serve_cli_emulator(*options)  # on port 0: no race for a free port
    servers.append(server)
    return url


def _submit(url: str, programs: list[str]) -> list[str]:
    tasks = [{"qpu_id": LUCY_SIM, "program": program, "config": CONFIG} for program in programs]
    answer = httpx.post(f"{url}/tasks/submit", json={"tasks": tasks}, timeout=30)
    assert answer.status_code == 200, answer.text
    return [item["task_id"] for item in answer.json()]


def _info(url: str, task_id: str) -> dict[str, Any]:
    return httpx.get(f"{url}/tasks/{task_id}/all_info", timeout=30).json()


def _wait_for(url: str, task_id: str, statuses: set[str], timeout: float) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(_info(url, task_id))
        return seen["status"] in statuses

    poll_until(reached, timeout, f"task {task_id} to be {statuses}")
    return seen


def test_simulators_killed_while_starting_fail_no_task(servers, tmp_path, monkeypatch):
    monkeypatch.setenv(CRASH_MARKER_ENV, "CRASH-ME")
    deaths = tmp_path / "deaths"
    deaths.mkdir()
    monkeypatch.setenv(DIE_STARTING_ENV, str(deaths))
    url = _serve(servers, "--workers", "1")  # one simulator: every restart is that slot's
    # Four starts die: more than one start's retries, so the tasks waiting for them see it.
    for index in range(4):
        (deaths / f"start-{index}").touch()
    crashing = FLIP + "// CRASH-ME\n"
    ids = _submit(url, [crashing, FLIP, FLIP, FLIP])
    infos = [_wait_for(url, task_id, {"COMPLETED", "FAILED"}, 240) for task_id in ids]
    assert not list(deaths.iterdir())  # every planned death happened
    message = infos[0]["task_error"]["error_message"]
    assert infos[0]["status"] == "FAILED" and "SIGSEGV" in message and "2 times" in message
    for info in infos[1:]:
        assert info["status"] == "COMPLETED", info["task_error"]
        assert info["results"] == {"c": {"1": 20}}
    stats = httpx.get(f"{url}/_emulator/stats", timeout=30).json()
    assert stats["executions"] == stats["executed_tasks"] == 3


def test_simulators_dying_before_they_take_a_chunk_count_no_crash_against_it(servers, tmp_path, monkeypatch):
    deaths = tmp_path / "deaths"
    deaths.mkdir()
    monkeypatch.setenv(DIE_STARTING_ENV, str(deaths))
    url = _serve(servers, "--workers", "1")
    # Three deaths as chunks arrive: past the crash-twice rule, were they counted against the tasks.
    for index in range(3):
        (deaths / f"chunk-{index}").touch()
    ids = _submit(url, [FLIP, FLIP])
    infos = [_wait_for(url, task_id, {"COMPLETED", "FAILED"}, 240) for task_id in ids]
    assert not list(deaths.iterdir())  # every planned death happened
    for info in infos:
        assert info["status"] == "COMPLETED", info["task_error"]
    stats = httpx.get(f"{url}/_emulator/stats", timeout=30).json()
    assert stats["crashes"] == 0 and stats["simulators"]["deaths"] == 3
    assert stats["executions"] == stats["executed_tasks"] == 2


def test_a_simulator_stuck_in_a_native_call_does_not_outlive_its_server(servers, monkeypatch):
    monkeypatch.setenv(HANG_MARKER_ENV, "HANG-ME")
    url = _serve(servers, "--workers", "1")
    server = servers[-1]
    (task_id,) = _submit(url, [FLIP + "// HANG-ME\n"])
    _wait_for(url, task_id, {"RUNNING"}, 60)
    simulators = _children(server.pid)
    assert simulators
    server.send_signal(signal.SIGTERM)
    # Bound: the dispatcher waits up to 10 s for running chunks, then the pool's 2 s grace; 30 s
    # leaves a wide margin for 2 busy cores.
    server.wait(30)
    poll_until(lambda: not any(_alive(pid) for pid in simulators), 5, "the simulators to be gone")


def test_an_idle_emulator_takes_back_a_dead_siblings_task(servers, tmp_path, monkeypatch):
    database = str(tmp_path / "tasks.sqlite3")
    monkeypatch.setenv(HANG_MARKER_ENV, "HANG-ME")
    first = _serve(servers, "--db", database, "--workers", "1")
    monkeypatch.delenv(HANG_MARKER_ENV)
    second = _serve(servers, "--db", database, "--workers", "1")  # no hangs here; nobody submits to it
    (task_id,) = _submit(first, [FLIP + "// HANG-ME\n"])
    _wait_for(first, task_id, {"RUNNING"}, 60)
    servers[0].kill()  # SIGKILL: its task stays RUNNING, owned by a process that is gone
    servers[0].wait()
    # The second emulator's heartbeat (every 5 s) sees the owner gone and runs the task.
    info = _wait_for(second, task_id, {"COMPLETED", "FAILED"}, 60)
    assert info["status"] == "COMPLETED" and info["results"] == {"c": {"1": 20}}
