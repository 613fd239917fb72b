"""The wire layer: an async QCaaS client, its payload models, the CompilerConfig codec and errors.

Nothing here imports Qiskit, pytket or Aer: it is the part OQC's own SDK users would recognise,
and it must import fast.
"""

from oqc_provider.qcaas.client import QcaasClient, ServerMode
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
