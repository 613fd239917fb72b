"""One wording for "the service cannot be reached" at every place a wait can end that way.

The engine raises :class:`~oqc_provider.engine.JobStillActive` when the deadline passed while
the task(s) could not be read (connection refused, timeouts, 5xx): unlike a slow queue, nobody
knows how the job is doing. The Qiskit and pytket front ends and the CLI each turn it into their
own typed error, with this text: which URL, since when, what was tried, that the job is saved
and how to resume it in the words of that front end.

Example:
    >>> from datetime import datetime, timezone
    >>> from oqc_provider.engine import JobStillActive
    >>> error = JobStillActive(
    ...     [], url="http://127.0.0.1:8000", since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    ...     attempts=4, last_error=ConnectionError("refused"))
    >>> print(unreachable_message(error, subject="Job 5ef9", saved="It is saved.", resume="call X."))
    ... # doctest: +NORMALIZE_WHITESPACE
    Job 5ef9 is still active, but the service at http://127.0.0.1:8000 cannot be reached: reading
    its task(s) failed since 03:04:05 UTC (4 failed read(s), retried with backoff; last error:
    refused). Nothing was failed or resent. It is saved. Once the service is back, call X.
"""

from __future__ import annotations

from oqc_provider.engine.errors import JobStillActive


def unreachable_message(error: JobStillActive, *, subject: str, saved: str, resume: str) -> str:
    """The front end's message for ``error``.

    Args:
        subject: what is still active (``"Job 5ef9..."``, ``"Task 1234..."``).
        saved: where the job is kept (a sentence).
        resume: how to go on waiting (a sentence, after "Once the service is back, ").
    """
    return (
        f"{subject} is still active, but the service at {error.url} cannot be reached: reading its "
        f"task(s) failed since {error.since:%H:%M:%S} UTC ({error.attempts} failed read(s), retried with "
        f"backoff; last error: {error.last_error}). Nothing was failed or resent. {saved} Once the "
        f"service is back, {resume}"
    )


__all__ = ["unreachable_message"]
