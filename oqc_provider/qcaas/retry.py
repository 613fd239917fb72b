"""When and how long to retry a request that failed in a way that may pass.

Idempotent requests (GETs, cancels, read-only POSTs) are retried on timeouts, dropped connections
and HTTP 408/429/5xx, with exponential backoff and jitter, honouring ``Retry-After`` and never past
the caller's deadline. A submission is retried only when the request provably never reached the
server (the connection was refused), because a blind resend could run a program twice.

Example:
    >>> policy = RetryPolicy(max_attempts=3, initial_wait=0.1)
    >>> policy.backoff(attempt=2) <= 0.2 * (1 + policy.jitter)
    True
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from oqc_provider.qcaas.errors import ConfigurationError, ServiceUnavailableError, TransientServerError
from oqc_provider.settings import MAX_TRANSPORT_RETRIES


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and how patiently, to retry transient failures.

    Attributes:
        max_attempts: tries in all, the first included (1 disables retrying).
        initial_wait: the first backoff, seconds; each further one doubles.
        max_wait: the longest single backoff, seconds.
        max_retry_after: the longest ``Retry-After`` honoured, seconds (a server asking for more
            is treated as down, and the error is raised).
        jitter: the fraction of random spread added to each backoff, so clients do not retry in step.
    """

    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 16.0
    max_retry_after: float = 120.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {self.max_attempts}.")
        if self.initial_wait < 0 or self.max_wait < 0:
            raise ConfigurationError("Retry waits must not be negative.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        """The default policy, with ``OQC_SDK_MAX_TRANSPORT_RETRIES`` applied when set.

        ``environ`` defaults to ``os.environ``.
        """
        return cls(max_attempts=MAX_TRANSPORT_RETRIES.read(environ))

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), before jitter is capped."""
        base = min(self.max_wait, self.initial_wait * 2.0 ** (attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))

    def wait_before_retry(self, attempt: int, error: BaseException, deadline: float | None) -> float | None:
        """Seconds to wait before the next try, or ``None`` when no retry should be made.

        Args:
            attempt: how many attempts have failed so far.
            error: the last failure.
            deadline: a ``time.monotonic()`` instant no retry may run past, or ``None``.
        """
        if attempt >= self.max_attempts or not isinstance(error, TransientServerError):
            return None
        wait = self.backoff(attempt)
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            wait = max(wait, error.retry_after)
        if deadline is not None and time.monotonic() + wait >= deadline:
            return None
        return wait


def provably_unsent(error: BaseException) -> bool:
    """Whether ``error`` shows the request never reached the server (safe to resend anything)."""
    return isinstance(error, ServiceUnavailableError) and error.connect_failed
