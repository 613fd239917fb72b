"""``oqc-provider jobs ...``: the local job store, for jobs made by the engine, Qiskit, pytket or the CLI.

Every front end writes its batches to the same store (a folder of engine snapshots), so one
command lists yesterday's Qiskit job beside this morning's pytket one, and ``jobs result ID``
fetches any of them in a fresh process: the snapshot is loaded, refreshed from the service if it
was still running, saved back, and each circuit's counts are printed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from oqc_provider.cli.common import (
    AllowInsecure,
    cli_errors,
    console,
    fail,
    open_session,
    outcome,
    print_json,
    print_outcome,
)

if TYPE_CHECKING:
    from oqc_provider.engine.composite import CompositeJob
    from oqc_provider.engine.job import Job
    from oqc_provider.engine.store import JobStore, StoreEntry
    from oqc_provider.engine.waiting import WaitOutcome
    from oqc_provider.session import ProviderSession

jobs_app = typer.Typer(
    help="The local job store: list, show, fetch results, cancel, export.", no_args_is_help=True
)
JobId = Annotated[
    str, typer.Argument(metavar="ID", help="A job id, as 'jobs list' shows it, or its first characters.")
]
JSON_HELP = "Print JSON instead of tables (for scripts)."


def entry_record(entry: StoreEntry) -> dict[str, Any]:
    """One store entry as ``jobs list --json`` prints it."""
    record = asdict(entry)
    record["qpu_ids"] = list(entry.qpu_ids)
    record["path"] = str(entry.path)
    record["cost"] = None if entry.cost is None else str(entry.cost)  # exact: a decimal string
    return record


def _store() -> JobStore:
    from oqc_provider.engine.store import JobStore

    return JobStore()


def _resolve(store: JobStore, job_id: str) -> str:
    """The store id ``job_id`` names: itself, or the one job whose id starts with it.

    Ids are long and the docs abbreviate them, so a unique prefix is enough, as with git.

    Raises:
        typer.Exit: no job starts with it, or several do (they are listed).
    """
    if store.path_for(job_id).is_file():  # also refuses ids that could name a file outside the store
        return job_id
    matches = {
        entry.path.stem: entry
        for entry in store.list()
        if entry.path.stem.startswith(job_id) or entry.job_id.startswith(job_id)
    }
    if len(matches) == 1:
        return next(iter(matches))
    if not matches:
        raise fail(
            f"No job {job_id!r} (nor any whose id starts with it) in the local job store ({store.root}); "
            "'oqc-provider jobs list' shows the ids."
        )
    shown = list(matches.values())[:10]
    listed = "; ".join(f"{entry.job_id} ({entry.kind}, created {entry.created})" for entry in shown)
    more = f"; and {len(matches) - len(shown)} more" if len(matches) > len(shown) else ""
    raise fail(
        f"{len(matches)} jobs have an id starting with {job_id!r}: {listed}{more}. Give more of the id."
    )


def _entry(store: JobStore, job_id: str) -> StoreEntry:
    store.read(job_id)  # raises JobStoreError naming the store when there is no such job
    for entry in store.list():
        if entry.job_id == job_id or entry.path.stem == job_id:
            return entry
    raise fail(f"job {job_id!r} is in the store but could not be read; see 'oqc-provider -v jobs list'")


def _load(session: ProviderSession, store: JobStore, job_id: str) -> tuple[StoreEntry, Job | CompositeJob]:
    from oqc_provider.engine.store import Record

    entry = _entry(store, job_id)
    how = Record(store, kind=entry.kind, job_id=entry.path.stem, backend=entry.backend, shots=entry.shots)
    return entry, session.sdk.from_snapshot(store.read(job_id), record=how)


def _children(job: Job | CompositeJob) -> list[Job]:
    from oqc_provider.engine.composite import CompositeJob

    return list(job.jobs) if isinstance(job, CompositeJob) else [job]


@jobs_app.command("list")
@cli_errors
def list_jobs(
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    kind: Annotated[
        str | None, typer.Option(help="Only jobs made by this: engine, qiskit, pytket or cli.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Show at most this many (newest first).")] = None,
) -> None:
    """List the jobs in the local job store, newest first (no network)."""
    store = _store()
    entries = [entry for entry in store.list() if kind is None or entry.kind == kind][:limit]
    if as_json:
        print_json([entry_record(entry) for entry in entries])
        return
    columns = ("job id", "made by", "backend", "QPU", "created", "state", "circuits", "shots", "tag", "cost")
    rows = [
        (
            e.job_id, e.kind, e.backend or "-", ", ".join(e.qpu_ids) or "-", e.created[:19].replace("T", " "),
            e.state, str(e.circuits), "-" if e.shots is None else str(e.shots), e.tag or "-",
            "-" if e.cost is None else f"{e.cost:f}",
        )
        for e in entries
    ]  # fmt: skip
    out = console()
    out.print(f"Jobs in {store.root}")
    widths = [max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(columns)]
    if sum(widths) + 3 * len(columns) + 1 <= out.width:
        out.print(_table(columns, rows))
    else:  # a narrow terminal: one short block per job, so ids are never cut
        for job_id, made_by, backend, qpu, created, state, circuits, shots, tag, cost in rows:
            out.print(f"[bold]{job_id}[/]  {_state(state)}")
            label = "" if tag == "-" else f", tag {tag}"
            out.print(f"  {made_by} · {backend} ({qpu}) · {created}")
            out.print(f"  {circuits} circuit(s), {shots} shots{label}, estimated cost {cost}")
    if not entries:
        out.print("[dim]No jobs yet: try 'oqc-provider demo'.[/]")


def _table(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> Any:
    from rich.table import Table

    table = Table()
    for column in columns:
        table.add_column(
            column, justify="right" if column in ("circuits", "shots", "cost") else "left", no_wrap=True
        )
    for row in rows:
        table.add_row(*row[:5], _state(row[5]), *row[6:])
    return table


def _state(state: str) -> str:
    colour = {"COMPLETED": "green", "FAILED": "red", "CANCELLED": "yellow"}.get(state, "cyan")
    return f"[{colour}]{state}[/]"


def _waiting_reason(session: ProviderSession, job: Job | CompositeJob) -> str | None:
    """Why a job with queued tasks waits (its QPU's queue and window: one request), else None."""
    from oqc_provider.engine.composite import CompositeJob

    view = CompositeJob(_children(job), session.sdk)  # a view: a single job reads like a batch
    session.run(view.read_queue())
    return view.waiting_reason()


@jobs_app.command("show")
@cli_errors
def show(
    ctx: typer.Context,
    job_id: JobId,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Refresh unfinished tasks and say why queued ones wait (their QPU's queue and window).",
        ),
    ] = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """Show one job from the store: where it ran, and each task's id, state and error (no network,
    unless --queue asks the service why its queued tasks wait)."""
    from oqc_provider.engine.cost import UNIT, recorded_cost
    from oqc_provider.engine.snapshots import CompositeJobSnapshot

    store = _store()
    job_id = _resolve(store, job_id)
    waiting = None
    if queue and _entry(store, job_id).state not in ("COMPLETED", "FAILED", "CANCELLED"):
        with open_session(ctx, allow_insecure) as session:
            _, job = _load(session, store, job_id)
            if any(child.task_id for child in _children(job)):
                session.run(job.refresh())  # the engine records what changed
                waiting = _waiting_reason(session, job)
    entry = _entry(store, job_id)  # after any refresh: its state as now saved
    snapshot = store.read(job_id)
    children = snapshot.jobs if isinstance(snapshot, CompositeJobSnapshot) else [snapshot]
    tasks: list[dict[str, Any]] = [
        {
            "index": index,
            "task_id": None if child.task_id is None else str(child.task_id),
            "qpu_id": child.qpu_id,
            "state": child.state,
            "tag": child.tag,
            "cost": None if (cost := recorded_cost(child.annotations)) is None else str(cost),
        }
        for index, child in enumerate(children)
    ]
    if as_json:
        print_json({**entry_record(entry), "tasks": tasks, **({"waiting": waiting} if queue else {})})
        return
    from rich.table import Table

    out = console()
    out.print(f"[bold]{entry.job_id}[/]  made by {entry.kind}, backend {entry.backend or '-'}")
    if waiting is not None:
        out.print(f"  [yellow]{waiting}[/]")
    out.print(f"  created {entry.created}, updated {entry.updated}, state {_state(entry.state)}")
    out.print(f"  {entry.circuits} circuit(s), {entry.shots or '-'} shots, stored at {entry.path}")
    estimate = "not known" if entry.cost is None else f"{entry.cost:f} {UNIT}"
    out.print(f"  estimated cost when submitted: {estimate}")
    table = Table()
    for column in ("#", "task id", "QPU", "state", "tag", "cost"):
        table.add_column(column, no_wrap=column == "task id", min_width=36 if column == "task id" else None)
    for t in tasks:
        row = (str(t["index"]), t["task_id"] or "-", t["qpu_id"], _state(t["state"]), t["tag"] or "-")
        table.add_row(*row, t["cost"] or "-")
    out.print(table)


@jobs_app.command("result")
@cli_errors
def result(
    ctx: typer.Context,
    job_id: JobId,
    wait: Annotated[float, typer.Option(help="Seconds to wait for unfinished tasks (0: look once).")] = 0.0,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: in a terminal).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """Fetch a job's results: refresh unfinished tasks from the service, then print each circuit's counts."""
    from dataclasses import replace

    from oqc_provider.cli.waiting import fail_if_failed, fail_wait
    from oqc_provider.engine.waiting import WaitEnd

    store = _store()
    job_id = _resolve(store, job_id)
    with open_session(ctx, allow_insecure) as session:
        entry, job = _load(session, store, job_id)
        ended = _update(session, job, wait, progress)
        if ended.end is WaitEnd.STILL_RUNNING and not ended.timeout:  # why it waits: one more request
            ended = replace(ended, reason=_waiting_reason(session, job) or ended.reason)
    children = _children(job)
    outcomes = [
        outcome(child, child.annotations.get("file", f"circuit {index}"))
        for index, child in enumerate(children)
    ]
    if as_json:
        print_json({"job_id": entry.job_id, "state": job.state.value, "circuits": outcomes})
    else:
        out = console()
        for item in outcomes:
            print_outcome(out, item)
    if not ended.finished:
        raise fail_wait(ended, job_id=entry.job_id, saved_at=entry.path, wait=wait if wait > 0 else 60)
    fail_if_failed(outcomes)


def _update(
    session: ProviderSession, job: Job | CompositeJob, wait: float, progress: bool | None
) -> WaitOutcome:
    """Read the job once (``wait`` 0) or wait up to ``wait`` seconds for it to end (sending tasks
    that were never sent); how that ended."""
    from oqc_provider.engine.waiting import outcome_of, wait_outcome

    children = _children(job)
    if job.state.is_terminal:
        return outcome_of(None, children, url=session.sdk.url, timeout=wait)
    if wait > 0:
        with _progress(job, progress):
            return session.run(
                wait_outcome(job.wait(timeout_s=wait), children, service=session.sdk, timeout=wait)
            )
    if any(child.task_id is not None for child in children):
        return session.run(wait_outcome(job.refresh(), children, service=session.sdk, timeout=0))
    return outcome_of(None, children, url=session.sdk.url, timeout=0)


def _progress(job: Job | CompositeJob, enabled: bool | None) -> contextlib.AbstractContextManager[object]:
    """A progress bar while waiting for a batch (a single job has nothing to count)."""
    from oqc_provider.engine.composite import CompositeJob
    from oqc_provider.engine.progress import progress_for

    if isinstance(job, CompositeJob):
        return progress_for(job, enabled=enabled, description="tasks")
    return contextlib.nullcontext()


@jobs_app.command("cancel")
@cli_errors
def cancel(ctx: typer.Context, job_id: JobId, allow_insecure: AllowInsecure = False) -> None:
    """Ask the service to cancel a job's unfinished tasks (finished ones are left alone)."""
    store = _store()
    job_id = _resolve(store, job_id)
    with open_session(ctx, allow_insecure) as session:
        _, job = _load(session, store, job_id)
        active = [child for child in _children(job) if not child.state.is_terminal]
        if active:
            session.run(job.cancel())  # the engine records what the server says
    states = ", ".join(sorted({child.state.value for child in _children(job)}))
    console().print(f"{job_id}: {len(active)} task(s) asked to cancel; now {states}")


@jobs_app.command("export")
@cli_errors
def export(
    job_id: JobId,
    file: Annotated[Path, typer.Argument(help="Where to write the snapshot (JSON).")],
) -> None:
    """Write a job's snapshot to FILE: loadable with OqcSdk.load() here or with OQC's own SDK."""
    from oqc_provider.engine.snapshots import write_atomic

    store = _store()
    job_id = _resolve(store, job_id)
    snapshot = store.read(job_id)
    write_atomic(file, snapshot.model_dump_json(indent=2))
    console().print(f"Job {job_id} written to {file}")
