"""The Qiskit front end: OQC's QPUs as ``BackendV2`` backends, over the job engine.

Modules: :mod:`~oqc_provider.qiskit.provider` (``OQCProvider``), :mod:`~oqc_provider.qiskit.backend`
(``OQCBackend``), :mod:`~oqc_provider.qiskit.target` (Target from device and calibration),
:mod:`~oqc_provider.qiskit.translate` (circuit checks, OpenQASM 2), :mod:`~oqc_provider.qiskit.results`
(engine outputs to ``Result``), :mod:`~oqc_provider.qiskit.job` (``OQCJob``) and
:mod:`~oqc_provider.qiskit.primitives` (``OQCSamplerV2``, ``OQCEstimatorV2``; their results hold the
shots pre- or post-selection kept).

Example:
    >>> from oqc_provider import OQCProvider
    >>> OQCProvider().get_backend("Lucy Simulator").num_qubits
    8
"""

from oqc_provider.qiskit.backend import OQCBackend
from oqc_provider.qiskit.job import OQCJob
from oqc_provider.qiskit.primitives import OQCEstimatorV2, OQCPrimitiveJob, OQCSamplerV2
from oqc_provider.qiskit.provider import OQCProvider
from oqc_provider.qiskit.translate import CircuitValidationError, ConditionalOperationError
from oqc_provider.qiskit.waiting import (
    OQCJobNotSentError,
    OQCJobTimeoutError,
    OQCServiceUnreachableError,
    OQCTaskUnknownError,
)

__all__ = [
    "CircuitValidationError",
    "ConditionalOperationError",
    "OQCBackend",
    "OQCEstimatorV2",
    "OQCJob",
    "OQCJobNotSentError",
    "OQCJobTimeoutError",
    "OQCPrimitiveJob",
    "OQCProvider",
    "OQCSamplerV2",
    "OQCServiceUnreachableError",
    "OQCTaskUnknownError",
]
