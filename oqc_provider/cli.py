"""The ``oqc-provider`` command line: for now, ``oqc-provider emulator serve``.

Serving the emulator on a port lets any QCaaS client (OQC's own SDK included) and other processes
share one emulator and its task database; loopback is the default so nothing is exposed by accident.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Tools for OQC's QCaaS: run the built-in emulator.", no_args_is_help=True)
emulator_app = typer.Typer(help="The built-in QCaaS emulator.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


@emulator_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback unless you mean to share it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file for tasks (kept across restarts); in memory if unset.")
    ] = None,
    latency: Annotated[float, typer.Option(help="Seconds each task waits SUBMITTED before running.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible counts.")] = None,
    token: Annotated[str | None, typer.Option(help="Require this API token (any token if unset).")] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the server.")] = "info",
) -> None:
    """Serve the QCaaS emulator (legacy and v4 layouts) until interrupted."""
    import uvicorn

    from oqc_provider.emulator import EmulatorSettings, create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = EmulatorSettings(db_path=db, latency=latency, seed=seed, required_token=token)
    url = f"http://{host}:{port}"
    typer.echo(f"OQC QCaaS emulator listening on {url}")
    typer.echo(f"  legacy: OqcSdk(url={url!r}, authentication_token=...)   v4: OQC_QCAAS_V4=1, same URL")
    typer.echo(f"  tasks stored in {db if db is not None else 'memory (lost on exit)'}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower())


def main() -> None:
    """Console-script entry point (``oqc-provider``)."""
    app()


if __name__ == "__main__":
    main()
