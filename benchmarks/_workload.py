"""What the benchmarks share: the circuits they run, a private job store, timing and profiling helpers.

The workload is the one the performance issue describes: random 8-qubit circuits transpiled for
Lucy (about 130 native gates each, measured at the end), so the provider and Aer run exactly the
same instructions. Circuits are made once per process from fixed seeds, so every run of a
benchmark measures the same programs.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

#: The noiseless stand-in of Lucy: the provider's figures are then comparable to a plain AerSimulator.
DEVICE = "Lucy Simulator"
QUBITS = 8
SHOTS = 1000


def private_job_store() -> str:
    """Point the provider's local job store at a fresh temporary folder (not the user's data)."""
    home = tempfile.mkdtemp(prefix="oqc-benchmark-")
    os.environ["OQC_PROVIDER_HOME"] = home
    return home


def qiskit_circuits(backend: Any, count: int, first_seed: int = 0) -> list[Any]:
    """``count`` random 8-qubit circuits transpiled for ``backend`` (mean ~130 native operations).

    Depth 3 or 4 random circuits of one- and two-qubit gates, mixed so the mean lands near the
    issue's 130 native gates; transpiled once (optimisation level 1, fixed seed).
    """
    from qiskit import transpile
    from qiskit.circuit.random import random_circuit

    circuits = [
        random_circuit(QUBITS, 4 if seed % 3 == 0 else 3, max_operands=2, measure=True, seed=seed)
        for seed in range(first_seed, first_seed + count)
    ]
    for index, circuit in enumerate(circuits):
        circuit.name = f"random-{first_seed + index}"
    return list(transpile(circuits, backend, optimization_level=1, seed_transpiler=0))


def mean_operations(circuits: Iterable[Any]) -> float:
    """Mean number of operations (measurements included) per Qiskit circuit."""
    sizes = [sum(circuit.count_ops().values()) for circuit in circuits]
    return statistics.fmean(sizes) if sizes else 0.0


def timed(action: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


#: Clock ticks per second of ``/proc/<pid>/stat``'s CPU times.
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used so far (Linux ``/proc``), None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime: fields 14 and 15


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, every thread included (Aer's OpenMP pool too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def simulator_pids() -> list[int]:
    """The pids of this process's simulator processes (none before an emulator starts them)."""
    from oqc_provider.emulator.pool import shared_pool

    return shared_pool().worker_pids()


def timed_with_cpu(
    action: Callable[[], Any], helpers: Callable[[], list[int]] | None = None
) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one call: this process's CPU plus that of the ``helpers``
    processes (pids read before and after; one started meanwhile counts from its start).

    Load stretches wall time (a neighbour takes a core) far more than CPU time, so the CPU ratio is
    the steadier measure of what the provider adds on a shared machine.
    """
    before = {pid: process_cpu_seconds(pid) or 0.0 for pid in (helpers() if helpers else [])}
    cpu_started = own_cpu_seconds()
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    cpu = own_cpu_seconds() - cpu_started
    for pid in helpers() if helpers else []:
        now = process_cpu_seconds(pid)
        if now is not None:
            cpu += now - before.get(pid, 0.0)
    return wall, cpu


def median_ratio(ours: list[float], theirs: list[float]) -> float:
    """Median of the per-round ratios (each round measured both back to back)."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def cumulative(profile: cProfile.Profile, *markers: tuple[str, str]) -> float:
    """Cumulative seconds of the functions named by ``(file suffix, function name)`` in ``profile``.

    Functions that call one another (recursion, a marker inside another) would be counted twice,
    so markers should name disjoint stages.
    """
    profile.create_stats()
    if not profile.stats:  # type: ignore[attr-defined]  # never enabled (the simulation profile)
        return 0.0
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = 0.0
    for (filename, _, function), (_, _, _, cumtime, _) in stats.items():
        normalized = filename.replace(os.sep, "/")
        if any(normalized.endswith(suffix) and function == name for suffix, name in markers):
            total += cumtime
    return total


def profile_threads(
    session: Any, action: Callable[[], Any]
) -> tuple[float, cProfile.Profile, cProfile.Profile, cProfile.Profile]:
    """Run ``action`` once with cProfile on in the calling thread and the session's event-loop
    thread; return the wall time and the profiles (main, loop, simulation).

    Simulation runs in the emulator's simulator processes, out of this profiler's reach: the third
    profile stays empty, and the ``[sim]`` stages read 0 (time them with ``stage_timings``).
    """
    main, loop, simulation = cProfile.Profile(), cProfile.Profile(), cProfile.Profile()

    async def switch(on: bool) -> None:
        loop.enable() if on else loop.disable()

    session.loop.run(switch(True))
    main.enable()
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    main.disable()
    session.loop.run(switch(False))
    return wall, main, loop, simulation


def simulator_rss_mb() -> tuple[float, float, int]:
    """The simulator processes' memory now and at peak (VmRSS, VmHWM summed, MB), and how many.

    Simulation runs in those processes, so the caller's own ``ru_maxrss`` is not the whole bill.
    """
    now = peak = 0.0
    pids = simulator_pids()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        now += int(line.split()[1]) / 1024
                    elif line.startswith("VmHWM:"):
                        peak += int(line.split()[1]) / 1024
        except OSError:
            continue
    return now, peak, len(pids)


def emulator_stages(loop: cProfile.Profile, simulation: cProfile.Profile) -> list[tuple[str, float]]:
    """The HTTP and in-process emulator stages of a :func:`profile_threads` run, in seconds."""
    programs = "oqc_provider/emulator/programs.py"
    routes = cumulative(loop, ("starlette/applications.py", "__call__"))
    return [
        ("[loop] HTTP client side", cumulative(loop, ("httpx/_client.py", "send")) - routes),
        ("[loop] emulator routes", routes),
        (
            "[sim] parse_native (fast path)",
            cumulative(simulation, ("oqc_provider/emulator/native_programs.py", "parse_native")),
        ),
        ("[sim] parse_program", cumulative(simulation, (programs, "parse_program"))),
        (
            "[sim] compile+validate",
            cumulative(simulation, ("oqc_provider/emulator/lowering.py", "lower_circuit")),
        ),
        (
            "[sim] Aer run+result",
            cumulative(
                simulation,
                ("qiskit_aer/backends/aerbackend.py", "run"),
                ("qiskit_aer/jobs/aerjob.py", "result"),
            ),
        ),
        (
            "[sim] emulator results",
            cumulative(simulation, ("oqc_provider/emulator/results.py", "build_results")),
        ),
        ("[sim] executor in all", cumulative(simulation, ("oqc_provider/emulator/executor.py", "run"))),
    ]


def print_table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """A plain fixed-width table (first column left-aligned, the rest right-aligned)."""
    print(title)
    widths = [max(len(str(row[i])) for row in [header, *rows]) + 2 for i in range(len(header))]
    widths[0] = max(widths[0], 28)
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print("".join(cells))
    print()
