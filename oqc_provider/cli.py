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
    fault_rate: Annotated[
        float, typer.Option(help="Fraction of requests to fault (0-1), for reliability testing.")
    ] = 0.0,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault decisions.")] = None,
    fault_kinds: Annotated[
        str | None, typer.Option(help="Comma-separated fault kinds: 500,502,503,429,drop,slow,401.")
    ] = None,
    fault_routes: Annotated[
        str | None,
        typer.Option(help="Comma-separated routes to fault (submit,allocate,all_info,...); all if unset."),
    ] = None,
) -> None:
    """Serve the QCaaS emulator (legacy and v4 layouts) until interrupted."""
    import uvicorn

    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.emulator.faults import FaultPlan, FaultPlanError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faults = None
    if fault_rate > 0:
        try:
            faults = FaultPlan.parse(rate=fault_rate, seed=fault_seed, kinds=fault_kinds, routes=fault_routes)
        except FaultPlanError as exc:
            raise typer.BadParameter(str(exc)) from None
    settings = EmulatorSettings(db_path=db, latency=latency, seed=seed, required_token=token, faults=faults)
    url = f"http://{host}:{port}"
    typer.echo(f"OQC QCaaS emulator listening on {url}")
    typer.echo(f"  legacy: OqcSdk(url={url!r}, authentication_token=...)   v4: OQC_QCAAS_V4=1, same URL")
    typer.echo(f"  tasks stored in {db if db is not None else 'memory (lost on exit)'}")
    if faults is not None:
        kinds = ",".join(faults.kinds)
        typer.echo(f"  injecting faults: rate {faults.rate}, kinds {kinds}, seed {faults.seed}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower())


def main() -> None:
    """Console-script entry point (``oqc-provider``)."""
    app()


if __name__ == "__main__":
    main()
