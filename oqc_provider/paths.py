"""Where the provider keeps its files: the local job store and the in-process emulator's database.

The folder is ``OQC_PROVIDER_HOME`` when set (tests point it at a temporary folder), otherwise the
platform's user data directory (``~/.local/share/oqc-provider`` on Linux). It is created on first
use with mode 0700, because job records can name programs and task ids a user may not want shared;
an existing folder keeps its mode (see :func:`provider_home`).

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> provider_home().is_dir()
    True
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import platformdirs

from oqc_provider.settings import PROVIDER_HOME

logger = logging.getLogger("oqc_provider")


def provider_home() -> Path:
    """The provider's data folder, created 0700 if missing.

    An existing folder keeps its mode: ``OQC_PROVIDER_HOME`` may point at a folder shared on
    purpose (a 1777 scratch folder, a team's folder), and changing it would break its other users.
    When others can read it, a warning says so once; what the provider keeps there stays private
    anyway (the job store's folder is 0700, its files and the emulator's database 0600).
    """
    configured = PROVIDER_HOME.read()
    home = Path(configured).expanduser() if configured else Path(platformdirs.user_data_dir("oqc-provider"))
    if not home.is_dir():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        home.chmod(0o700)  # mkdir's mode is masked by the umask
    else:
        mode = stat.S_IMODE(home.stat().st_mode)
        if mode & 0o077 and home not in _WARNED:
            _WARNED.add(home)
            logger.warning(
                "The provider's data folder %s is open to other users (mode %o); it is left as it is, "
                "and the provider's own files in it are private (0700 folder, 0600 files).",
                home,
                mode,
            )
    return home


#: Folders already warned about (once per process each).
_WARNED: set[Path] = set()


def emulator_db_path() -> Path:
    """The SQLite file of the in-process emulator, so its tasks outlive the process."""
    return provider_home() / "emulator.sqlite3"
