"""``oqc-provider run FILE.qasm`` and ``oqc-provider demo``: counts from the command line.

``run`` sends OpenQASM 2 or 3 files through the job engine as they are, records the batch in the local
job store first, so ``oqc-provider jobs result ID`` finds it later, and prints counts per classical
register. A raw program expects the service to compile it: by default the config carries
``optimizations`` null, the service's own default, under which it places and routes the program onto the
device and turns standard gates into native ones (``--optimizations`` chooses otherwise; see
docs/service-compilation.md).
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from oqc_provider.cli.common import (
    AllowInsecure,
    cli_errors,
    console,
    format_counts,
    open_session,
    print_json,
    print_outcome,
)
from oqc_provider.cli.common import outcome as outcome_of_circuit
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.run_options import OPTIMIZATION_CHOICES

if TYPE_CHECKING:
    from oqc_provider.engine.cost import CostEstimate

STORE_KIND = "cli"
#: ``--optimizations`` choices: the names of ``run_options.OPTIMIZATION_CHOICES``.
Optimization = Enum("Optimization", {name: name for name in OPTIMIZATION_CHOICES}, type=str)  # type: ignore[misc]
_HEADER = re.compile(r"^\s*OPENQASM\s+([23])(\.\d+)?\s*;", re.MULTILINE)


def read_program(path: Path) -> str:
    """The text of an OpenQASM 2 or 3 file, after a cheap check that it is one.

    Raises:
        FileNotFoundError: no such file.
        ConfigurationError: the file has no ``OPENQASM 2.0;`` / ``OPENQASM 3.0;`` header.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "x.qasm"
        >>> _ = path.write_text("// a comment first is fine" + chr(10) + "OPENQASM 3.0; qubit q;")
        >>> read_program(path).splitlines()[1]
        'OPENQASM 3.0; qubit q;'
    """
    text = path.read_text(encoding="utf-8")
    stripped = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL)
    if not _HEADER.match(stripped.lstrip()):
        raise ConfigurationError(
            f"{path} is not an OpenQASM program: it must start with 'OPENQASM 2.0;' or 'OPENQASM 3.0;'."
        )
    return text


@cli_errors
def run(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE.qasm...", help="OpenQASM 2 or 3 files; several run as one batch."),
    ],
    qpu: Annotated[str, typer.Option(help="QPU name or id.")] = "Lucy Simulator",
    shots: Annotated[int, typer.Option(help="Shots per circuit.")] = 1000,
    seed: Annotated[
        int | None, typer.Option(help="Seed for reproducible counts (sent to simulators only).")
    ] = None,
    optimizations: Annotated[
        Optimization,
        typer.Option(
            case_sensitive=False,
            help=(
                "What the service's compiler may do: 'service' (its default, tket One: places and "
                "routes the program), 'empty' (no pass: program qubit i is physical qubit i, uncoupled "
                "gates are refused), 'one', or 'two' (One plus peephole optimisation)."
            ),
        ),
    ] = Optimization["service"],  # a member made from a dict: mypy knows no attribute names
    tag: Annotated[str | None, typer.Option(help="A label stored with each task.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for results.")] = 600.0,
    plot: Annotated[Path | None, typer.Option(help="Also draw a histogram of the counts (PNG).")] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: in a terminal).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (job id, task ids, counts).")] = False,
    allow_insecure: AllowInsecure = False,
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate",
            help="Print what the run would cost at the registry's prices, and send nothing.",
        ),
    ] = False,
    max_cost: Annotated[
        str | None,
        typer.Option(
            help="Refuse the run, before sending anything, if its estimate is above this many credits "
            "(or a price is not published)."
        ),
    ] = None,
    pre_selection: Annotated[
        bool,
        typer.Option(
            help="Measure the program's qubits first; drop shots where one reads 1 (fewer shots back)."
        ),
    ] = False,
    post_selection: Annotated[
        bool, typer.Option(help="Drop shots read as a disallowed (leakage) state (fewer shots back).")
    ] = False,
    driven_reset: Annotated[
        bool, typer.Option(help="Reset qubits with DDROP pulses (QPUs with DDROP calibration only).")
    ] = False,
    passive_reset_time: Annotated[
        float | None, typer.Option(help="Seconds qubits idle between shots (default: the QPU's own).")
    ] = None,
    preflight: Annotated[
        bool,
        typer.Option(
            "--preflight/--no-preflight",
            help="Refuse, before sending, programs the QPU is known to refuse (docs/service-compilation.md).",
        ),
    ] = True,
) -> None:
    """Run OpenQASM files on a QPU and print the counts of each classical register.

    With --estimate, print the run's estimated cost (credits as the registry prices them) instead.
    """
    from oqc_provider.cli.waiting import fail_if_failed, fail_wait
    from oqc_provider.engine.progress import progress_for
    from oqc_provider.engine.store import JobStore, Record, new_job_id
    from oqc_provider.engine.waiting import WaitEnd, wait_outcome
    from oqc_provider.preflight import check_program, check_request_sizes
    from oqc_provider.run_options import RunOptions

    programs = [read_program(path) for path in files]
    options = RunOptions.build(
        shots=shots,
        seed=seed,
        tag=tag,
        timeout=timeout,
        optimizations=optimizations.value,
        max_cost=max_cost,
        pre_selection=pre_selection,
        post_selection=post_selection,
        driven_reset=driven_reset,
        passive_reset_time=passive_reset_time,
        preflight=preflight,
    )
    if plot is not None:
        from oqc_provider.plots import require_matplotlib

        require_matplotlib()  # fail before anything is sent
    with open_session(ctx, allow_insecure) as session:
        info = session.resolve(qpu)
        options.check_device(info.device)
        if options.preflight:
            for index, (program, path) in enumerate(zip(programs, files, strict=True)):
                check_program(program, info.device, label=str(path), index=index)
        if options.seed_ignored_on(info.device):
            typer.echo(f"Note: {info.name} is not a simulator; --seed is not sent to it.", err=True)
        children = [
            session.sdk.new_job(
                program,
                info.qpu_id,
                options.compiler_config(),
                tag=tag,
                external_config=options.external_config(info.device),
            )
            for program in programs
        ]
        if estimate:
            _print_estimate(session.run(session.sdk.estimate_cost(children)), as_json)
            return
        if options.max_cost is not None:  # refused before anything is recorded or sent
            session.run(session.sdk.admit(children, max_cost=options.max_cost))
        store, job_id = JobStore(), new_job_id()
        jobs = session.sdk.create_batch(
            children,
            record=Record(store, kind=STORE_KIND, job_id=job_id, backend=info.name, shots=shots),
        )
        if options.preflight:
            check_request_sizes(jobs.jobs, [str(path) for path in files])  # before it is recorded or sent
        for job, path in zip(jobs, files, strict=True):
            job.annotations["file"] = str(path)
        with progress_for(jobs, enabled=progress, description=f"{info.name}"):
            waiting = jobs.execute(timeout_s=timeout)
            outcome = session.run(wait_outcome(waiting, jobs.jobs, service=session.sdk, timeout=timeout))
    results = [outcome_of_circuit(job, path) for job, path in zip(jobs, files, strict=True)]
    report: dict[str, Any] = {
        "job_id": job_id,
        "qpu": info.qpu_id,
        "backend": info.name,
        "state": jobs.state.value,
    }
    if not outcome.finished:  # the job id first, so a script can collect the job later
        if as_json:
            print_json({**report, "outcome": outcome.end.value, "circuits": results})
        again = 600 if outcome.end is WaitEnd.STILL_RUNNING else 60
        raise fail_wait(outcome, job_id=job_id, saved_at=store.path_for(job_id), wait=again)
    if options.selects_shots:
        for item in results:
            item["shots_kept"] = _shots_kept(item["counts"])
    drawn = None if plot is None else _plot_all(results, plot)
    if as_json:
        report["circuits"] = results
        print_json(report if drawn is None else {**report, "plot": drawn})
    else:
        out = console()
        for item in results:
            print_outcome(out, item)
            if item.get("shots_kept") is not None:
                out.print(f"Selection kept {item['shots_kept']} of {shots} shots.")
        out.print(f"Saved as job [bold]{job_id}[/] ({store.path_for(job_id)})")
        if drawn is not None:
            out.print(drawn, markup=False, highlight=False)
    fail_if_failed(results)


def _print_estimate(estimate: CostEstimate, as_json: bool) -> None:
    """``run --estimate``: the estimate, as text or JSON (amounts as strings, nothing rounded)."""
    if as_json:
        print_json(estimate.to_json())
        return
    out = console()
    out.print(str(estimate), markup=False, highlight=False)
    if estimate.read_at is not None:
        out.print(
            f"Prices read from the registry at {estimate.read_at:%Y-%m-%d %H:%M:%S} UTC; nothing was sent."
        )


def _shots_kept(counts: dict[str, dict[str, int]] | None) -> int | None:
    """How many shots pre-/post-selection kept: every register counts each kept shot once."""
    if not counts:
        return None
    return sum(next(iter(counts.values())).values())


#: The most histograms ``--plot`` draws in one picture (more would be unreadable).
MAX_PLOT_PANELS = 24


def _plot_all(results: list[dict[str, Any]], path: Path) -> str:
    """Draw every register of every circuit with counts into one picture; say what was drawn."""
    from oqc_provider.plots import plot_counts_grid

    panels = [
        (f"{Path(item['circuit']).name}: register {register}", counts)
        for item in results
        if item["counts"]
        for register, counts in format_counts(item["counts"])
    ]
    missing = [Path(item["circuit"]).name for item in results if not item["counts"]]
    not_drawn = f"; no counts to draw for {', '.join(missing)}" if missing else ""
    if not panels:
        return f"No histogram written: no circuit returned counts{not_drawn}."
    circuits = sum(1 for item in results if item["counts"])
    kept = panels[:MAX_PLOT_PANELS]
    plot_counts_grid(kept, path=path)
    if len(kept) < len(panels):
        what = f"the first {len(kept)} of {len(panels)} registers ({circuits} circuit(s))"
    else:
        what = f"{len(panels)} register(s) of {circuits} circuit(s)"
    return f"Histograms of {what} written to {path}{not_drawn}."


@cli_errors
def demo(ctx: typer.Context) -> None:
    """Run a Bell pair through Qiskit and through pytket on the built-in emulator (or QCaaS, if set)."""
    from oqc_provider.cli.demo import run_demo

    run_demo(ctx)
