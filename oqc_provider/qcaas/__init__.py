"""The wire layer: an async QCaaS client, its payload models, the CompilerConfig codec and errors.

Nothing here imports Qiskit, pytket or Aer: it is the part OQC's own SDK users would recognise,
and it must import fast. The client (and with it httpx) is imported on first use of its names:
the emulator's simulator processes read compiler configs and never speak HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    ErrorMitigationConfig,
    MetricsType,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)
from oqc_provider.qcaas.errors import *  # noqa: F403 - the hierarchy is the public surface
from oqc_provider.qcaas.errors import __all__ as _errors
from oqc_provider.qcaas.models import TaskStatus
from oqc_provider.qcaas.retry import RetryPolicy

if TYPE_CHECKING:
    from oqc_provider.qcaas.client import QcaasClient, ServerMode

__all__ = [
    "CompilerConfig",
    "ErrorMitigationConfig",
    "MetricsType",
    "QcaasClient",
    "QuantumResultsFormat",
    "RetryPolicy",
    "ServerMode",
    "TaskStatus",
    "Tket",
    "TketOptimizations",
    *_errors,
]


def __getattr__(name: str) -> Any:
    if name in ("QcaasClient", "ServerMode"):
        from oqc_provider.qcaas import client

        value = getattr(client, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
