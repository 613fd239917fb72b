"""Doctests in docs/: the engine guides run against an emulator served on a loopback port.

The ``engine-*.md`` pages are OQC's SDK documents with only their imports changed, so they read
``OQC_URL`` / ``OQC_AUTHENTICATION_TOKEN`` exactly as a user's script would. A small queue latency
lets the cancellation example cancel a task before it runs, as on the real service.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread


@pytest.fixture(scope="session")
def served_emulator_url() -> Iterator[str]:
    with serve_in_thread(EmulatorSettings(latency=0.3, seed=2026)) as url:
        yield url


@pytest.fixture(autouse=True)
def _engine_pages_use_the_served_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.path.name.startswith("engine-"):
        url = request.getfixturevalue("served_emulator_url")
        monkeypatch.setenv("OQC_URL", url)
        monkeypatch.setenv("OQC_AUTHENTICATION_TOKEN", "docs-token")
