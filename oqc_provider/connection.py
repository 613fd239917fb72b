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
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx

from oqc_provider.errors import ConfigurationError
from oqc_provider.qcaas.client import is_loopback

if TYPE_CHECKING:
    from starlette.applications import Starlette

logger = logging.getLogger("oqc_provider")

URL_ENV = "OQC_URL"
TOKEN_ENV = "OQC_AUTHENTICATION_TOKEN"
#: The base URL the in-process emulator is addressed by (never resolved: requests go to the app).
IN_PROCESS_URL = "http://oqc-emulator.local"

ConnectionKind = Literal["qcaas", "emulator (in-process)", "emulator (served)", "custom transport"]


@dataclass(frozen=True)
class Connection:
    """Where requests go. The token is kept out of ``repr``."""

    kind: ConnectionKind
    url: str
    token: str | None = field(default=None, repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)

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
) -> Connection:
    """Decide where requests go, from arguments first and the environment second.

    Raises:
        ConfigurationError: a remote URL without a token.
    """
    env = os.environ if environ is None else environ
    url = url or env.get(URL_ENV) or None
    token = token if token is not None else env.get(TOKEN_ENV)
    if transport is not None:
        connection = Connection("custom transport", url or IN_PROCESS_URL, token, transport)
    elif url is None:
        connection = Connection("emulator (in-process)", IN_PROCESS_URL, token, in_process_transport())
    elif is_loopback(url):
        connection = Connection("emulator (served)", url, token)
    else:
        if not token or not token.strip():
            raise ConfigurationError(
                f"No authentication token for {url}: pass token=... or set {TOKEN_ENV}. "
                f"(Unset {URL_ENV} to use the built-in emulator instead.)"
            )
        connection = Connection("qcaas", url, token.strip())
    logger.info("oqc_provider is using %s", connection.describe())
    return connection


_apps: dict[Path, Starlette] = {}
_apps_lock = threading.Lock()


def in_process_transport() -> httpx.AsyncBaseTransport:
    """An httpx transport into the built-in emulator, one app per data folder per process."""
    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.paths import emulator_db_path

    db_path = emulator_db_path()
    with _apps_lock:
        app = _apps.get(db_path)
        if app is None:
            app = _apps[db_path] = create_app(EmulatorSettings(db_path=db_path))
    return httpx.ASGITransport(app=app)
