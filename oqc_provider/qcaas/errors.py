"""Typed exceptions for everything that can go wrong between a caller and QCaaS.

Every exception the package raises derives from :class:`~oqc_provider.errors.OqcProviderError`
(``oqc_provider.errors``, which maps the whole tree; the base is re-exported here so older imports keep
working). Server answers keep the names OQC's SDK uses (``ServerException`` and
``ConnectionFailureException`` are aliases), so code written for the SDK catches the same errors.
Messages say what was wrong and what to do; none of them ever contains a credential.
"""

from __future__ import annotations

from typing import Any

# ConfigurationError is raised by every layer (the settings module included), so it lives with the base.
from oqc_provider.errors import ConfigurationError, OqcProviderError


class ConfigDecodeError(OqcProviderError, ValueError):
    """A compiler config could not be read (not JSON, not a tagged CompilerConfig, bad field)."""


class UnknownQpuError(OqcProviderError, ValueError):
    """A QPU id or name that the service does not list."""


class RequestTooLargeError(OqcProviderError, ValueError):
    """A request body exceeds the service's size limit (128 KiB); it was not sent."""


class UnsupportedOperationError(OqcProviderError, NotImplementedError):
    """The server mode in use has no endpoint for this operation (e.g. windows on the v4 gateway)."""


class QcaasError(OqcProviderError):
    """Base of errors in talking to QCaaS (or the emulator)."""


class ServerError(QcaasError):
    """The service answered with an error status.

    Attributes:
        message: the server's own message (``response.errors[0]`` or ``detail``), or a summary.
        server_error_code: the HTTP status, or -1 when no answer was received.
        metadata: the parsed error body, when the server sent JSON.
    """

    def __init__(self, message: str, server_error_code: int = -1, metadata: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.server_error_code = server_error_code
        self.metadata = metadata if metadata is not None else {}

    @property
    def status_code(self) -> int:
        """The HTTP status (-1 when none was received)."""
        return self.server_error_code

    def __str__(self) -> str:
        if self.server_error_code == -1:
            return self.message
        return f"{self.message} (HTTP {self.server_error_code})"


class AuthenticationError(ServerError):
    """The service refused the credentials (HTTP 401/403): check or renew the token."""


class NotFoundError(ServerError):
    """The service does not know the task or QPU asked for (HTTP 404), e.g. a purged task."""


class RequestRejectedError(ServerError):
    """The service rejected the request as invalid (HTTP 400/409/413/422)."""


class TransientServerError(ServerError):
    """A failure that may pass: a timeout, a dropped connection, or HTTP 408/429/5xx.

    Attributes:
        retry_after: seconds the server asked us to wait (``Retry-After``), when it said.
    """

    def __init__(
        self,
        message: str,
        server_error_code: int = -1,
        metadata: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, server_error_code, metadata)
        self.retry_after = retry_after


class ServiceUnavailableError(TransientServerError):
    """The service could not be reached, or did not answer in time.

    Attributes:
        connect_failed: True when no connection was ever made, so the request provably never
            reached the server and resending it cannot duplicate anything.
    """

    def __init__(self, message: str, *, connect_failed: bool) -> None:
        super().__init__(message, -1)
        self.connect_failed = connect_failed


class ProtocolError(QcaasError):
    """The service answered 200 with a body this client cannot read; likely a version mismatch."""


# Names used by OQC's SDK, so code written for it catches the same exceptions.
ServerException = ServerError
ConnectionFailureException = TransientServerError

__all__ = [
    "AuthenticationError",
    "ConfigDecodeError",
    "ConfigurationError",
    "ConnectionFailureException",
    "NotFoundError",
    "OqcProviderError",
    "ProtocolError",
    "QcaasError",
    "RequestRejectedError",
    "RequestTooLargeError",
    "ServerError",
    "ServerException",
    "ServiceUnavailableError",
    "TransientServerError",
    "UnknownQpuError",
    "UnsupportedOperationError",
]
