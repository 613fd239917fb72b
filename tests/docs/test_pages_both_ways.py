"""Every docs page runs as pasted in both of a reader's worlds.

pytest collects ``docs/*.md`` as doctests (``--doctest-glob``) with nothing configured: the
built-in emulator, as for a reader who has just installed the package. This test runs every
page's examples a second time with ``OQC_URL`` and ``OQC_AUTHENTICATION_TOKEN`` pointing at an
emulator served on a loopback port, as for a reader with a service configured. A page whose
examples only work one way fails one of the two.
"""

from __future__ import annotations

import doctest
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(page for page in DOCS.glob("*.md") if ">>> " in page.read_text())


@pytest.fixture(scope="module")
def served_url() -> Iterator[str]:
    # A small queue latency lets the cancellation example cancel a task before it runs.
    with serve_in_thread(EmulatorSettings(latency=0.3, seed=2026)) as url:
        yield url


def run_page(page: Path) -> tuple[int, int, str]:
    """Run ``page``'s examples as pytest's doctest collection does; (failed, tried, report)."""
    test = doctest.DocTestParser().get_doctest(
        page.read_text(), {"__name__": "__main__"}, page.name, str(page), 0
    )
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)  # pytest's default flags
    result = runner.run(test, out=report.write)
    return result.failed, result.attempted, report.getvalue()


def test_pages_are_found() -> None:
    assert {"quickstart.md", "qiskit.md", "pytket.md", "engine-jobs.md", "engine-save-load.md"} <= {
        page.name for page in PAGES
    }


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_the_page_runs_with_oqc_url_set(page: Path, served_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQC_URL", served_url)
    monkeypatch.setenv("OQC_AUTHENTICATION_TOKEN", "docs-token")
    failed, tried, report = run_page(page)
    assert tried > 0
    assert failed == 0, report
