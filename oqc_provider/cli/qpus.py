"""``oqc-provider qpus`` and ``oqc-provider calibration QPU``: what you can run on, and how good it is."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from oqc_provider.cli.common import AllowInsecure, cli_errors, console, open_session, print_json

if TYPE_CHECKING:
    from oqc_provider.devices import Calibration
    from oqc_provider.engine.cost import QpuPrice
    from oqc_provider.engine.queues import QueueStatus
    from oqc_provider.session import ProviderSession, QpuInfo

JSON_HELP = "Print JSON instead of a table (for scripts)."


def qpu_record(qpu: QpuInfo, calibration: Calibration, price: QpuPrice | None = None) -> dict[str, Any]:
    """One QPU as ``qpus --json`` prints it (``calibrated``: the calibration's date, or null).

    ``price_per_shot`` / ``price_per_task`` are decimal strings (credits as the registry prices them),
    null when the registry publishes none.
    """
    return {
        "id": qpu.qpu_id,
        "name": qpu.name,
        "qubits": qpu.device.qubit_count,
        "status": qpu.status,
        "available": qpu.available,
        "kind": "simulator" if qpu.device.simulator else "hardware",
        "emulator_only": qpu.device.emulator_only,
        "max_shots": qpu.device.max_shots,
        "calibration_published": calibration.published,
        "calibrated": calibration.date,
        "price_per_shot": None if price is None or price.per_shot is None else str(price.per_shot),
        "price_per_task": None if price is None or price.per_task is None else str(price.per_task),
    }


@cli_errors
def qpus(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """List the QPUs the service offers: id, name, qubits, status, simulator or hardware, max shots,
    and when they were calibrated ("not published" when the service gave no figures it can read),
    and their prices per shot and per task (credits as the registry prices them; "not published"
    when it gives none).

    A device only the built-in emulator offers (QCaaS has no QPU with its id) says so in its kind.
    The last columns are each QPU's queue (tasks the service holds for it) and its execution window:
    open until when, or when the next one opens.
    """
    with open_session(ctx, allow_insecure) as session:
        prices = session.run(session.sdk.prices())
        records = [
            qpu_record(qpu, session.calibration(qpu), prices.get(qpu.qpu_id)) for qpu in session.qpus()
        ]
        where = session.sdk.connection.describe()
        queues = _queues(session)
    for record in records:
        record.update(queue_record(queues.get(record["id"])))
    if as_json:
        print_json(records)
        return
    from rich.table import Table

    table = Table(title=f"QPUs on {where}", title_justify="left")
    for column in (
        "id",
        "name",
        "qubits",
        "status",
        "kind",
        "max shots",
        "calibrated",
        "per shot",
        "per task",
        "queue",
        "window",
    ):
        table.add_column(
            column,
            justify="right" if column in ("qubits", "max shots", "per shot", "per task", "queue") else "left",
            no_wrap=column == "id",  # ids are for copying: never cut or wrapped
            min_width=max((len(r["id"]) for r in records), default=2) if column == "id" else None,
        )
    for r in records:
        status = f"[green]{r['status']}[/]" if r["available"] else f"[yellow]{r['status']}[/]"
        kind = f"{r['kind']} [yellow](emulator only)[/]" if r["emulator_only"] else r["kind"]
        if not r["calibration_published"]:
            calibrated = "[dim]not published[/]"
        else:
            calibrated = r["calibrated"] or "[dim]date not published[/]"
        per_shot, per_task = (
            r[key] or "[dim]not published[/]" for key in ("price_per_shot", "price_per_task")
        )
        table.add_row(
            r["id"],
            r["name"],
            str(r["qubits"]),
            status,
            kind,
            f"{r['max_shots']:,}",
            calibrated,
            per_shot,
            per_task,
            "-" if r["tasks_in_queue"] is None else str(r["tasks_in_queue"]),
            r["window_text"] or "[dim]not published[/]",
        )
    console().print(table)
    console().print("[dim]Prices in credits as the registry prices them (QCaaS publishes no currency).[/]")


def _queues(session: ProviderSession) -> dict[str, QueueStatus]:
    """Every QPU's queue and windows (one request per server); none when the service will not say:
    the queue is information, so the QPU list is printed without it."""
    from oqc_provider.errors import OqcProviderError

    try:
        return session.queue_status(session.qpus())
    except OqcProviderError as exc:
        logging.getLogger(__name__).info("Could not read the QPUs' queues: %s", exc)
        return {}


def queue_record(status: QueueStatus | None) -> dict[str, Any]:
    """A QPU's queue as ``qpus --json`` prints it (nulls where the service published none)."""
    if status is None:
        return {"tasks_in_queue": None, "open": None, "next_window": None, "window_text": None}
    upcoming = status.next_window
    return {
        "tasks_in_queue": status.tasks_in_queue,
        "open": status.is_open,
        "next_window": None if upcoming is None else upcoming.start.isoformat(),
        "window_text": status.window_summary(status.read_at),
    }


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f}"


