"""A folder the tests build once (a venv, an install beside the test venv) and then reuse.

A file lock makes concurrent test runs wait for one build instead of racing; a half-built folder (no
completion marker: the build failed or its process died) is removed and built again.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from pathlib import Path


def build_once(root: Path, build: Callable[[Path], None], description: str) -> Path:
    """``root``, built by ``build(root)`` unless a completed build is already there.

    ``description`` (what was built from) is written into the completion marker.
    """
    marker = root / ".complete"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(root, ignore_errors=True)
            build(root)
            marker.write_text(description)
    return root
