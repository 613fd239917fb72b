"""The pytket front end: :class:`OQCTketBackend`, a pytket ``Backend`` for OQC QPUs.

``from oqc_provider import OQCTketBackend`` loads this package (and pytket) on first use only.

Example:
    >>> from oqc_provider import OQCTketBackend
    >>> with OQCTketBackend("Lucy Simulator") as backend:
    ...     backend.backend_info.device_name
    'Lucy Simulator'
"""

from oqc_provider.pytket.backend import OQCTketBackend
from oqc_provider.pytket.errors import (
    CircuitCancelledError,
    CircuitsNotSentError,
    HandleError,
    InvalidCircuitError,
    ResultTimeoutError,
    ServiceUnreachableError,
    TaskUnknownError,
)

__all__ = [
    "CircuitCancelledError",
    "CircuitsNotSentError",
    "HandleError",
    "InvalidCircuitError",
    "OQCTketBackend",
    "ResultTimeoutError",
    "ServiceUnreachableError",
    "TaskUnknownError",
]
