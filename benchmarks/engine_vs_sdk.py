"""The engine against OQC's own SDK on the same served emulator: wall time and HTTP requests.

    python benchmarks/engine_vs_sdk.py [--circuits 200] [--repeats 3] [--ours-only] [--notice]

Both run the same N one-program jobs as one CompositeJob against one emulator served on
127.0.0.1. Requests are counted by the emulator itself (``/_emulator/stats``), so both clients
are measured the same way. Needs ``pip install oqc-qcaas-sdk`` (the test extra has it).
Goals: wall time <= 0.5x the SDK's, requests <= 0.5x, requests per circuit <= 1.2.

``--notice`` also measures how late the engine notices a finished task: one job on an emulator
whose queue holds it for 0.5 s and 3 s, from the server's completion stamp (``RECEIVER_FROM_SCC``)
to ``execute()`` returning. Goal: within max(0.3 s, 10 % of the time waited).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import OqcSdk

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"
BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    "rz(pi/2) q[0];\nsx q[0];\nrz(-pi) q[1];\nsx q[1];\nrz(-pi) q[1];\necr q[0],q[1];\nx q[0];\n"
    "measure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
)


async def run_ours(url: str, programs: list[str]) -> None:
    async with OqcSdk(url, "benchmark-token") as sdk:
        composite = sdk.create_job(program=programs, qpu_id=LUCY_SIMULATOR)
        await composite.execute(timeout_s=600)
        assert composite.completed, composite


async def run_oqc_sdk(url: str, programs: list[str]) -> None:
    from oqc_qcaas_sdk import OqcSdk as TheirSdk

    async with TheirSdk(url=url, authentication_token="benchmark-token") as sdk:
        composite = sdk.create_job(program=programs, qpu_id=LUCY_SIMULATOR)
        await composite.execute(timeout_s=600)
        assert composite.completed, composite


def measure(
    url: str, client: Callable[[str, list[str]], Awaitable[None]], programs: list[str]
) -> tuple[float, int]:
    """Wall seconds and HTTP requests (as the server counted them) for one run."""
    with httpx.Client(base_url=url) as http:
        http.post("/_emulator/reset-counters").raise_for_status()
        started = time.perf_counter()
        asyncio.run(client(url, programs))
        elapsed = time.perf_counter() - started
        requests = http.get("/_emulator/stats").json()["total_requests"]
    return elapsed, requests - 1  # the stats request itself is counted


async def notice_once(url: str) -> tuple[float, float]:
    """Seconds waited until the server finished one job, and how late ``execute()`` returned."""
    async with OqcSdk(url, "benchmark-token") as sdk:
        job = sdk.create_job(program=BELL, qpu_id=LUCY_SIMULATOR, fetch_diagnostics=True)
        started = time.time()
        await job.execute(timeout_s=120)
        returned = time.time()
    finished = datetime.fromisoformat(job.timings["RECEIVER_FROM_SCC"]).timestamp()
    return finished - started, returned - finished


def notice(repeats: int) -> None:
    print("completion noticed (served emulator, one job): waited s, late s, bound s")
    for latency in (0.5, 3.0):
        with serve_in_thread(EmulatorSettings(latency=latency)) as url:
            # The first job on a fresh emulator also waits for the simulator to warm up.
            waited, late = asyncio.run(notice_once(url))
            bound = max(0.3, 0.1 * waited)
            print(
                f"  queue {latency:3.1f} s, first: waited {waited:5.2f}, late {late:5.3f}, bound {bound:4.2f}"
            )
            for _ in range(repeats):
                waited, late = asyncio.run(notice_once(url))
                bound = max(0.3, 0.1 * waited)
                print(f"  queue {latency:3.1f} s: waited {waited:5.2f}, late {late:5.3f}, bound {bound:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ours-only", action="store_true", help="skip OQC's SDK (no ratio)")
    parser.add_argument("--notice", action="store_true", help="also measure how late completion is noticed")
    args = parser.parse_args()
    programs = [BELL] * args.circuits
    # Both SDKs cap a broadcast at 200 jobs unless told otherwise (OQC's SDK reads the same variable).
    os.environ.setdefault("OQC_SDK_MAX_BROADCAST_JOBS", str(max(200, args.circuits)))
    with serve_in_thread(EmulatorSettings()) as url:
        measure(url, run_ours, programs[:5])  # warm up Aer and the emulator's caches
        ours = [measure(url, run_ours, programs) for _ in range(args.repeats)]
        theirs = [] if args.ours_only else [measure(url, run_oqc_sdk, programs) for _ in range(args.repeats)]
    if args.notice:
        notice(args.repeats)
    if args.ours_only:
        t, r = statistics.median(t for t, _ in ours), statistics.median(r for _, r in ours)
        per = r / args.circuits
        print(f"oqc_provider, {args.circuits} circuits: {t:.2f} s, {r:.0f} requests, {per:.2f} per circuit")
        return
    our_time = statistics.median(t for t, _ in ours)
    their_time = statistics.median(t for t, _ in theirs)
    our_requests = statistics.median(r for _, r in ours)
    their_requests = statistics.median(r for _, r in theirs)
    print(f"{args.circuits} one-program jobs as one CompositeJob, served emulator, median of {args.repeats}")
    print(f"{'':18}{'wall s':>10}{'requests':>10}{'req/circuit':>13}")
    print(f"{'oqc_provider':18}{our_time:10.2f}{our_requests:10.0f}{our_requests / args.circuits:13.2f}")
    print(
        f"{'oqc-qcaas-sdk':18}{their_time:10.2f}{their_requests:10.0f}{their_requests / args.circuits:13.2f}"
    )
    print(
        f"ratio (ours / SDK): wall {our_time / their_time:.2f}x (goal <= 0.5), "
        f"requests {our_requests / their_requests:.2f}x (goal <= 0.5)"
    )


if __name__ == "__main__":
    main()
