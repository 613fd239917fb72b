"""Shared helpers for the reliability tests: emulators (in-process or served) and programs.

Every test speaks HTTP to a real emulator app; nothing is patched. Faults come from the
emulator's own seeded :class:`~oqc_provider.emulator.faults.FaultPlan`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.state import RESUBMIT_POLICIES as RESUBMIT_POLICIES  # for the tests
from oqc_provider.engine import OqcSdk
from oqc_provider.engine.batch import PollSchedule
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from oqc_provider.qcaas.retry import RetryPolicy

LUCY_SIM = "qpu:uk:2:d865b5a184"
TOSHIKO_SIM = "qpu:jp:3:673b1ad43c"
#: Fast retries, so fault-heavy tests finish in seconds (the policy's logic is unchanged).
FAST_RETRY = RetryPolicy(max_attempts=6, initial_wait=0.01, max_wait=0.05, max_retry_after=1.0)
FAST_POLL = PollSchedule(first=0.01, factor=2.0, longest=0.05)
SHOTS = CompilerConfig(repeats=20, results_format=QuantumResultsFormat.binary_count())


def assert_ran_once_each(stats: dict[str, Any], programs: int) -> None:
    """Every program was queued once by the server: counted as submissions that queued, not as ids.

    Submissions, not simulations, because a duplicate is decided when the server queues it: a rerun
    queued last may not have been simulated yet when the stats are read.
    """
    assert stats["queued_more_than_once"] == [], stats["queued_more_than_once"]
    assert stats["submissions"] == programs, stats["submissions"]


def program(index: int) -> str:
    """A distinct one-qubit program per index (its angle differs), always measuring 1."""
    return (
        'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; '
        f"rz({index % 997}*0.001) q[0]; x q[0]; measure q[0] -> c[0];"
    )


class InProcess:
    """An emulator app mounted in-process, with a raw HTTP view of its counters."""

    def __init__(self, **settings: Any) -> None:
        self.app = create_app(EmulatorSettings(**settings))

    @property
    def state(self) -> Any:
        return self.app.state.emulator

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self.transport(), base_url="http://emulator") as http:
            response = await http.get("/_emulator/stats")
            response.raise_for_status()
            return response.json()

    def sdk(self, **kwargs: Any) -> OqcSdk:
        """A session with this emulator (through ``transport=`` when given, e.g. a fault transport)."""
        kwargs.setdefault("transport", self.transport())
        kwargs.setdefault("default_qpu_id", LUCY_SIM)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("poll_schedule", FAST_POLL)
        kwargs.setdefault("authentication_token", "test-token")
        kwargs.setdefault("allow_insecure", True)  # in-process: nothing leaves the machine
        return OqcSdk(url="http://emulator", **kwargs)

    def close(self) -> None:
        self.state.close()


def served_stats(url: str) -> dict[str, Any]:
    """``/_emulator/stats`` of a served emulator."""
    return httpx.get(f"{url}/_emulator/stats", timeout=10).json()


def poll_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait (polling, with a deadline) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}.")
        time.sleep(0.02)


def start_cli_emulator(port: int, *options: str) -> subprocess.Popen[bytes]:
    """``oqc-provider emulator serve --port PORT OPTIONS...`` in its own process, once it answers."""
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "oqc_provider.cli", "emulator", "serve"),
            *("--port", str(port), "--log-level", "warning", *options),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"the emulator exited with {server.returncode}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    poll_until(up, 120, "the CLI emulator to answer (it opens its port once a simulator is warm)")
    return server


def serve_cli_emulator(
    *options: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``oqc-provider emulator serve --port 0 OPTIONS...`` in its own process: the system picks a free
    port (no race with another process taking it), read back from the "listening on" line, which the
    server prints once it answers. Returns the process and its base URL."""
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "oqc_provider.cli", "emulator", "serve"),
            *("--port", "0", "--log-level", "warning", *options),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert server.stdout is not None
    for line in server.stdout:  # ends when the server exits
        text = line.decode()
        if "listening on " in text:
            return server, text.split("listening on ", 1)[1].split()[0]
    server.wait()
    raise AssertionError(f"the emulator exited with {server.returncode} before listening")
