"""Where the provider keeps its files: the local job store and the in-process emulator's database.

The folder is ``OQC_PROVIDER_HOME`` when set (tests point it at a temporary folder), otherwise the
platform's user data directory (``~/.local/share/oqc-provider`` on Linux). It is created on first
use with mode 0700, because job records can name programs and task ids a user may not want shared.

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> provider_home().is_dir()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "OQC_PROVIDER_HOME"


def provider_home() -> Path:
    """The provider's data folder, created if missing, and made 0700 if it is not (an existing
    folder keeps whatever mode it had, and mkdir's mode is masked by the umask)."""
    configured = os.environ.get(HOME_ENV)
    home = Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("oqc-provider"))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_mode & 0o077:
        home.chmod(0o700)
    return home


def emulator_db_path() -> Path:
    """The SQLite file of the in-process emulator, so its tasks outlive the process."""
    return provider_home() / "emulator.sqlite3"
