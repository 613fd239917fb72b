"""``oqc-provider demo``: the README's first command — a Bell pair through Qiskit and through pytket.

It is what a new user sees in their first minute, so it uses each front end exactly as the
guides do (public API only), prints the counts, and says where each job was saved and how to
find it again. It needs nothing beyond the base install: no matplotlib, no account.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

from oqc_provider.cli.common import console, settings

DEVICE = "Lucy Simulator"
BELL_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""


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
    out.print("[bold]Next[/], each as printed:")
    for command in next_commands(ids["qiskit"], _write_example_program(), options.url):
        out.print(f"  {command}", soft_wrap=True)


def program_name() -> str:
    """How this command was invoked (``.venv/bin/oqc-provider``), so printed hints run as pasted.

    Bare ``oqc-provider`` when that is what the shell finds (an activated venv, pipx), or when
    the CLI runs in some other program (``python -m``, a test runner).
    """
    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name != "oqc-provider":
        return "oqc-provider"
    found = shutil.which("oqc-provider")
    if found and Path(found).resolve() == Path(invoked).resolve():
        return "oqc-provider"
    return invoked


def next_commands(job_id: str, program: Path, url: str | None = None) -> list[str]:
    """The commands the demo suggests, all runnable as printed (a test runs each of them).

    ``url``: the demo's own ``--url``, repeated so the hints ask the same service (a token given
    with ``--token`` is not printed: set OQC_AUTHENTICATION_TOKEN, or add ``--token``).
    """
    name = program_name() + (f" --url {shlex.quote(url)}" if url else "")
    return [
        f"{name} jobs list",
        f"{name} jobs result {job_id}",
        f"{name} qpus",
        f"{name} calibration {shlex.quote(DEVICE)}",
        f"{name} run {shlex.quote(str(program))}",
    ]


def _write_example_program() -> Path:
    """A Bell-pair OpenQASM file in the provider's folder, for the ``run`` hint."""
    from oqc_provider.paths import provider_home

    path = provider_home() / "examples" / "bell.qasm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BELL_QASM)
    return path


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
