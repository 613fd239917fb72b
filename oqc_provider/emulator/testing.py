"""Serve an emulator on a loopback port from a background thread, for tests and notebooks.

The acceptance tests talk to a real HTTP server (sockets, uvicorn, the lot) rather than an
in-process transport, so connection handling and timeouts are exercised as users will see them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from oqc_provider.emulator.app import EmulatorSettings, create_app
from oqc_provider.errors import OqcProviderError

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger(__name__)


class ServerStartError(OqcProviderError, RuntimeError):
    """The emulator did not start serving before the deadline."""


def bound_port(server: uvicorn.Server, asked: int = 0) -> int:
    """The port a started uvicorn server listens on: the system's choice when it was asked for 0
    (binding port 0 and reading it back leaves no gap in which another process takes the port)."""
    for listener in server.servers:
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    return asked


@contextlib.contextmanager
def serve_in_thread(
    settings: EmulatorSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 15.0,
) -> Iterator[str]:
    """Run an emulator with uvicorn in a daemon thread; yield its base URL (``http://host:port``).

    ``port=0`` (the default) lets the system pick a free port, read back once bound. Waits (polling
    with a deadline) until uvicorn reports it is serving, and shuts it down cleanly (lifespan
    shutdown closes the task store) on exit.

    Raises:
        ServerStartError: uvicorn did not start within ``startup_timeout`` seconds.
    """
    import uvicorn

    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="oqc-emulator-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            raise ServerStartError(f"The emulator did not start on {host}:{port} within {startup_timeout}s.")
        time.sleep(0.01)  # polling uvicorn's flag; the deadline bounds the wait
    url = f"http://{host}:{bound_port(server, port)}"
    logger.info("Emulator serving on %s", url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(startup_timeout)
