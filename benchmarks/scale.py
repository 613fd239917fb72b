"""Scale: 1,000 / 5,000 / 10,000 circuits in one ``backend.run()`` on the in-process emulator.

    python benchmarks/scale.py [--sizes 1000 5000 10000] [--repeats 1]

Each size runs in a fresh process (so its peak resident memory, ``ru_maxrss``, is its own) with the
Qiskit benchmark's transpiled 8-qubit circuits, 1,000 shots, cycled from a pool of 500 distinct
circuits (the provider does all its per-circuit work for each one; nothing is cached by content).
Goals: time per circuit flat within 25% across sizes; peak memory < 1.5 GB at 10,000 circuits,
counting the caller and its simulator processes together (each one's peak, summed: an upper bound).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import DEVICE, SHOTS, print_table, private_job_store, qiskit_circuits, simulator_rss_mb

FLATNESS_GOAL = 0.25
MEMORY_GOAL_MB = 1536
POOL = 500


def one_size(size: int) -> dict[str, float]:
    """Run ``size`` circuits in this process: wall seconds, and peak memory before and after."""
    private_job_store()
    from oqc_provider.qiskit import OQCProvider

    provider = OQCProvider()
    backend = provider.get_backend(DEVICE)
    pool = qiskit_circuits(backend, min(POOL, size))
    circuits = [pool[i % len(pool)] for i in range(size)]
    backend.run(pool[:5], shots=SHOTS).result(timeout=600)  # warm up
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = backend.run(circuits, shots=SHOTS).result(timeout=3600)
    wall = time.perf_counter() - started
    assert result.success and len(result.results) == size, result.status
    caller_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    _, simulators_mb, workers = simulator_rss_mb()
    provider.session.close()
    return {
        "wall": wall,
        "peak_mb": caller_mb + simulators_mb,
        "caller_mb": caller_mb,
        "simulators_mb": simulators_mb,
        "workers": workers,
        "before_mb": before_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per size (median)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size here
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one)))
        return
    figures: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
    for _ in range(args.repeats):
        for size in args.sizes:
            command = [sys.executable, __file__, "--one", str(size)]
            completed = subprocess.run(command, capture_output=True, text=True)
            if completed.returncode != 0:  # say what broke, and go on with the other sizes
                print(f"{size} circuits FAILED:\n{completed.stderr[-2000:]}", file=sys.stderr)
                continue
            figures[size].append(json.loads(completed.stdout.strip().splitlines()[-1]))
    failed = [size for size, runs in figures.items() if not runs]
    figures = {size: runs for size, runs in figures.items() if runs}
    if not figures:
        raise SystemExit("every size failed")
    per_circuit = {size: statistics.median(f["wall"] / size for f in runs) for size, runs in figures.items()}
    peaks = {size: statistics.median(f["peak_mb"] for f in runs) for size, runs in figures.items()}
    rows = [
        (
            f"{size} circuits",
            f"{statistics.median(f['wall'] for f in figures[size]):.1f}",
            f"{1000 * per_circuit[size]:.2f}",
            f"{statistics.median(f['before_mb'] for f in figures[size]):.0f}",
            f"{statistics.median(f['caller_mb'] for f in figures[size]):.0f}",
            f"{statistics.median(f['simulators_mb'] for f in figures[size]):.0f}"
            f" ({int(figures[size][0]['workers'])})",
            f"{peaks[size]:.0f}",
        )
        for size in figures
    ]
    print_table(
        f"One backend.run() of N circuits ({SHOTS} shots), fresh process per size, median of {args.repeats}",
        (
            "",
            "wall s",
            "ms/circuit",
            "caller RSS before MB",
            "caller peak MB",
            "simulators peak MB (n)",
            "total peak MB",
        ),
        rows,
    )
    spread = max(per_circuit.values()) / min(per_circuit.values()) - 1
    largest = max(figures)
    flat = "met" if spread <= FLATNESS_GOAL else "NOT met"
    small = "met" if peaks[largest] < MEMORY_GOAL_MB else "NOT met"
    if failed:
        print(f"FAILED sizes (see above): {failed}")
    print(
        f"time per circuit varies by {100 * spread:.0f}% across sizes (goal <= {100 * FLATNESS_GOAL:.0f}%: "
        f"{flat}); peak memory at {largest}: {peaks[largest]:.0f} MB (goal < {MEMORY_GOAL_MB} MB: {small})"
    )


if __name__ == "__main__":
    main()
