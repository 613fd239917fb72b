"""``oqc-provider emulator serve``: the built-in QCaaS emulator on a port.

Serving the emulator on a port lets any QCaaS client (OQC's own SDK included) and other processes
share one emulator and its task database; loopback is the default so nothing is exposed by accident.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from oqc_provider.emulator.limits import (
    DEFAULT_MAX_PROGRAM_QUBITS,
    DEFAULT_MAX_RESULT_BITS,
    DEFAULT_MAX_TASKS_PER_REQUEST,
    DEFAULT_SIMULATOR_MEMORY_LIMIT,
    DEFAULT_TASK_TIME_LIMIT,
)
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES

emulator_app = typer.Typer(help="The built-in QCaaS emulator.", no_args_is_help=True)


@emulator_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback unless you mean to share it.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(help="TCP port to listen on (0: a free one, printed once listening).")
    ] = 8000,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file for tasks (kept across restarts); in memory if unset.")
    ] = None,
    latency: Annotated[float, typer.Option(help="Seconds each task waits SUBMITTED before running.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible counts.")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Require this API token (visible to local users in the process list: prefer "
            "--token-file or OQC_EMULATOR_TOKEN). Any token is accepted if none is given."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the server.")] = "info",
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Simulator processes (default: the machine's cores, at most 4)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also log Qiskit's own INFO lines (every transpiler pass).")
    ] = False,
    resubmit: Annotated[
        str,
        typer.Option(
            help="What a submit of an id already taken does: idempotent (answer it), refuse (409) or "
            "rerun (run it again). QCaaS promises none of them; test clients against each."
        ),
    ] = "idempotent",
    fault_rate: Annotated[
        float, typer.Option(help="Fraction of requests to fault (0-1), for reliability testing.")
    ] = 0.0,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault decisions.")] = None,
    fault_kinds: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated fault kinds (500,502,503,429,drop,slow,401,garbled,shape), "
            "each KIND[:WEIGHT]."
        ),
    ] = None,
    fault_routes: Annotated[
        str | None,
        typer.Option(help="Routes to fault, each ROUTE[:RATE] (submit,all_info:0.5,...); default all."),
    ] = None,
    price: Annotated[
        list[str] | None,
        typer.Option(
            help="Publish a QPU's prices: QPU=PER_SHOT,PER_TASK (decimals, credits), or QPU=none for no "
            "price (null). QPU is a name or id; may repeat. Unnamed QPUs are free (0)."
        ),
    ] = None,
    window: Annotated[
        list[str] | None,
        typer.Option(
            help="An execution window QPU=HH:MM-HH:MM (UTC, daily; QPU by name or id; may repeat). "
            "Outside its windows a QPU's tasks stay SUBMITTED; QPUs with none are always open."
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(help="Require the API token written in this file (its first line)."),
    ] = None,
    max_request_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body taken (413 beyond); the service's 128 KiB.")
    ] = MAX_REQUEST_BYTES,
    max_tasks_per_request: Annotated[
        int, typer.Option(min=1, help="Most task ids one allocation, or tasks one submit, may ask for.")
    ] = DEFAULT_MAX_TASKS_PER_REQUEST,
    max_program_qubits: Annotated[
        int, typer.Option(min=1, help="Most qubits a submitted program may declare (413 beyond).")
    ] = DEFAULT_MAX_PROGRAM_QUBITS,
    max_result_bits: Annotated[
        int, typer.Option(min=1, help="Most shots x classical bits one task may ask for (413 beyond).")
    ] = DEFAULT_MAX_RESULT_BITS,
    task_time_limit: Annotated[
        float,
        typer.Option(help="Seconds a task may simulate before it is stopped and FAILED (0: no limit)."),
    ] = DEFAULT_TASK_TIME_LIMIT,
    simulator_memory_limit: Annotated[
        int,
        typer.Option(help="Bytes of address space per simulator process (0: no limit)."),
    ] = DEFAULT_SIMULATOR_MEMORY_LIMIT,
) -> None:
    """Serve the QCaaS emulator (legacy and v4 layouts) until interrupted.

    The port opens, and "listening" is printed, once a simulator process is ready (Qiskit and Aer
    loaded, the compile path warmed up), so a first task sent then does not wait for them.
    """
    import threading
    import time

    import uvicorn

    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.emulator.faults import FaultPlan, FaultPlanError
    from oqc_provider.emulator.pool import shared_pool
    from oqc_provider.emulator.state import RESUBMIT_POLICIES
    from oqc_provider.emulator.testing import bound_port
    from oqc_provider.settings import EMULATOR_VERBOSE

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose:
        EMULATOR_VERBOSE.export("1")  # inherited by the simulator processes
    else:
        logging.getLogger("qiskit").setLevel(max(logging.WARNING, logging.getLogger().level))
    faults = None
    if fault_rate > 0 or fault_routes:
        try:
            faults = FaultPlan.parse(rate=fault_rate, seed=fault_seed, kinds=fault_kinds, routes=fault_routes)
        except FaultPlanError as exc:
            raise typer.BadParameter(str(exc)) from None
    from oqc_provider.emulator.prices import parse_price_option, resolve_prices

    try:
        prices = dict(parse_price_option(item) for item in price or [])
        resolve_prices(prices, EmulatorSettings().devices)  # a QPU the emulator has, priced in decimals
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price") from None
    from oqc_provider.emulator.windows import WindowSpec, WindowSpecError, by_qpu_id, parse_window_option

    windows: dict[str, list[WindowSpec]] = {}
    try:
        for option in window or []:
            qpu, daily = parse_window_option(option)
            windows.setdefault(qpu, []).append(daily)
        by_qpu_id(windows, EmulatorSettings().devices)  # a QPU no emulated one: said before anything starts
    except WindowSpecError as exc:
        raise typer.BadParameter(str(exc)) from None
    if resubmit not in RESUBMIT_POLICIES:
        choices = ", ".join(RESUBMIT_POLICIES)
        raise typer.BadParameter(f"--resubmit must be one of {choices}, not {resubmit!r}.")
    settings = EmulatorSettings(
        db_path=db,
        latency=latency,
        seed=seed,
        required_token=_required_token(token, token_file),
        faults=faults,
        workers=workers,
        resubmit=resubmit,  # type: ignore[arg-type]  # checked just above
        prices=prices,
        windows=windows,
        max_request_bytes=max_request_bytes,
        max_tasks_per_request=max_tasks_per_request,
        max_program_qubits=max_program_qubits,
        max_result_bits=max_result_bits,
        task_time_limit=task_time_limit if task_time_limit > 0 else None,
        simulator_memory_limit=simulator_memory_limit if simulator_memory_limit > 0 else None,
    )
    # Clients of a served emulator send any OpenQASM: warm the compile path too.
    pool = shared_pool(workers, log_level.upper(), warm_compile=True)
    app_ = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_level=log_level.lower()))

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.01)  # uvicorn offers no callback for "bound and serving"
        if server.should_exit or not pool.wait_ready(300):
            return
        bound = f"http://{host}:{bound_port(server, port)}"  # --port 0: the port the system chose
        typer.echo(f"OQC QCaaS emulator listening on {bound} ({pool.size} simulator processes)")
        typer.echo(
            f"  legacy: OqcSdk(url={bound!r}, authentication_token=...)   v4: OQC_QCAAS_V4=1, same URL"
        )
        typer.echo(f"  tasks stored in {db if db is not None else 'memory (lost on exit)'}")
        if faults is not None:
            kinds = ",".join(faults.kinds)
            typer.echo(f"  injecting faults: rate {faults.rate}, kinds {kinds}, seed {faults.seed}")
        for qpu, spans in windows.items():
            typer.echo(f"  {qpu} runs tasks only in its windows (UTC, daily): {', '.join(map(str, spans))}")

    threading.Thread(target=announce, name="oqc-emulator-announce", daemon=True).start()
    if not pool.wait_ready(300):
        logging.getLogger(__name__).warning("No simulator process is ready yet; serving anyway")
    server.run()


def _required_token(token: str | None, token_file: Path | None) -> str | None:
    """The token to require: ``--token``, else the first line of ``--token-file``, else the
    ``OQC_EMULATOR_TOKEN`` environment variable; None (any token) when none is given."""
    from oqc_provider.settings import EMULATOR_TOKEN

    if token is not None and token_file is not None:
        raise typer.BadParameter("Give --token or --token-file, not both.")
    if token_file is not None:
        try:
            lines = token_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"Cannot read --token-file {token_file}: {exc}") from None
        if not lines or not lines[0].strip():
            raise typer.BadParameter(
                f"--token-file {token_file} is empty: write the token on its first line."
            )
        return lines[0].strip()
    if token is not None:
        return token
    return EMULATOR_TOKEN.read()
