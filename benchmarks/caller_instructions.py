"""Instructions the calling process spends on ``backend.run(circuits).result()``, counted by valgrind.

    python benchmarks/caller_instructions.py [--circuits 100] [--against DIR]

CPU seconds on a shared machine move by tens of percent with the load (other processes take the
caches and the cores), so a change of a few percent in what the provider does cannot be seen in
them. Instruction counts do not move: callgrind counts the same total twice whatever else runs.
This runs the benchmark's workload (``_workload.qiskit_circuits``, the in-process emulator) under
``valgrind --tool=callgrind``, counting only while ``run().result()`` runs, in every thread of the
calling process: the calling thread, the event loop (HTTP client and the in-process emulator's
routes), the emulator's dispatcher and slot threads. The simulator processes are not counted (they
are Aer's work plus what ``benchmarks/simulator_overhead.py`` measures).

``--against DIR`` also counts a checkout of another commit (``git worktree add DIR COMMIT``) with
this interpreter, and prints the ratio. Needs valgrind (``apt install valgrind``); about a minute
per 100 circuits.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(circuit_count: int) -> None:
    """Run under callgrind: warm up, then count one ``run().result()``."""
    sys.path.insert(0, str(HERE))
    from _workload import DEVICE, SHOTS, private_job_store, qiskit_circuits

    private_job_store()
    from oqc_provider.qiskit import OQCProvider

    provider = OQCProvider()
    backend = provider.get_backend(DEVICE)
    circuits = qiskit_circuits(backend, circuit_count)
    backend.run(circuits[:5], shots=SHOTS).result(timeout=3600)  # simulators warm, imports done

    def counting(on: bool) -> None:
        command = ["callgrind_control", "--instr=on" if on else "--instr=off", str(os.getpid())]
        subprocess.run(command, check=True, capture_output=True)

    before = provider.session.sdk.request_count
    counting(True)
    backend.run(circuits, shots=SHOTS).result(timeout=3600)
    counting(False)
    print(f"requests {provider.session.sdk.request_count - before}", flush=True)
    os._exit(0)  # skip the interpreter's teardown: nothing more to count or keep


def count(source: Path, circuit_count: int) -> tuple[list[int], int]:
    """Instructions per thread of the calling process (threads that ran under 1M left out) and the
    requests sent, for the package in ``source``."""
    with tempfile.TemporaryDirectory(prefix="oqc-callgrind-") as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--cache-sim=no", "--instr-atstart=no",
            "--separate-threads=yes", f"--callgrind-out-file={out}",
            sys.executable, "-c", _IMPORT_FROM.format(source=str(source), script=__file__, n=circuit_count),
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        requests = re.search(r"^requests (\d+)", finished.stdout, re.M)
        if finished.returncode != 0 or requests is None:
            raise SystemExit(f"callgrind run failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
        threads = []
        for path in sorted(Path(folder).glob("callgrind.out-*")):
            totals = re.search(r"^totals: (\d+)", path.read_text(errors="replace"), re.M)
            if totals is not None and int(totals.group(1)) >= 1_000_000:
                threads.append(int(totals.group(1)))
        return threads, int(requests.group(1))


#: The child: the package imported from SOURCE (an editable install of another tree ignored), then
#: this script's ``_child``.
_IMPORT_FROM = (
    "import sys, runpy; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]; "
    "sys.path.insert(0, {source!r}); sys.argv = [{script!r}, '--child', '{n}']; "
    "runpy.run_path({script!r}, run_name='__main__')"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=100)
    parser.add_argument("--against", type=Path, help="another checkout to count the same way")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind): nothing to count with.")
    trees = {"this tree": HERE.parent}
    if args.against is not None:
        trees["--against"] = args.against.resolve()
    totals = {}
    for label, tree in trees.items():
        threads, requests = count(tree, args.circuits)
        totals[label] = sum(threads)
        per_thread = ", ".join(f"{n / 1e6:.0f}M" for n in threads)
        print(
            f"{label} ({tree}): {sum(threads) / 1e6:.0f}M instructions, "
            f"{sum(threads) / args.circuits / 1e6:.2f}M a circuit, {requests} requests "
            f"(threads, in start order: {per_thread})"
        )
    if args.against is not None:
        print(f"ratio (this tree / --against): {totals['this tree'] / totals['--against']:.2f}")


if __name__ == "__main__":
    main()
