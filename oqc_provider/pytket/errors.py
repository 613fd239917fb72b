"""Typed errors of the pytket front end.

Each derives from :class:`~oqc_provider.qcaas.errors.OqcProviderError` (catch everything from the
provider with one class) *and* from the pytket exception generic code already catches, so tools
written for any pytket backend keep working.

Example:
    >>> from datetime import datetime

from pytket.backends import CircuitNotValidError
    >>> issubclass(InvalidCircuitError, CircuitNotValidError)
    True
"""

from __future__ import annotations

from datetime import datetime

from pytket.backends import CircuitNotValidError
from pytket.backends.backend import ResultHandleTypeError

from oqc_provider.errors import OqcProviderError


class InvalidCircuitError(OqcProviderError, CircuitNotValidError):
    """A circuit does not satisfy the backend's predicates (or cannot be written for the QPU).

    Attributes:
        index: the circuit's position in the submitted batch (``None`` when not known).
        predicate: the name of the predicate it failed, if any.
    """

    def __init__(self, message: str, index: int | None = None, predicate: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.predicate = predicate


class HandleError(OqcProviderError, ResultHandleTypeError):
    """A ResultHandle that this backend cannot use: malformed, or from another backend or QPU."""


class ResultTimeoutError(OqcProviderError, TimeoutError):
    """The result was not ready before the deadline; the circuit keeps running and its handle
    stays valid (ask again later, from this or any other process)."""


class ServiceUnreachableError(ResultTimeoutError):
    """The deadline passed while the service could not be reached, not because the queue is slow.

    Nobody knows how the circuits are doing: they stay active, their handles stay valid and their
    batch stays in the local job store; ask again once the service is back.

    Attributes:
        url: the service asked.
        since: when the service stopped answering (UTC; ``None`` when it answered, but refused).
        attempts: how many requests failed.
        last_error: the last failure.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        since: datetime | None,
        attempts: int,
        last_error: BaseException | None,
    ):
        super().__init__(message)
        self.url = url
        self.since = since
        self.attempts = attempts
        self.last_error = last_error


class CircuitsNotSentError(ServiceUnreachableError):
    """Some circuits were never sent: the service could not be reached (or did not take them) while
    submitting. Their handles stay valid: ``get_result`` again, once the service is back, sends
    only what the service does not have."""


class TaskUnknownError(OqcProviderError, RuntimeError):
    """The service does not know the circuits' tasks (404): an in-memory emulator restarted, or the
    tasks were purged. Waiting cannot help: cancel the handles and process the circuits again.

    Attributes:
        url: the service asked.
        task_ids: the tasks it does not know.
    """

    def __init__(self, message: str, *, url: str, task_ids: list[str]) -> None:
        super().__init__(message)
        self.url = url
        self.task_ids = task_ids


class CircuitCancelledError(OqcProviderError):
    """The circuit was cancelled, so it has no result."""


__all__ = [
    "CircuitCancelledError",
    "CircuitsNotSentError",
    "HandleError",
    "InvalidCircuitError",
    "ResultTimeoutError",
    "ServiceUnreachableError",
    "TaskUnknownError",
]
