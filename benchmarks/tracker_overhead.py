"""The cost of counting cost: a 500-circuit engine run with and without a ``Tracker(budget=...)``.

Every submission is priced and admitted whether or not a tracker is active (each job records its
estimated cost); a tracker adds its checks, its tallies and a listener per job. This script runs
the same 500-circuit CompositeJob (1 qubit, 100 shots each) on the in-process emulator, alternating
plain and tracked runs, and also times the admission step alone (pricing, checking and charging 500
jobs, prices already read). It prints the median wall times, the median CPU times of this process
(the in-process emulator's share included, but far less noisy than wall time on a busy machine) and
their ratios.

    .venv/bin/python benchmarks/tracker_overhead.py            # ~1 min on 2 busy cores
    .venv/bin/python benchmarks/tracker_overhead.py --n 200 --repeat 2
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _workload import private_job_store

PROGRAM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'
LUCY_SIM = "qpu:uk:2:d865b5a184"


async def main(count: int, repeat: int) -> None:
    import httpx

    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.engine import OqcSdk, Tracker
    from oqc_provider.engine.tracker import release
    from oqc_provider.qcaas.compiler_config import CompilerConfig

    app = create_app(EmulatorSettings(seed=1, prices={LUCY_SIM: ("0.00035", "0.35")}))
    config = CompilerConfig(repeats=100)
    sdk = OqcSdk(url="http://emulator", transport=httpx.ASGITransport(app=app), job_store=False)
    plain: list[tuple[float, float]] = []  # (wall, CPU of this process) per run
    tracked: list[tuple[float, float]] = []
    admission: list[float] = []
    async with sdk:
        for round_ in range(repeat + 1):  # round 0 warms the simulators and the price cache
            for with_tracker in (False, True) if round_ % 2 else (True, False):
                batch = sdk.create_batch([sdk.new_job(PROGRAM, LUCY_SIM, config) for _ in range(count)])
                start, cpu = time.perf_counter(), time.process_time()
                if with_tracker:
                    async with Tracker(budget="1000000") as tracker:
                        await batch.execute(timeout_s=600, progress=False)
                    assert tracker.tasks_completed == count
                else:
                    await batch.execute(timeout_s=600, progress=False)
                elapsed = (time.perf_counter() - start, time.process_time() - cpu)
                assert batch.completed
                if round_:
                    (tracked if with_tracker else plain).append(elapsed)
            jobs = [sdk.new_job(PROGRAM, LUCY_SIM, config) for _ in range(count)]
            async with Tracker(budget="1000000"):
                start = time.perf_counter()
                await sdk.admit(jobs)
                admitted = time.perf_counter() - start
            for job in jobs:
                release(job)
            if round_:
                admission.append(admitted)
    app.state.emulator.close()
    walls = [[round(wall, 2) for wall, _ in runs] for runs in (plain, tracked)]
    print(f"circuits per run: {count}; wall times (s) plain {walls[0]}, tracked {walls[1]}")
    for name, index in (("wall", 0), ("CPU of this process", 1)):
        plain_s = statistics.median(run[index] for run in plain)
        tracked_s = statistics.median(run[index] for run in tracked)
        ratio = tracked_s / plain_s
        print(f"{name} (median): plain {plain_s:.3f} s, tracked {tracked_s:.3f} s, ratio {ratio:.3f}")
    admit_s = statistics.median(admission)
    plain_wall = statistics.median(run[0] for run in plain)
    share = admit_s / plain_wall
    print(f"admission of {count} jobs alone: {admit_s * 1000:.1f} ms, {share:.4f} of a plain run's wall time")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="circuits per run")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs of each kind")
    args = parser.parse_args()
    private_job_store()
    asyncio.run(main(args.n, args.repeat))
