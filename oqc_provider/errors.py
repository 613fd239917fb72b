"""The base of every error ``oqc_provider`` raises, and the map of the whole tree.

Catch :class:`OqcProviderError` to catch anything the package raises on purpose. Each subclass also
derives from the standard exception that fits (``ValueError``, ``TimeoutError``, ...) or from the
framework's own (Qiskit's ``JobTimeoutError``, pytket's ``CircuitNotValidError``), so code written for
those catches them too. Messages say what was wrong and what to do; none ever contains a credential.

The tree (each class lives with the layer that raises it)::

    OqcProviderError                          oqc_provider.errors
    ├── ConfigurationError (ValueError)       oqc_provider.qcaas.errors: a missing token, a bad URL or option
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
    ├── OQCJobTimeoutError (JobTimeoutError)  oqc_provider.qiskit
    ├── PreflightError (ValueError)           oqc_provider.preflight: a known refusal or limit; not sent
    ├── InvalidCircuitError (CircuitNotValidError)        oqc_provider.pytket
    ├── HandleError (ResultHandleTypeError)   oqc_provider.pytket
    ├── ResultTimeoutError (TimeoutError)     oqc_provider.pytket
    ├── CircuitCancelledError                 oqc_provider.pytket
    ├── PlotDependencyError (ImportError)     oqc_provider.plots: matplotlib is not installed
    ├── FaultPlanError (ValueError)           oqc_provider.emulator.faults: a bad fault plan
    ├── WorkerStartError (RuntimeError)       oqc_provider.emulator.simulation_failures: no simulator process
    ├── ServerStartError (RuntimeError)       oqc_provider.emulator.testing: the served emulator did not start
    └── TaskStoreError (RuntimeError)         oqc_provider.emulator.store: a damaged task database (named)

Not in the tree, on purpose: the emulator's internal signals (``ApiError``, ``ProgramError``,
``WorkerCrashed``, ``SimulationInterrupted``) never leave the server -- they become HTTP answers or failed
tasks -- and an injected ``DroppedConnection`` is an ``httpx`` error because it stands for a broken network.

This module imports nothing from the package, so every layer (the emulator included) can import it.
"""

from __future__ import annotations


class OqcProviderError(Exception):
    """Base class of every error raised by ``oqc_provider``."""


__all__ = ["OqcProviderError"]
