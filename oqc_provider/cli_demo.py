"""``oqc-provider demo``: the README's first command — a Bell pair through Qiskit and through pytket.

It is what a new user sees in their first minute, so it uses each front end exactly as the
guides do (public API only), prints the counts, and says where each job was saved and how to
find it again. It needs nothing beyond the base install: no matplotlib, no account.
"""

from __future__ import annotations

from typing import Any

import typer

from oqc_provider.cli_common import console, settings

DEVICE = "Lucy Simulator"


def _show_counts(out: Any, counts: dict[Any, int]) -> None:
    total = sum(counts.values())
    for outcome, count in sorted(counts.items(), key=lambda item: str(item[0])):
        bar = "█" * round(40 * count / total) if total else ""
        out.print(f"    {outcome!s:>8}  {count:>5}  [cyan]{bar}[/]")


def run_demo(ctx: typer.Context) -> None:
    """Run the demo with the invocation's connection settings (the built-in emulator by default)."""
    from oqc_provider.engine.store import JobStore

    options = settings(ctx)
    out = console()
    store = JobStore()
    ids = {"qiskit": _qiskit_bell(out, options.url, options.token)}
    ids["pytket"] = _pytket_bell(out, options.url, options.token, store)
    out.print()
    out.print(f"[bold]Jobs are kept in the local job store[/] ({store.root}):")
    for front_end, job_id in ids.items():
        out.print(f"  {front_end:<7} {job_id}  ->  {store.path_for(job_id)}")
    out.print()
    out.print("Next: [bold]oqc-provider jobs list[/], then [bold]oqc-provider jobs result ID[/] (any time).")
    out.print(
        "Also: [bold]oqc-provider qpus[/], [bold]oqc-provider calibration Lucy[/], [bold]oqc-provider run[/]"
    )


def _qiskit_bell(out: Any, url: str | None, token: str | None) -> str:
    from qiskit import QuantumCircuit, transpile

    from oqc_provider import OQCProvider

    with OQCProvider(url, token) as provider:
        out.print(f"[bold]Qiskit[/] on {DEVICE}, via {provider!r}")
        backend = provider.get_backend(DEVICE)
        bell = QuantumCircuit(2, 2, name="bell")
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        job = backend.run(transpile(bell, backend), shots=1000)
        counts = job.result(timeout=120).get_counts("bell")
        out.print(f"  job {job.job_id()}: counts")
        _show_counts(out, counts)
        return str(job.job_id())


def _pytket_bell(out: Any, url: str | None, token: str | None, store: Any) -> str:
    from pytket import Circuit

    from oqc_provider import OQCTketBackend

    before = {entry.job_id for entry in store.list()}
    with OQCTketBackend(DEVICE, url, token) as backend:
        out.print(f"[bold]pytket[/] on {DEVICE}")
        bell = Circuit(2, 2, name="bell").H(0).CX(0, 1).measure_all()
        handle = backend.process_circuit(backend.get_compiled_circuit(bell), n_shots=1000)
        counts = backend.get_result(handle, timeout=120).get_counts(bell.bits)
    new = [e.job_id for e in store.list() if e.job_id not in before and e.kind == "pytket"]
    job_id = new[0] if new else "(not in the store)"
    out.print(f"  job {job_id}: counts (c[0], c[1])")
    _show_counts(out, {"".join(str(bit) for bit in key): n for key, n in counts.items()})
    return job_id
