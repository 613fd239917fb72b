"""The built site in a real headless browser: pages render, the top menu fits on one row, pages fit
1280 px, the copy buttons copy code without prompts, and nothing logs an error.

Optional: it runs only where a Chromium is installed (``apt-get install chromium``), and skips
otherwise, so CI (``.ci/run``) does not depend on it. No browser-driver package is needed: a
small probe script is put into each built page's ``<head>`` (a copy in a temporary folder), it
records errors from the moment the page starts, measures the page once it has loaded, and writes
a JSON report into the DOM, which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "mkdocs" / "mkdocs.yml"
CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed: the in-browser check is optional"),
]

PAGES = [
    "",
    "quickstart/",
    "cli/",
    "configuration/",
    "qiskit/",
    "pytket/",
    "emulator/",
    "service-compilation/",
    "plots/",
    "benchmarks/",
    "engine-jobs/",
    "engine-save-load/",
    "from-oqc-qcaas-sdk/",
    "reliability/",
    "performance/",
]

PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    var target = e.target && (e.target.src || e.target.href);
    errors.push("error: " + (e.message || ("could not load " + target)));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { errors.push("rejection: " + e.reason); });
  var original = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    setTimeout(function () {
      var tabs = Array.prototype.slice.call(document.querySelectorAll(".md-tabs__item"));
      var rows = {};
      tabs.forEach(function (tab) { rows[Math.round(tab.getBoundingClientRect().top)] = true; });
      var article = document.querySelector("article");
      var copies = Array.prototype.map.call(
        document.querySelectorAll(".language-pycon code[data-copy]"),
        function (code) { return code.getAttribute("data-copy"); });
      var report = document.createElement("pre");
      report.id = "probe-report";
      report.textContent = JSON.stringify({
        errors: errors,
        tabs: tabs.length,
        tab_rows: Object.keys(rows).length,
        article_chars: article ? article.innerText.length : 0,
        code_blocks: document.querySelectorAll("article pre > code").length,
        copy_buttons: document.querySelectorAll("article .md-code__button[data-md-type=copy], "
          + "article .md-clipboard").length,
        copies: copies,
        page_overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        cut_blocks: Array.prototype.filter.call(
          document.querySelectorAll("article pre > code"),
          function (code) { return code.scrollWidth > code.clientWidth + 1; }).length
      });
      document.body.appendChild(report);
    }, 300);
  });
})();
</script>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site, built and probed, served on a loopback port; yields its base URL."""
    folder = tmp_path_factory.mktemp("browser") / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(CONFIG), "-d", str(folder)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for page in folder.rglob("*.html"):
        text = page.read_text()
        page.write_text(text.replace("<head>", "<head>" + PROBE, 1))
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def probe(url: str) -> dict[str, Any]:
    """Load ``url`` in headless Chromium (1280 px wide) and return the probe's report."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # as root in a container
            "--disable-gpu",
            "--window-size=1280,900",
            "--virtual-time-budget=5000",  # run the page's timers (the probe's included) before the dump
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'<pre id="probe-report">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no report from {url}: exit {done.returncode}, stderr {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.strip("/") or "home")
def test_the_page_renders_with_one_row_of_tabs_and_no_errors(site: str, page: str) -> None:
    report = probe(site + page)
    assert report["errors"] == []
    assert report["article_chars"] > 300, report
    assert report["tabs"] == 4 and report["tab_rows"] == 1, report  # the top menu does not wrap
    assert report["copy_buttons"] == report["code_blocks"], report


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.strip("/") or "home")
def test_the_page_fits_1280_px(site: str, page: str) -> None:
    """Nothing makes the page scroll sideways at 1280 px; on the home page no code block is cut off
    behind its own scroll bar either (elsewhere wide CLI tables may scroll inside their block)."""
    report = probe(site + page)
    assert report["page_overflow"] <= 0, report
    if page == "":
        assert report["cut_blocks"] == 0, report


def test_copy_buttons_copy_code_without_prompts_or_output(site: str) -> None:
    copies = probe(site + "quickstart/")["copies"]
    assert len(copies) == 3  # Qiskit, pytket, engine tabs
    qiskit = copies[0].splitlines()
    assert qiskit[0] == "from qiskit import QuantumCircuit, transpile"
    assert not any(line.startswith((">>>", "...")) for copy in copies for line in copy.splitlines())
    assert "(['00', '11'], 1000)" not in copies[0]  # output is not copied
    engine = copies[2].splitlines()
    assert 'h q[0]; cx q[0], q[1]; measure q -> c;"""' in engine  # a continuation line, prompt removed
