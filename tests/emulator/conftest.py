"""Fixtures for the emulator tests: HTTP only, in-process (ASGITransport) or served (uvicorn).

Nothing is patched: tests speak the QCaaS protocol to the emulator and poll with a deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings, create_app
from tests.emulator.emulator_helpers import Api

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api() -> AsyncIterator[MakeApi]:
    """``await make_api(legacy=True, **settings)``: an Api on a fresh in-process emulator."""
    opened: list[tuple[httpx.AsyncClient, Any]] = []

    async def make(*, legacy: bool = True, headers: dict[str, str] | None = None, **settings: Any) -> Api:
        app = create_app(EmulatorSettings(**settings))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://emulator", headers=headers or {}
        )
        opened.append((client, app))
        return Api(client, legacy=legacy)

    yield make
    for client, app in opened:
        await client.aclose()
        app.state.emulator.close()


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()
