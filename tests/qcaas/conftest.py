"""Fixtures for the wire-layer tests (helpers live in ``qcaas_fakes``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from oqc_provider.qcaas.client import QcaasClient
from tests.qcaas.qcaas_fakes import BASE, FAST, TOKEN, FakeQcaas


@pytest.fixture
def fake() -> FakeQcaas:
    return FakeQcaas()


@pytest.fixture
def make_client(fake: FakeQcaas) -> Callable[..., QcaasClient]:
    """``make_client(mode=..., retry=...)``: a client talking to ``fake`` through MockTransport."""

    def make(**kwargs: Any) -> QcaasClient:
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("mode", fake.mode)
        return QcaasClient(BASE, transport=httpx.MockTransport(fake), **kwargs)

    return make


# --- emulators shared by the whole session -----------------------------------------------------------
#
# Session-scoped: one long-lived emulator per flavour is faster, and it kept these tests clear of a
# segfault (qiskit.qasm2 on a fresh worker thread after an earlier emulator's worker had exited)
# that the emulator has since fixed by running every task on one long-lived thread (8c80063).

EMULATOR_SETTINGS: dict[str, Any] = {"required_token": TOKEN, "seed": 11}


@pytest.fixture(scope="session")
def served_url() -> Iterator[str]:
    """An emulator served by uvicorn on a loopback port (both server layouts at once)."""
    from oqc_provider.emulator import EmulatorSettings, serve_in_thread

    with serve_in_thread(EmulatorSettings(**EMULATOR_SETTINGS)) as url:
        yield url


def _app(**settings: Any) -> Iterator[Any]:
    from oqc_provider.emulator import EmulatorSettings, create_app

    app = create_app(EmulatorSettings(**{**EMULATOR_SETTINGS, **settings}))
    try:
        yield app
    finally:
        app.state.emulator.close()


@pytest.fixture(scope="session")
def emulator_app() -> Iterator[Any]:
    """An in-process emulator app (mount with ``httpx.ASGITransport``)."""
    yield from _app()


@pytest.fixture(scope="session")
def slow_emulator_app() -> Iterator[Any]:
    """An in-process emulator whose tasks wait 30 s before running, so they can be cancelled."""
    yield from _app(latency=30.0)
