"""What the docs' copy buttons give runs when pasted into a plain ``python -i``, into IPython and
into a script.

The site is built as CI builds it; each page's code blocks are read from the HTML as the browser
sees them, and docs/javascripts/copy-without-prompts.js itself (run under node, with the two DOM
calls it makes provided) turns them into the copy text, so the test pastes exactly what the button
copies. The plain REPL (3.10-3.12) is the strict one: a blank line inside an indented block ends
it, and a statement right after a block without a blank line is a SyntaxError.

Console examples (```pycon) of a page are pasted one after another into one ``python -i`` with
nothing configured (the built-in emulator), as a reader would; every traceback must be one the
page shows. Script blocks (```python) are fragments (they name objects from the text around them,
or packages outside the provider), so each must paste without a SyntaxError.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "mkdocs" / "mkdocs.yml"
COPY_SCRIPT = ROOT / "docs" / "javascripts" / "copy-without-prompts.js"
NODE = shutil.which("node") or shutil.which("nodejs")
PAGES = sorted(path.stem for path in (ROOT / "docs").glob("*.md"))
TRACEBACK = "Traceback (most recent call last)"
NOT_PASTEABLE = ("SyntaxError", "IndentationError")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="no node: the copy script cannot be run outside a browser"),
]

_BLOCK = re.compile(
    r'<div class="language-(\w+) highlight">(?:<span class="filename">.*?</span>)?<pre>.*?<code>(.*?)</code>',
    re.S,
)
_TAG = re.compile(r"<[^>]+>")

# The two DOM calls the copy script makes, over the blocks given on stdin; prints each block's
# copy text (its data-copy attribute, else its text, as mkdocs-material's button does).
_NODE_SHIM = """
const fs = require("fs");
const blocks = JSON.parse(fs.readFileSync(0, "utf8"));
const codes = blocks.map((block) => ({
  language: block.language, textContent: block.text, copy: null,
  setAttribute(name, value) { if (name === "data-copy") this.copy = value; },
}));
global.document = {
  querySelectorAll(selector) {
    const wanted = /^\\.language-(\\w+) pre > code$/.exec(selector);
    if (!wanted) throw new Error("unexpected selector " + selector);
    return codes.filter((code) => code.language === wanted[1]);
  },
  addEventListener(event, callback) { if (event === "DOMContentLoaded") callback(); },
};
require(process.argv[2]);
process.stdout.write(JSON.stringify(codes.map((code) => code.copy === null ? code.textContent : code.copy)));
"""


def copy_texts(blocks: list[tuple[str, str]], workdir: Path) -> list[str]:
    """What the copy button copies for each ``(language, text)`` block: the copy script, run by node."""
    assert NODE is not None
    shim = workdir / "copy-shim.js"
    shim.write_text(_NODE_SHIM)
    done = subprocess.run(
        [NODE, str(shim), str(COPY_SCRIPT)],
        input=json.dumps([{"language": language, "text": text} for language, text in blocks]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str, str]]]:
    """Per page: (language, the block's text, what its copy button copies), in page order."""
    folder = tmp_path_factory.mktemp("paste")
    site = folder / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(CONFIG), "-d", str(site)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pages: dict[str, list[tuple[str, str]]] = {}
    for page in PAGES:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        pages[page] = [
            (language, html.unescape(_TAG.sub("", code)))
            for language, code in _BLOCK.findall(built.read_text())
        ]
    copied = iter(copy_texts([block for blocks in pages.values() for block in blocks], folder))
    return {page: [(lang, text, next(copied)) for lang, text in blocks] for page, blocks in pages.items()}


def _paste(
    command: list[str], text: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> str:
    """Feed ``text`` to an interactive interpreter's stdin; return what it wrote to stderr."""
    done = subprocess.run(
        command, input=text, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    return done.stderr + done.stdout


PLAIN_REPL = [sys.executable, "-i", "-q"]
IPYTHON = [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"]


@pytest.fixture(scope="module")
def pasted(
    copies: dict[str, list[tuple[str, str, str]]], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Future[str]]:
    """Every page's console examples pasted into each REPL, two sessions at a time.

    Each session waits mostly on its emulator's simulator processes, so on 2 cores two at once take
    little longer than one; each gets a folder and a provider home of its own, so their job stores
    and emulator databases never meet. The tests read their page's output as it is ready.
    """
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="paste")
    sessions: dict[tuple[str, str], Future[str]] = {}
    repls = {"python": PLAIN_REPL} | (
        {"ipython": IPYTHON} if shutil.which("ipython") or _has_ipython() else {}
    )
    for repl, command in repls.items():
        for page in PAGES if repl == "python" else IPYTHON_PAGES:
            text, _ = _console(copies[page])
            if not text.strip():
                continue
            folder = tmp_path_factory.mktemp(f"paste-{repl}-{page}")
            env = {**os.environ, "OQC_PROVIDER_HOME": str(folder / "oqc-provider-home")}
            sessions[repl, page] = pool.submit(_paste, command, text, folder, env=env)
    pool.shutdown(wait=False)
    return sessions


def _has_ipython() -> bool:
    try:
        import IPython  # noqa: F401
    except ImportError:
        return False
    return True


def _console(blocks: list[tuple[str, str, str]]) -> tuple[str, int]:
    """A page's console examples as copied, one after another, and how many tracebacks it shows."""
    console = [(text, copy) for language, text, copy in blocks if language == "pycon" and ">>>" in text]
    return "\n".join(copy for _, copy in console) + "\n", sum(text.count(TRACEBACK) for text, _ in console)


def test_every_page_has_its_blocks(copies: dict[str, list[tuple[str, str, str]]]) -> None:
    assert set(copies) == set(PAGES)
    assert sum(len(blocks) for blocks in copies.values()) > 50
    quickstart = _console(copies["quickstart"])[0]
    assert quickstart.startswith("from qiskit import QuantumCircuit, transpile\n")
    assert not any(line.startswith((">>>", "...")) for line in quickstart.splitlines())


def test_the_copy_ends_every_block_for_a_repl(tmp_path: Path) -> None:
    """The two things the plain REPL refuses, fixed in the copy text (shown on a made-up block)."""
    console = ">>> def f():\n...     x = 1\n...\n...     return x\n>>> f()\n1\n"
    console += ">>> for i in range(2): pass\n>>> i\n1\n"
    script = "def g():\n    a = 1\n\n    return a\nprint(g())\n"
    copied_console, copied_script = copy_texts([("pycon", console), ("python", script)], tmp_path)
    assert copied_console == "def f():\n    x = 1\n    return x\n\nf()\nfor i in range(2): pass\n\ni"
    assert copied_script == "def g():\n    a = 1\n    return a\n\nprint(g())"


@pytest.mark.parametrize("page", PAGES)
def test_console_examples_paste_into_a_plain_repl(
    copies: dict[str, list[tuple[str, str, str]]], pasted: dict[tuple[str, str], Future[str]], page: str
) -> None:
    text, shown = _console(copies[page])
    if not text.strip():
        pytest.skip(f"{page}.md has no console examples")
    compile(text, f"{page}.md (as a script)", "exec")  # pasted into a script: it parses
    output = pasted["python", page].result()
    assert not any(error in output for error in NOT_PASTEABLE), output[-3000:]
    assert output.count(TRACEBACK) <= shown, output[-3000:]


def test_script_blocks_paste_into_a_plain_repl(
    copies: dict[str, list[tuple[str, str, str]]], tmp_path: Path
) -> None:
    scripts = [
        (page, copy)
        for page, blocks in copies.items()
        for language, _, copy in blocks
        if language == "python"
    ]
    assert len(scripts) >= 5
    for page, script in scripts:
        compile(script, f"{page}.md", "exec")
        output = _paste([sys.executable, "-i", "-q"], script + "\n", tmp_path, timeout=120)
        assert not any(error in output for error in NOT_PASTEABLE), (page, script, output[-3000:])


#: Pages pasted into IPython too: the ones with blocks, async code and exceptions (every page would
#: double this file's time; IPython is the lenient one of the two REPLs).
IPYTHON_PAGES = ["quickstart", "engine-jobs", "from-oqc-qcaas-sdk"]


@pytest.mark.parametrize("page", IPYTHON_PAGES)
def test_console_examples_paste_into_ipython(
    copies: dict[str, list[tuple[str, str, str]]], pasted: dict[tuple[str, str], Future[str]], page: str
) -> None:
    pytest.importorskip("IPython")
    text, shown = _console(copies[page])
    if not text.strip():
        pytest.skip(f"{page}.md has no console examples")
    output = pasted["ipython", page].result()
    assert not any(error in output for error in NOT_PASTEABLE), output[-3000:]
    assert output.count(TRACEBACK) <= shown, output[-3000:]
