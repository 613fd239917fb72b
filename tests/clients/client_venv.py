"""A virtual environment holding OQC's older public clients, built once and reused.

``oqc-qcaas-client`` 3.22.1 (the newest on Python < 3.12) pins ``compiler-config < 0.3`` and the test
extra's ``oqc-qcaas-sdk`` needs ``>= 0.3.1``, so OQC's legacy client and its PennyLane plugin cannot be
installed beside this package's test dependencies. They get a venv of their own, built from
``requirements-oqc-clients.txt`` with the ordinary ``pip`` the first time a test needs it (about two
minutes and 500 MB, mostly PennyLane and SciPy), then reused: its folder is named after a hash of the
requirements and the Python version, so editing the requirements builds a fresh one.

The client programs run in that venv as subprocesses (``client_programs/``) and print one JSON line
that the tests read: the clients stay exactly as OQC ships them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import platformdirs

from tests.build_once import build_once

logger = logging.getLogger(__name__)

REQUIREMENTS = Path(__file__).with_name("requirements-oqc-clients.txt")
PROGRAMS = Path(__file__).with_name("client_programs")
#: Set to a Python that already has the requirements to skip building the venv.
PYTHON_OVERRIDE = "OQC_PROVIDER_CLIENTS_PYTHON"
#: A first build downloads PennyLane, SciPy and friends.
BUILD_TIMEOUT_S = 1200.0
#: The line prefix a client program writes its JSON answer after.
ANSWER_PREFIX = "OQC-CLIENT-ANSWER "


#: Every requirement installs on these Pythons only (PennyLane 0.43: >= 3.11; the client: < 3.13).
SUPPORTED_PYTHONS = ((3, 11), (3, 12))


class ClientVenvError(RuntimeError):
    """The clients' venv could not be built; the message carries pip's last words."""


class UnsupportedPythonError(ClientVenvError):
    """OQC's clients do not install on this Python at all: nothing to test here."""


def _venv_root() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    return Path(platformdirs.user_cache_dir("oqc-provider")) / "test-venvs" / f"oqc-clients-{digest}"


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise ClientVenvError(f"{what} failed (exit {done.returncode}):\n{tail}")


def clients_python() -> Path:
    """The Python of a venv with OQC's legacy client and PennyLane plugin; built on first use.

    Built once and reused (:func:`tests.build_once.build_once`).

    Raises:
        UnsupportedPythonError: this Python is one the clients' requirements do not support.
        ClientVenvError: ``python -m venv`` or ``pip install`` failed (e.g. no route to PyPI).
    """
    override = os.environ.get(PYTHON_OVERRIDE)
    if override:
        return Path(override)
    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        supported = " and ".join(".".join(map(str, version)) for version in SUPPORTED_PYTHONS)
        raise UnsupportedPythonError(
            f"OQC's legacy client and PennyLane plugin install on Python {supported} only."
        )
    return build_once(_venv_root(), _build_venv, REQUIREMENTS.read_text()) / "bin" / "python"


def _build_venv(root: Path) -> None:
    logger.warning("Building the OQC clients' venv in %s (first run only; a few minutes).", root)
    _run([sys.executable, "-m", "venv", str(root)], "python -m venv")
    pip = [str(root / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    _run([*pip, "-r", str(REQUIREMENTS)], f"pip install -r {REQUIREMENTS.name}")


def run_in_clients_venv(python: Path, args: list[str], stdin: str = "", timeout: float = 600.0) -> str:
    """Run ``python ARGS...`` in the clients' venv and return its stdout.

    ``timeout`` is the deadline for clients that never give up (the PennyLane plugin and the legacy
    client's ``execute_tasks`` poll without one); generous, for a loaded machine.

    A non-zero exit fails the test with the output, so a client-side exception (a wire
    incompatibility, usually) is shown as the client saw it.
    """
    done = subprocess.run(
        [str(python), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-40:])
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{tail}")
    return done.stdout


def run_client_program(python: Path, program: str, scenario: str, payload: Any = None) -> Any:
    """Run ``client_programs/<program>.py <scenario>`` in the clients' venv; return its JSON answer.

    ``payload`` goes to the program's stdin as JSON; the settings come from the environment.
    """
    stdout = run_in_clients_venv(python, [str(PROGRAMS / f"{program}.py"), scenario], json.dumps(payload))
    answers = [line for line in stdout.splitlines() if line.startswith(ANSWER_PREFIX)]
    assert answers, f"{program} {scenario} gave no answer:\n{stdout}"
    return json.loads(answers[-1][len(ANSWER_PREFIX) :])
