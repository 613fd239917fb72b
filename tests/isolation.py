"""A pytest plugin loaded for every test, doctests included (``-p tests.isolation`` in pyproject).

Each test gets its own provider data folder and none of the caller's OQC settings (every variable
``oqc_provider.settings`` declares), so no test reads a developer's real token or writes into their
job store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oqc_provider.settings import NAMES as OQC_ENVIRONMENT
from oqc_provider.settings import PROVIDER_HOME


@pytest.fixture(autouse=True)
def _isolated_provider_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "oqc-provider-home"
    for name in OQC_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(PROVIDER_HOME.name, str(home))
    yield home
