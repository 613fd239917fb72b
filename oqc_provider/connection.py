"""The composition root: the one place that decides where requests go, and says which it chose.

* A URL and token (arguments, or ``OQC_URL`` / ``OQC_AUTHENTICATION_TOKEN``) -> OQC's QCaaS cloud.
* Nothing configured -> the built-in emulator, mounted in-process (no network, no account); its
  tasks live in an SQLite file in the provider's data folder, so they outlive the process.
* A loopback URL -> an emulator served by ``oqc-provider emulator serve`` (a token is optional).

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> resolve_connection(url=None, token=None, environ={}).kind
    'emulator (in-process)'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from oqc_provider import settings
from oqc_provider.qcaas.client import QcaasClient, ServerMode
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qcaas.retry import RetryPolicy
from oqc_provider.qcaas.urls import is_loopback

if TYPE_CHECKING:
    from starlette.applications import Starlette

logger = logging.getLogger("oqc_provider")

URL_ENV = settings.URL.name
TOKEN_ENV = settings.AUTHENTICATION_TOKEN.name
#: The base URL the in-process emulator is addressed by (never resolved: requests go to the app).
IN_PROCESS_URL = "http://oqc-emulator.local"

ConnectionKind = Literal["qcaas", "emulator (in-process)", "emulator (served)", "custom transport"]


class InvalidUrlError(ConfigurationError):
    """The service URL is not of the form ``scheme://host[:port][/path]`` (a scheme is required).

    Checked before anything else, so a URL such as ``127.0.0.1:18231`` is explained as a URL
    without a scheme, not taken for a remote service that needs a token.
    """


def check_url(url: str, source: str = "The URL") -> str:
    """``url`` stripped, if it has an http(s) scheme and a host.

    Example:
        >>> try:
        ...     check_url("127.0.0.1:18231", "OQC_URL")
        ... except InvalidUrlError as exc:
        ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
        OQC_URL '127.0.0.1:18231' has no scheme: a URL needs one, as in http://127.0.0.1:18231 (an
        emulator served on this machine by `oqc-provider emulator serve`) or https://HOST for OQC's
        cloud. Unset OQC_URL to use the built-in emulator instead.

    Raises:
        InvalidUrlError: no ``http://`` or ``https://``, or no host.
    """
    text = url.strip()
    parts = urlsplit(text)
    if "://" not in text:
        guess = f"http://{text}" if is_loopback(f"http://{text}") else f"https://{text}"
        local = " (an emulator served on this machine by `oqc-provider emulator serve`)"
        raise InvalidUrlError(
            f"{source} {url!r} has no scheme: a URL needs one, as in {guess}"
            f"{local if guess.startswith('http://') else ''} or https://HOST for OQC's cloud. "
            f"Unset {URL_ENV} to use the built-in emulator instead."
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrlError(
            f"{source} {url!r} must look like https://HOST[:PORT][/PATH] (OQC's cloud) or "
            f"http://127.0.0.1:PORT (an emulator served by `oqc-provider emulator serve`)."
        )
    return text


@dataclass(frozen=True)
class Connection:
    """Where requests go and how: every setting of one connection, resolved once.

    Build one with :func:`resolve_connection` and pass it as ``connection=`` to any entry point
    (``OQCProvider``, ``OQCTketBackend``, ``OqcSdk``, ``SyncSdk``, ``ProviderSession``); their ``url``,
    ``token``, ``mode``... keywords are a convenience that builds one the same way (see
    :func:`resolve_connection`). :meth:`client` builds the wire client from it. The token is kept out of
    ``repr``.

    Attributes:
        kind: which of the three destinations (or a caller's own transport) was chosen.
        url: the service's base URL (a placeholder for the in-process emulator).
        token: the API token, if any.
        transport: the httpx transport requests go through (the in-process emulator's, or a caller's).
        mode: the server's API layout (``OQC_QCAAS_V4`` / ``OQC_ENTRA_ENABLED`` when not given).
        timeout: httpx timeouts for each request (the client's default when ``None``).
        retry: the retry policy for idempotent requests (``OQC_SDK_MAX_TRANSPORT_RETRIES`` applied).
        allow_insecure: whether plain http to a non-loopback host is allowed.
    """

    kind: ConnectionKind
    url: str
    token: str | None = field(default=None, repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    mode: ServerMode = field(default_factory=ServerMode.from_env)
    timeout: httpx.Timeout | float | None = field(default=None, repr=False)
    retry: RetryPolicy = field(default_factory=RetryPolicy.from_env, repr=False)
    allow_insecure: bool = False

    def client(self) -> QcaasClient:
        """A wire client for this connection (not opened yet)."""
        return QcaasClient(
            self.url,
            token=self.token,
            mode=self.mode,
            transport=self.transport,
            timeout=self.timeout,
            retry=self.retry,
            allow_insecure=self.allow_insecure,
        )

    def describe(self) -> str:
        """One line for logs and reprs, e.g. ``"the built-in emulator (in-process)"``."""
        if self.kind == "emulator (in-process)":
            return "the built-in emulator (in-process)"
        if self.kind == "emulator (served)":
            return f"a local emulator at {self.url}"
        return f"QCaaS at {self.url}"


def resolve_connection(
    url: str | None = None,
    token: str | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
    mode: ServerMode | str | None = None,
    timeout: httpx.Timeout | float | None = None,
    retry: RetryPolicy | None = None,
    allow_insecure: bool = False,
    connection: Connection | None = None,
) -> Connection:
    """Decide where requests go and how, from arguments first and the environment second.

    ``environ`` stands in for ``os.environ`` for every setting read here (``OQC_URL``,
    ``OQC_AUTHENTICATION_TOKEN``, ``OQC_QCAAS_V4`` / ``OQC_ENTRA_ENABLED``,
    ``OQC_SDK_MAX_TRANSPORT_RETRIES``). A ``connection`` already resolved is returned as it is (what
    every entry point's ``connection=`` does); the other keywords stay a convenience beside it, and
    one that says something else than the connection is refused rather than silently dropped.

    Example:
        >>> served = resolve_connection("http://127.0.0.1:8000", environ={})
        >>> resolve_connection(url="http://127.0.0.1:8000/", connection=served) is served
        True
        >>> try:
        ...     resolve_connection(url="http://127.0.0.1:9000", connection=served)
        ... except ConfigurationError as exc:
        ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
        connection=... already says url='http://127.0.0.1:8000', and url= says otherwise: pass either a
        Connection or the keywords url=, token=, transport=, mode=, timeout=, retry=, allow_insecure=, or
        keywords that agree with it.

    Raises:
        InvalidUrlError: the URL has no http(s) scheme or no host.
        ConfigurationError: a remote URL without a token; a keyword that disagrees with ``connection``.
    """
    if connection is not None:
        given = {
            "url": check_url(url).rstrip("/") if url else None,
            "token": token,
            "transport": transport,
            "mode": ServerMode(mode) if mode is not None else None,
            "timeout": timeout,
            "retry": retry,
            "allow_insecure": allow_insecure or None,
        }
        _check_agrees(connection, given)
        return connection
    if url:
        url = check_url(url, "The URL")
    elif configured := settings.URL.read(environ):
        url = check_url(configured, URL_ENV)
    else:
        url = None
    token = token if token is not None else settings.AUTHENTICATION_TOKEN.read(environ)
    how: dict[str, Any] = {
        "mode": ServerMode(mode) if mode is not None else ServerMode.from_env(environ),
        "timeout": timeout,
        "retry": retry or RetryPolicy.from_env(environ),
        "allow_insecure": allow_insecure,
    }
    if transport is not None:
        connection = Connection("custom transport", url or IN_PROCESS_URL, token, transport, **how)
    elif url is None:
        connection = Connection("emulator (in-process)", IN_PROCESS_URL, token, in_process_transport(), **how)
    elif is_loopback(url):
        connection = Connection("emulator (served)", url, token, **how)
    else:
        if not token or not token.strip():
            raise ConfigurationError(
                f"No authentication token for {url}: pass token=... or set {TOKEN_ENV}. "
                f"(Unset {URL_ENV} to use the built-in emulator instead.)"
            )
        connection = Connection("qcaas", url, token.strip(), **how)
    logger.info("oqc_provider is using %s", connection.describe())
    return connection


def _check_agrees(connection: Connection, given: Mapping[str, object]) -> None:
    """Raise if a keyword given (not None) says something else than ``connection`` does."""
    held: dict[str, object] = {
        "url": connection.url.rstrip("/"),
        "token": connection.token,
        "transport": connection.transport,
        "mode": connection.mode,
        "timeout": connection.timeout,
        "retry": connection.retry,
        "allow_insecure": connection.allow_insecure,
    }
    for name, value in given.items():
        same = value is held[name] if name == "transport" else value == held[name]
        if value is not None and not same:
            # The token is never shown (nor a transport, whose repr says nothing); the rest helps
            # a user see the clash.
            kept = held[name]
            shown = kept.value if isinstance(kept, ServerMode) else kept
            says = f"{name}=..." if name in ("token", "transport") else f"{name}={shown!r}"
            raise ConfigurationError(
                f"connection=... already says {says}, and {name}= says otherwise: pass either a "
                f"Connection or the keywords {', '.join(f'{key}=' for key in given)}, or keywords "
                f"that agree with it."
            )


_apps: dict[Path, Starlette] = {}
_apps_lock = threading.Lock()


def in_process_transport() -> httpx.AsyncBaseTransport:
    """An httpx transport into the built-in emulator, one app per data folder per process."""
    from oqc_provider.emulator.pool import shared_pool

    # The simulator processes take about a second to start (they import Qiskit and Aer): start them
    # before loading and building the app, so they are that much nearer ready for the first task.
    shared_pool()
    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.emulator.store import TaskStoreError
    from oqc_provider.paths import emulator_db_path

    db_path = emulator_db_path()
    with _apps_lock:
        app = _apps.get(db_path)
        if app is None:
            try:
                app = _apps[db_path] = create_app(EmulatorSettings(db_path=db_path))
            except TaskStoreError as exc:
                # Results already saved (the local job store) need no emulator: only requests fail.
                logger.warning("%s", exc)
                return _unusable(exc)
    return httpx.ASGITransport(app=app)


def _unusable(reason: Exception) -> httpx.AsyncBaseTransport:
    """An in-process transport whose every request raises why the emulator cannot be used."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise type(reason)(str(reason))

    return httpx.MockTransport(refuse)
