"""The ``oqc-provider`` command line: QPUs, calibration, runs, the local job store, the demo, the emulator.

One module per command group — :mod:`.qpus` (``qpus``, ``calibration``), :mod:`.run` (``run``,
``demo``), :mod:`.jobs` (``jobs ...``), :mod:`.emulator` (``emulator serve``) — with the helpers they
share in :mod:`.common` and the application itself in :mod:`.app`. The console script is
``oqc_provider.cli:main``; ``python -m oqc_provider.cli`` runs it too.
"""

from __future__ import annotations

from oqc_provider.cli.app import app, main
from oqc_provider.cli.emulator import serve

__all__ = ["app", "main", "serve"]
