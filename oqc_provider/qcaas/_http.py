"""Sending one QCaaS request: auth headers, size limit, error mapping, retries, server messages.

Kept apart from :mod:`oqc_provider.qcaas.client` (which knows the endpoints) so that every
endpoint shares one tested path for the rules that are easy to get subtly wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from oqc_provider.qcaas.errors import (
    AuthenticationError,
    NotFoundError,
    ProtocolError,
    RequestRejectedError,
    RequestTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TransientServerError,
)
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES, encode_body
from oqc_provider.qcaas.retry import RetryPolicy

logger = logging.getLogger("oqc_provider.qcaas")

_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_REJECTED_STATUSES = frozenset({400, 409, 413, 422})


class _CookiesFromAnswersThatSetThem(httpx.Cookies):
    """httpx's cookie jar, read only from answers that set a cookie.

    httpx hands every response to the standard library's cookie jar, which wraps the request and the
    response in ``urllib`` objects before it looks for a ``Set-Cookie`` header: about 15 % of an
    in-process poll's CPU. QCaaS sets no cookie of its own (a load balancer in front of it may set a
    sticky-session one), so an answer without the header is skipped before any of that.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class QcaasHttpClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` with a cookie jar that skips answers setting no cookie (see
    :class:`_CookiesFromAnswersThatSetThem`); cookies a server sets are kept and sent as before."""

    def __init__(self, **kwargs: Any) -> None:
        cookies = kwargs.pop("cookies", None)
        super().__init__(**kwargs)
        self.cookies = cookies or {}

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._jar = _CookiesFromAnswersThatSetThem(cookies)


class RequestSender:
    """Sends requests through one ``httpx.AsyncClient`` with the wire layer's rules applied.

    Args:
        http: the client, already holding the base URL, timeouts and transport.
        auth_headers: returns the auth headers to send (called per request, so a renewed token
            is picked up).
        retry: the policy for transient failures of idempotent requests.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        auth_headers: Callable[[], dict[str, str]],
        retry: RetryPolicy,
    ) -> None:
        self.http = http
        self._auth_headers = auth_headers
        self.retry = retry
        #: How many HTTP requests were sent (retries included); benchmarks report it.
        self.request_count = 0
        #: How many of them were resends after a transient failure.
        self.retry_count = 0
        #: When the service stopped answering (UTC): the first of the latest run of requests that
        #: got no answer at all (refused, dropped, timed out); ``None`` once anything answers.
        self.unreachable_since: datetime | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        authenticated: bool = True,
        idempotent: bool,
        deadline: float | None = None,
        retry_refused: bool = True,
    ) -> httpx.Response:
        """Send a request and return its successful response.

        Args:
            idempotent: whether a transient failure may be retried. When False, only failures
                that provably never reached the server are retried.
            deadline: a ``time.monotonic()`` instant after which no retry starts.
            retry_refused: whether a refused connection is retried. The first contact with a
                service says False: a wrong URL should fail in milliseconds, not after backoff.

        Raises:
            RequestTooLargeError: the request is over the service's 128 KiB limit (not sent).
            ServerError: the service answered an error status (a subclass says which kind).
            ServiceUnavailableError: the service could not be reached or did not answer in time.
        """
        content = None if json_body is None else encode_body(json_body)
        attempt = 0
        while True:
            attempt += 1
            # Built per attempt, so a token renewed meanwhile is the one sent. A 401 is final (no
            # resend): with a static token, as OQC's SDK does for TokenCredential (protocol §2.5).
            headers = {"Content-Type": "application/json"} if content is not None else {}
            if authenticated:
                headers.update(self._auth_headers())
            self._check_size(method, url, content, headers)
            try:
                return await self._send_once(method, url, content, headers, params)
            except (TransientServerError, ServiceUnavailableError) as error:
                connect_failed = isinstance(error, ServiceUnavailableError) and error.connect_failed
                if not idempotent and not connect_failed:
                    raise
                if connect_failed and not retry_refused:
                    raise
                wait = self.retry.wait_before_retry(attempt, error, deadline)
                if wait is None:
                    raise
                self.retry_count += 1
                logger.info("%s %s failed (%s); retry %d in %.2fs", method, url, error, attempt, wait)
                await asyncio.sleep(wait)

    def _check_size(self, method: str, url: str, content: bytes | None, headers: dict[str, str]) -> None:
        if content is None:
            return
        size = len(content) + sum(len(k) + len(v) + 4 for k, v in headers.items()) + len(method) + len(url)
        if size > MAX_REQUEST_BYTES:
            raise RequestTooLargeError(
                f"{method} {url} would send {size} bytes, over the service's {MAX_REQUEST_BYTES}-byte "
                "request limit. Split the batch into smaller ones, or shorten the program."
            )

    async def _send_once(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: dict[str, str],
        params: dict[str, Any] | None,
    ) -> httpx.Response:
        self.request_count += 1
        try:
            response = await self.http.request(method, url, content=content, headers=headers, params=params)
        except httpx.TransportError as exc:
            if self.unreachable_since is None:
                self.unreachable_since = datetime.now(timezone.utc)
            raise self._unavailable(method, url, exc) from None
        self.unreachable_since = None  # it answered (even an error status is an answer)
        if not response.is_success:
            raise error_from_response(response)
        return response

    def _unavailable(self, method: str, url: str, exc: httpx.TransportError) -> ServiceUnavailableError:
        """The typed error for a request that got no answer at all."""
        if isinstance(exc, httpx.ConnectError):
            return ServiceUnavailableError(
                f"Could not connect to {self.http.base_url or url}: {exc}. Check the URL and that the "
                "service (or `oqc-provider emulator serve`) is running.",
                connect_failed=True,
            )
        if isinstance(exc, httpx.ConnectTimeout):
            return ServiceUnavailableError(
                f"Connecting to {self.http.base_url or url} timed out. Check the URL and your network.",
                connect_failed=True,
            )
        if isinstance(exc, httpx.TimeoutException):
            return ServiceUnavailableError(
                f"{method} {url} timed out ({type(exc).__name__}); the service may be busy. "
                "Raise the client's timeout or try again.",
                connect_failed=False,
            )
        return ServiceUnavailableError(
            f"{method} {url} failed in transit ({type(exc).__name__}: {exc}).", connect_failed=False
        )

    async def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the body parsed as JSON (server notices in it are logged).

        Raises:
            ProtocolError: the service answered success with a body that is not JSON.
        """
        response = await self.request(method, url, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise ProtocolError(
                f"{method} {url} answered {response.status_code} with a body that is not JSON "
                f"({response.text[:200]!r}); is the URL a QCaaS service?"
            ) from None
        except RecursionError:
            raise ProtocolError(
                f"{method} {url} answered {response.status_code} with JSON nested too deeply to read "
                f"({len(response.content)} bytes); is the URL a QCaaS service?"
            ) from None
        _surface_server_messages(body)
        return body


def error_from_response(response: httpx.Response) -> ServerError:
    """The typed exception for an error response, with the server's own message."""
    status = response.status_code
    body: Any
    try:
        body = response.json()
    except (ValueError, RecursionError):  # the status still says what went wrong
        body = None
    message = _server_message(body) or (response.text[:500].strip() or response.reason_phrase)
    where = f"{response.request.method} {response.request.url.path}"
    if status in (401, 403):
        return AuthenticationError(
            f"Authentication failed for {where}: {message.rstrip('. ')}. Check your token "
            "(OQC_AUTHENTICATION_TOKEN) or request a new one.",
            status,
            body,
        )
    if status == 404:
        return NotFoundError(f"{where}: {message}", status, body)
    if status in _REJECTED_STATUSES:
        return RequestRejectedError(f"{where} was rejected: {message}", status, body)
    if status in _TRANSIENT_STATUSES:
        return TransientServerError(
            f"The service is having trouble ({where}: {message}); try again later.",
            status,
            body,
            retry_after=_retry_after(response),
        )
    return ServerError(f"{where}: {message}", status, body)


def _server_message(body: Any) -> str | None:
    """The human message inside a legacy (Flask) or v4 (FastAPI) error body."""
    if not isinstance(body, dict):
        return None
    errors = body.get("response", {}).get("errors") if isinstance(body.get("response"), dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail
    if detail is not None:
        return json.dumps(detail)
    message = body.get("message")
    return message if isinstance(message, str) else None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: either a number of seconds or an HTTP date."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _surface_server_messages(body: Any) -> None:
    """Log the ``message``/``messages`` the service puts in successful bodies (e.g. deprecations)."""
    if not isinstance(body, dict):
        return
    messages = [body["message"]] if isinstance(body.get("message"), str) else []
    if isinstance(body.get("messages"), list):
        messages += [m for m in body["messages"] if isinstance(m, str)]
    for message in messages:
        level = logging.WARNING if message.startswith("Warning") else logging.INFO
        logger.log(level, "QCaaS says: %s", message)
