"""Run Qiskit and pytket circuits on OQC's QPUs through QCaaS, or offline on a built-in emulator."""

from __future__ import annotations

__version__ = "0.1.0"
