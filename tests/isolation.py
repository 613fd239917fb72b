"""A pytest plugin loaded for every test, doctests included (``-p tests.isolation`` in pyproject).

Each test gets its own provider data folder and none of the caller's OQC settings, so no test
reads a developer's real token or writes into their job store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

OQC_ENVIRONMENT = (
    "OQC_URL",
    "OQC_AUTHENTICATION_TOKEN",
    "OQC_QCAAS_V4",
    "OQC_ENTRA_ENABLED",
    "OQC_SDK_MAX_TRANSPORT_RETRIES",
    "OQC_SDK_MAX_BROADCAST_JOBS",
)


@pytest.fixture(autouse=True)
def _isolated_provider_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "oqc-provider-home"
    monkeypatch.setenv("OQC_PROVIDER_HOME", str(home))
    for name in OQC_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    yield home
