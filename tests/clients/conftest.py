"""Fixtures for OQC's public clients against ``oqc-provider emulator serve`` in its own process."""

from __future__ import annotations

import contextlib
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.clients.client_venv import ClientVenvError, UnsupportedPythonError, clients_python
from tests.clients.programs import LUCY_SIM, TOKEN
from tests.reliability.helpers import serve_cli_emulator

#: The client programs run in another venv; importing them here would fail (and is not wanted).
collect_ignore_glob = ["client_programs/*"]

SEED = 7


@contextlib.contextmanager
def cli_emulator(*options: str) -> Iterator[str]:
    """``oqc-provider emulator serve --port 0 OPTIONS...`` in its own process for the block; its URL."""
    server, url = serve_cli_emulator(*options)
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="session")
def served_cli_emulator() -> Iterator[str]:
    """``oqc-provider emulator serve --port P --token T --seed S``, as a user starts it; its URL."""
    with cli_emulator("--token", TOKEN, "--seed", str(SEED)) as url:
        yield url


@pytest.fixture(scope="session")
def oqc_clients_python() -> Path:
    """The clients' venv (built on first use; see ``client_venv``)."""
    try:
        return clients_python()
    except UnsupportedPythonError as exc:
        pytest.skip(str(exc))
    except ClientVenvError as exc:
        pytest.fail(f"Could not install OQC's clients for these tests: {exc}", pytrace=False)


@pytest.fixture
def client_env(served_cli_emulator: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment OQC's PennyLane plugin reads, set for the client programs (which read it too)."""
    settings = {"OQC_URL": served_cli_emulator, "OQC_AUTH_TOKEN": TOKEN, "OQC_DEVICE": LUCY_SIM}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def _requests_by_route(url: str) -> Counter[str]:
    stats = httpx.get(f"{url}/_emulator/stats", headers={"Authentication-Token": TOKEN}, timeout=10)
    return Counter(stats.json()["requests"])


@pytest.fixture
def requests_made(served_cli_emulator: str) -> Callable[[], Counter[str]]:
    """Call it after the client ran: the emulator's requests per route template since the test began.

    Routes the emulator does not serve count as ``"METHOD <unmatched>"``.
    """
    before = _requests_by_route(served_cli_emulator)
    return lambda: _requests_by_route(served_cli_emulator) - before
