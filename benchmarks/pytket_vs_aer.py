"""``OQCTketBackend`` on the in-process emulator against pytket-qiskit's ``AerBackend``, same circuits.

    python benchmarks/pytket_vs_aer.py [--circuits 500] [--repeats 3] [--no-profile]

The circuits are the Qiskit benchmark's random 8-qubit circuits, converted to pytket and compiled
once for "Lucy Simulator" (``get_compiled_circuits``, level 1); both backends then run the same
compiled circuits with ``process_circuits`` + ``get_results`` (1,000 shots). Each round times both back to
back; figures are medians over rounds, unseeded and seeded. Goal: <= 1.2x AerBackend's wall time.
Needs pytket-qiskit (the test extra has it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import (
    DEVICE,
    SHOTS,
    cumulative,
    emulator_stages,
    median_ratio,
    print_table,
    private_job_store,
    profile_threads,
    timed,
)

GOAL = 1.2


def tket_circuits(backend: Any, count: int) -> list[Any]:
    """``count`` random 8-qubit circuits compiled for ``backend`` (optimisation level 1).

    The Qiskit benchmark's random circuits, decomposed for pytket, with a barrier before the final
    measurements: pytket would otherwise measure each qubit as soon as it is free, and a circuit
    with gates after a measurement cannot be sampled by Aer (it simulates each of the 1,000 shots),
    which would make both sides measure Aer alone.
    """
    from pytket.extensions.qiskit import qiskit_to_tk
    from qiskit.circuit.random import random_circuit

    circuits = []
    for seed in range(count):
        depth = 4 if seed % 3 == 0 else 3
        circuit = qiskit_to_tk(random_circuit(8, depth, max_operands=2, seed=seed).decompose())
        circuit.add_barrier(circuit.qubits)
        circuit.measure_all()
        circuits.append(circuit)
    return list(backend.get_compiled_circuits(circuits, optimisation_level=1))


def run_all(backend: Any, circuits: list[Any], seed: int | None) -> list[Any]:
    """Submit every circuit, then collect every result: what a pytket user's batch does."""
    options = {} if seed is None else {"seed": seed}
    handles = backend.process_circuits(circuits, n_shots=SHOTS, **options)
    return list(backend.get_results(handles))


def profiled(backend: Any, circuits: list[Any]) -> tuple[float, list[tuple[str, float]]]:
    """One profiled run (calling, event-loop and simulation threads): wall time and stage seconds."""
    wall, main, loop, simulation = profile_threads(backend._session, lambda: run_all(backend, circuits, None))
    front = "oqc_provider/pytket/backend.py"
    stages = [
        (
            "[main] predicates (valid_check)",
            cumulative(main, ("oqc_provider/pytket/validation.py", "check_circuit")),
        ),
        (
            "[main] to_program (QASM emission)",
            cumulative(main, ("oqc_provider/pytket/programs.py", "to_program")),
        ),
        ("[main] batch creation", cumulative(main, (front, "_new_batch"))),
        ("[main] job store writes", cumulative(main, ("oqc_provider/engine/store.py", "save"))),
        ("[main] backend_result", cumulative(main, ("oqc_provider/pytket/results.py", "backend_result"))),
        ("[main] process_circuits in all", cumulative(main, (front, "process_circuits"))),
        ("[main] get_result(s) in all", cumulative(main, ("pytket/backends/backend.py", "get_results"))),
    ]
    return wall, stages + emulator_stages(loop, simulation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled breakdown")
    args = parser.parse_args()
    private_job_store()

    from pytket.extensions.qiskit import AerBackend

    from oqc_provider.pytket import OQCTketBackend

    ours_backend = OQCTketBackend(DEVICE)
    aer = AerBackend()
    started = time.perf_counter()
    circuits = tket_circuits(ours_backend, args.circuits)
    gates = statistics.fmean(circuit.n_gates for circuit in circuits)
    print(
        f"{len(circuits)} compiled circuits, {gates:.0f} operations each on average, {SHOTS} shots; "
        f"compiled in {time.perf_counter() - started:.1f}s"
    )
    run_all(ours_backend, circuits[:5], None)  # warm up both
    run_all(aer, circuits[:5], None)

    rows, ratios = [], []
    for label, seed in (("unseeded", None), ("seed=7", 7)):
        ours, theirs = [], []
        for _ in range(args.repeats):
            theirs.append(timed(lambda seed=seed: run_all(aer, circuits, seed)))
            ours.append(timed(lambda seed=seed: run_all(ours_backend, circuits, seed)))
        ratio = median_ratio(ours, theirs)
        ratios.append(ratio)
        rows.append(
            (
                label,
                f"{statistics.median(theirs):.2f}",
                f"{statistics.median(ours):.2f}",
                f"{ratio:.2f}x",
                "met" if ratio <= GOAL else "NOT met",
            )
        )
    print_table(
        f"OQCTketBackend vs AerBackend, {len(circuits)} circuits, median of {args.repeats} rounds",
        ("", "AerBackend s", "OQCTketBackend s", "ratio", f"goal <= {GOAL}x"),
        rows,
    )
    if not args.no_profile:
        wall, stages = profiled(ours_backend, circuits)
        print_table(
            f"Profiled run (cProfile, 3 threads): wall {wall:.2f}s (profiling adds overhead)",
            ("stage", "s", "% of wall"),
            [(name, f"{t:.3f}", f"{100 * t / wall:.0f}%") for name, t in stages],
        )
    print(
        "ratio (OQCTketBackend / AerBackend): "
        + ", ".join(f"{row[0]} {ratio:.2f}x" for row, ratio in zip(rows, ratios, strict=True))
        + f" (goal <= {GOAL})"
    )
    ours_backend.close()


if __name__ == "__main__":
    main()
