"""Run Qiskit and pytket circuits on OQC's QPUs through QCaaS, or offline on a built-in emulator.

``import oqc_provider`` stays light: Qiskit, pytket, Aer and the emulator load only when the names
that need them are first used.

Example:
    >>> import oqc_provider
    >>> oqc_provider.__version__
    '0.1.0'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oqc_provider._version import __version__

# Public name -> module that defines it, imported on first access.
_LAZY = {
    "OQCProvider": "oqc_provider.qiskit",
    "OQCBackend": "oqc_provider.qiskit",
    "OQCJob": "oqc_provider.qiskit",
    "OQCTketBackend": "oqc_provider.pytket",
    "OqcSdk": "oqc_provider.engine",
    "SyncSdk": "oqc_provider.engine",
    "Tracker": "oqc_provider.engine",
    "CostEstimate": "oqc_provider.engine",
    "BudgetExceededError": "oqc_provider.engine",
    "PriceNotPublishedError": "oqc_provider.engine",
}

if TYPE_CHECKING:
    from oqc_provider.engine import (
        BudgetExceededError,
        CostEstimate,
        OqcSdk,
        PriceNotPublishedError,
        SyncSdk,
        Tracker,
    )
    from oqc_provider.pytket import OQCTketBackend
    from oqc_provider.qiskit import OQCBackend, OQCJob, OQCProvider

__all__ = [
    "BudgetExceededError",
    "CostEstimate",
    "OQCBackend",
    "OQCJob",
    "OQCProvider",
    "OQCTketBackend",
    "OqcSdk",
    "PriceNotPublishedError",
    "SyncSdk",
    "Tracker",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'oqc_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
