"""Which QCaaS URLs the client accepts: http(s) only, and plain http only where no token can leak."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

from oqc_provider.qcaas.errors import ConfigurationError

#: How the command line says ``allow_insecure=True`` (``oqc-provider``'s option, on any command).
INSECURE_CLI_HINT = "on the command line: --allow-insecure"


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(url: str, *, allow_insecure: bool = False, in_process: bool = False) -> str:
    """Validate a base URL: http(s) only, trailing slashes stripped, https unless loopback.

    Raises:
        ConfigurationError: the URL is malformed, or plain http to a remote host without
            ``allow_insecure``, which would send the token in clear text.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"QCaaS URL {url!r} must look like https://host[:port][/path], its scheme included "
            "(http://127.0.0.1:PORT for an emulator served on this machine)."
        )
    if parts.scheme == "http" and not (allow_insecure or in_process or is_loopback(url)):
        raise ConfigurationError(
            f"Refusing plain http to the remote host {parts.hostname!r}: the token would travel unencrypted. "
            f"Use https, or pass allow_insecure=True ({INSECURE_CLI_HINT}) if you really mean it."
        )
    return url.strip().rstrip("/")


def in_process(transport: httpx.AsyncBaseTransport | None) -> bool:
    """Whether requests never reach a network (an ASGI app or a mock), so plain http is harmless.

    Any other transport (e.g. ``httpx.AsyncHTTPTransport(retries=3)``) does go out on the wire.
    """
    return isinstance(transport, httpx.ASGITransport | httpx.MockTransport)
