"""The built-in QCaaS emulator: OQC's REST API (legacy and v4 layouts) with Qiskit Aer behind it.

It is a server, not a mock: use it in-process through ``httpx.ASGITransport(app=create_app())``,
served on a loopback port with :func:`serve_in_thread`, or from a shell with
``oqc-provider emulator serve``. Importing this package does not import Qiskit or Aer.

The names below are imported on first use: a simulator process runs
``oqc_provider.emulator.simulator_process``, and importing this package must not make it load the
web app (Starlette, httpx, the routes) it never serves.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oqc_provider.emulator.app import EmulatorSettings, EmulatorState, FaultInjector, create_app
    from oqc_provider.emulator.faults import FaultPlan
    from oqc_provider.emulator.testing import serve_in_thread

__all__ = ["EmulatorSettings", "EmulatorState", "FaultInjector", "FaultPlan", "create_app", "serve_in_thread"]

_HOMES = {
    "EmulatorSettings": "app",
    "EmulatorState": "app",
    "FaultInjector": "app",
    "create_app": "app",
    "FaultPlan": "faults",
    "serve_in_thread": "testing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
