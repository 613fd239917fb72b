"""The base of every error ``oqc_provider`` raises, and the map of the whole tree.

Catch :class:`OqcProviderError` to catch anything the package raises on purpose. Each subclass also
derives from the standard exception that fits (``ValueError``, ``TimeoutError``, ...) or from the
framework's own (Qiskit's ``JobTimeoutError``, pytket's ``CircuitNotValidError``), so code written for
those catches them too. Messages say what was wrong and what to do; none ever contains a credential.

The tree (each class lives with the layer that raises it)::

    OqcProviderError                          oqc_provider.errors
    ├── ConfigurationError (ValueError)       oqc_provider.errors: a missing token, a bad URL or option
    │   └── InvalidUrlError                   oqc_provider.connection: a malformed or insecure URL
    ├── ConfigDecodeError (ValueError)        oqc_provider.qcaas.errors: an unreadable compiler config
    ├── UnknownQpuError (ValueError)          oqc_provider.qcaas.errors
    ├── RequestTooLargeError (ValueError)     oqc_provider.qcaas.errors: over 128 KiB, not sent
    ├── UnsupportedOperationError             oqc_provider.qcaas.errors: no endpoint in this server mode
    ├── QcaasError                            oqc_provider.qcaas.errors: talking to QCaaS or the emulator
    │   ├── ServerError  (alias ServerException)
    │   │   ├── AuthenticationError           HTTP 401/403
    │   │   ├── NotFoundError                 HTTP 404
    │   │   ├── RequestRejectedError          HTTP 400/409/413/422
    │   │   └── TransientServerError  (alias ConnectionFailureException)
    │   │       └── ServiceUnavailableError   no answer, or none in time
    │   └── ProtocolError                     a 200 answer this client cannot read
    ├── JobFailed (RuntimeError)              oqc_provider.engine.errors
    ├── JobNotSubmittedError (RuntimeError)   oqc_provider.engine.errors
    ├── SnapshotError (ValueError)            oqc_provider.engine.errors
    ├── JobStoreError                         oqc_provider.engine.errors
    ├── SubmissionIncomplete (TimeoutError)   oqc_provider.engine.errors
    ├── JobStillActive (TimeoutError)         oqc_provider.engine.errors
    ├── BudgetExceededError (RuntimeError)    oqc_provider.engine.errors: refused before sending
    │   └── PriceNotPublishedError            a budget is set and a price is unknown
    ├── CircuitValidationError (ValueError)   oqc_provider.qiskit
    │   └── ConditionalOperationError
    ├── OQCJobTimeoutError (JobTimeoutError)  oqc_provider.qiskit.waiting: a wait ended, the job goes on
    │   └── OQCServiceUnreachableError        the service stopped answering
    │       └── OQCJobNotSentError            circuits could not be sent
    ├── OQCTaskUnknownError (JobError)        oqc_provider.qiskit.waiting: the service does not know the tasks
    ├── PrimitiveCircuitError                 oqc_provider.qiskit.primitives
    ├── PreflightError (ValueError)           oqc_provider.preflight: a known refusal or limit; not sent
    ├── InvalidCircuitError (CircuitNotValidError)        oqc_provider.pytket
    ├── HandleError (ResultHandleTypeError)   oqc_provider.pytket
    ├── ResultTimeoutError (TimeoutError)     oqc_provider.pytket
    │   └── ServiceUnreachableError           the service stopped answering
    │       └── CircuitsNotSentError          circuits could not be sent
    ├── TaskUnknownError (RuntimeError)       oqc_provider.pytket: the service does not know the tasks
    ├── CircuitCancelledError                 oqc_provider.pytket
    ├── PlotDependencyError (ImportError)     oqc_provider.plots: matplotlib is not installed
    ├── FaultPlanError (ValueError)           oqc_provider.emulator.faults: a bad fault plan
    ├── WindowSpecError (ValueError)          oqc_provider.emulator.windows: a bad execution window
    ├── WorkerStartError (RuntimeError)       oqc_provider.emulator.simulation_failures: no simulator process
    ├── ServerStartError (RuntimeError)       oqc_provider.emulator.testing: the served emulator did not start
    └── TaskStoreError (RuntimeError)         oqc_provider.emulator.store: a damaged task database (named)

Not in the tree, on purpose: the emulator's internal signals (``ApiError``, ``ProgramError``,
``WorkerCrashed``, ``SimulationInterrupted``) never leave the server -- they become HTTP answers or failed
tasks -- and an injected ``DroppedConnection`` is an ``httpx`` error because it stands for a broken network.

Every error of the tree reports itself as ``oqc_provider.errors.<Name>`` wherever it is defined (as
``httpx`` errors report ``httpx.<Name>``), so a traceback shows the one public path, and each can be
imported from here (:data:`DEFINED_IN`; those of the upper layers load on first use). A saved or
pickled error names that path too, and errors pickle whatever their constructor's signature: they cross
process boundaries (a simulator process, a test's served emulator).

Example:
    >>> from oqc_provider.errors import UnknownQpuError
    >>> error = UnknownQpuError("No QPU called 'Lucky'.")
    >>> type(error)
    <class 'oqc_provider.errors.UnknownQpuError'>
    >>> error.__reduce__()[1][0].__module__  # how a pickle names it
    'oqc_provider.errors'

This module imports nothing from the package at import time, so every layer (the emulator included)
can import it.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Every error of the tree: its name -> the module that defines it (where it lives, with the layer that
#: raises it). ``tests/test_errors.py`` checks that every subclass of OqcProviderError is listed.
DEFINED_IN: dict[str, str] = {
    "OqcProviderError": __name__,
    "ConfigurationError": __name__,
    "InvalidUrlError": "oqc_provider.connection",
    "ConfigDecodeError": "oqc_provider.qcaas.errors",
    "UnknownQpuError": "oqc_provider.qcaas.errors",
    "RequestTooLargeError": "oqc_provider.qcaas.errors",
    "UnsupportedOperationError": "oqc_provider.qcaas.errors",
    "QcaasError": "oqc_provider.qcaas.errors",
    "ServerError": "oqc_provider.qcaas.errors",
    "AuthenticationError": "oqc_provider.qcaas.errors",
    "NotFoundError": "oqc_provider.qcaas.errors",
    "RequestRejectedError": "oqc_provider.qcaas.errors",
    "TransientServerError": "oqc_provider.qcaas.errors",
    "ServiceUnavailableError": "oqc_provider.qcaas.errors",
    "ProtocolError": "oqc_provider.qcaas.errors",
    "JobFailed": "oqc_provider.engine.errors",
    "JobNotSubmittedError": "oqc_provider.engine.errors",
    "SnapshotError": "oqc_provider.engine.errors",
    "JobStoreError": "oqc_provider.engine.errors",
    "SubmissionIncomplete": "oqc_provider.engine.errors",
    "JobStillActive": "oqc_provider.engine.errors",
    "BudgetExceededError": "oqc_provider.engine.errors",
    "PriceNotPublishedError": "oqc_provider.engine.errors",
    "CircuitValidationError": "oqc_provider.qiskit.translate",
    "ConditionalOperationError": "oqc_provider.qiskit.translate",
    "OQCJobTimeoutError": "oqc_provider.qiskit.waiting",
    "OQCServiceUnreachableError": "oqc_provider.qiskit.waiting",
    "OQCJobNotSentError": "oqc_provider.qiskit.waiting",
    "OQCTaskUnknownError": "oqc_provider.qiskit.waiting",
    "PrimitiveCircuitError": "oqc_provider.qiskit.primitives",
    "PreflightError": "oqc_provider.preflight",
    "InvalidCircuitError": "oqc_provider.pytket.errors",
    "HandleError": "oqc_provider.pytket.errors",
    "ResultTimeoutError": "oqc_provider.pytket.errors",
    "ServiceUnreachableError": "oqc_provider.pytket.errors",
    "CircuitsNotSentError": "oqc_provider.pytket.errors",
    "TaskUnknownError": "oqc_provider.pytket.errors",
    "CircuitCancelledError": "oqc_provider.pytket.errors",
    "PlotDependencyError": "oqc_provider.plots",
    "FaultPlanError": "oqc_provider.emulator.faults",
    "WindowSpecError": "oqc_provider.emulator.windows",
    "WorkerStartError": "oqc_provider.emulator.simulation_failures",
    "ServerStartError": "oqc_provider.emulator.testing",
    "TaskStoreError": "oqc_provider.emulator.store",
}


def _rebuilt(cls: type[OqcProviderError], args: tuple[Any, ...]) -> OqcProviderError:
    """An error unpickled without calling its ``__init__`` (whose signature differs from ``args``);
    pickle then restores its attributes."""
    error = cls.__new__(cls, *args)
    error.args = args  # (OSError's subclasses, TimeoutError's among them, set them in __init__ only)
    return error


class OqcProviderError(Exception):
    """Base class of every error raised by ``oqc_provider``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The public path, set where the class is defined (a subclass elsewhere, a test's, keeps its own).
        if DEFINED_IN.get(cls.__qualname__) == cls.__module__:
            cls.__module__ = __name__

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling calls ``type(self)(*self.args)``, which fails for the errors whose
        # constructor takes keyword-only or extra arguments; the attributes are restored as they are.
        # (The attributes go third, set once the error exists: some refer to it, e.g. JobFailed.failures.)
        return (_rebuilt, (type(self), self.args), self.__dict__)


class ConfigurationError(OqcProviderError, ValueError):
    """The provider was set up wrongly: a missing token, a malformed or insecure URL, a bad option.

    Defined here rather than with the wire because every layer raises it, down to
    :mod:`oqc_provider.settings` (a malformed ``OQC_*`` variable).
    """


def __getattr__(name: str) -> type[OqcProviderError]:
    """An error of an upper layer, imported from where it is defined on first use (by name: this module
    stays below every layer)."""
    module = DEFINED_IN.get(name)
    if module is None or module == __name__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    error: type[OqcProviderError] = getattr(importlib.import_module(module), name)
    globals()[name] = error
    return error


def __dir__() -> list[str]:
    return sorted({*globals(), *DEFINED_IN})


__all__ = ["DEFINED_IN", "ConfigurationError", "OqcProviderError"]
