"""qermit for the tests, installed beside the test venv instead of into it.

qermit's own requirements would downgrade pytket-qiskit and matplotlib and pull in the Quantinuum
toolchain, so it is not in the test extra. Its modules need nothing the test venv lacks, so they
are installed once without their dependencies (``pip install --no-deps --target``) into a cached
folder, and the ZNE test runs in a subprocess with that folder on ``PYTHONPATH``: nothing it
brings can change the modules the rest of the suite imports.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import platformdirs

from tests.build_once import build_once

#: Pinned together: the versions the ZNE test was written against.
REQUIREMENTS = ("qermit==0.9.3", "pytket-quantinuum==0.58.1", "pytket-qir==2.0.2", "pyqir==0.12.7")
INSTALL_TIMEOUT_S = 600


class OverlayError(RuntimeError):
    """pip could not install the overlay; the message carries pip's last words."""


def qermit_overlay() -> Path:
    """The folder holding qermit and its Quantinuum modules, installed on first use."""
    digest = hashlib.sha256(("\n".join(REQUIREMENTS) + sys.version).encode()).hexdigest()[:12]
    root = Path(platformdirs.user_cache_dir("oqc-provider")) / "test-overlays" / f"qermit-{digest}"
    return build_once(root, _install, "\n".join(REQUIREMENTS))


def _install(root: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    command += ["--no-deps", "--target", str(root), *REQUIREMENTS]
    done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise OverlayError(f"pip install --no-deps --target {root} failed:\n{tail}")
