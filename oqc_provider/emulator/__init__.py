"""The built-in QCaaS emulator: OQC's REST API (legacy and v4 layouts) with Qiskit Aer behind it.

It is a server, not a mock: use it in-process through ``httpx.ASGITransport(app=create_app())``,
served on a loopback port with :func:`serve_in_thread`, or from a shell with
``oqc-provider emulator serve``. Importing this package does not import Qiskit or Aer.
"""

from __future__ import annotations

from oqc_provider.emulator.app import EmulatorSettings, EmulatorState, FaultInjector, create_app
from oqc_provider.emulator.faults import FaultPlan
from oqc_provider.emulator.testing import serve_in_thread

__all__ = ["EmulatorSettings", "EmulatorState", "FaultInjector", "FaultPlan", "create_app", "serve_in_thread"]