def _figure(value: float | None, spec: str) -> str:
    """A figure for the table; ``-`` where the service did not publish it."""
    return "-" if value is None else format(value, spec)


def calibration_record(calibration: Calibration) -> dict[str, Any]:
    """A calibration as ``calibration --json`` prints it (the service's own fields, in SI units).

    ``published`` is false when the service gave no figures the provider can read; then ``date``
    is null and ``qubits``/``edges`` are empty (nothing is made up).
    """
    return {"published": calibration.published, **calibration.model_dump(mode="json")}


def _not_published(name: str) -> str:
    return (
        f"The service did not publish calibration figures for {name} in a format the provider reads: "
        "no T1, T2, gate or readout errors and no calibration date are known, so none are shown "
        "(the Qiskit Target's errors and pytket's BackendInfo averages are None too)."
    )


@cli_errors
def calibration(
    ctx: typer.Context,
    qpu: Annotated[str, typer.Argument(help="QPU name or id, e.g. 'Lucy' or 'qpu:uk:2:1a2b3c4d5e'.")],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Also draw the device map (qubits by readout error, couplings by ECR error)."),
    ] = None,
    allow_insecure: AllowInsecure = False,
) -> None:
    """Show a QPU's calibration: T1, T2, readout and gate errors per qubit, ECR error per coupling."""
    if plot is not None:
        from oqc_provider.plots import require_matplotlib

        require_matplotlib()  # say so before asking the service anything
    with open_session(ctx, allow_insecure) as session:
        info = session.resolve(qpu)
        figures = session.calibration(info)
    if plot is not None:
        from oqc_provider.plots import plot_device_map

        plot_device_map(figures, info.device, path=plot)
    if as_json:
        print_json(calibration_record(figures))
        return
    from rich.table import Table

    out = console()
    if not figures.published:
        out.print(_not_published(info.label))
        if plot is not None:
            out.print(f"Device map (couplings only) written to {plot}")
        return
    when = f"calibrated {figures.date}" if figures.date else "calibration date not published"
    only = ", emulator only" if info.device.emulator_only else ""
    qubits = Table(title=f"{info.name} ({info.qpu_id}{only}), {when}", title_justify="left")
    for column in ("qubit", "T1 (µs)", "T2 (µs)", "readout error", "1q error", "frequency (GHz)"):
        qubits.add_column(column, justify="right")
    for index, q in sorted(figures.qubits.items()):
        frequency = "-" if q.frequency is None else f"{q.frequency / 1e9:.3f}"
        qubits.add_row(
            str(index),
            _us(q.t1),
            _us(q.t2),
            _figure(q.readout_error, ".4f"),
            _figure(q.one_qubit_error, ".2e"),
            frequency,
        )
    out.print(qubits)
    edges = Table(title="Directed ECR couplings", title_justify="left")
    edges.add_column("control -> target")
    edges.add_column("ECR error", justify="right")
    for edge in figures.edges:
        edges.add_row(f"{edge.control} -> {edge.target}", _figure(edge.ecr_error, ".4f"))
    out.print(edges)
    if figures.is_noiseless:
        out.print("[dim]A noiseless simulator: every error is zero.[/]")
    if plot is not None:
        out.print(f"Device map written to {plot}")
