"""Soak test: many circuits through a served emulator that faults a fifth of all requests.

Runs N circuits (default 1,000) as CompositeJobs of up to 200 through the engine against an
emulator served by uvicorn on 127.0.0.1, with a seeded FaultPlan: 500/502/503, 429 with
Retry-After, dropped connections and answers slower than the client's read timeout, before or
after the server acted. Then counts, from the emulator's own statistics:

* completed  - children whose result arrived (and has every shot)
* duplicated - executions beyond one per program: tasks accepted beyond the programs sent, plus
               ids the server ran twice (``--resubmit rerun`` runs a re-submitted id again)
* lost       - programs without a result (must be 0)
* retries    - requests the client resent after a failure

The server's answer to a re-submitted id is ``--resubmit`` (default ``rerun``, the harshest:
the protocol promises nothing, so the engine must never resend blindly).

``--properties N`` instead runs N random examples of the engine's property-based test
(tests/reliability/test_engine_properties.py: client-side fault plans, latencies, the three
policies, kill-and-resume points), with fresh random seeds each run.

Usage::

    .venv/bin/python benchmarks/soak.py                 # 1,000 circuits, 20% faults, seed 7
    .venv/bin/python benchmarks/soak.py --n 100 --json  # what the test suite runs
    .venv/bin/python benchmarks/soak.py --submit-rate 0.8  # most submits fail, many after storing
    .venv/bin/python benchmarks/soak.py --properties 2000  # the long property-based run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import NETWORK_KINDS, FaultPlan
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import CompositeJob, OqcSdk
from oqc_provider.engine.batch import PollSchedule
from oqc_provider.engine.errors import SubmissionIncomplete
from oqc_provider.engine.store import JobStore
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from oqc_provider.qcaas.retry import RetryPolicy

LUCY_SIM = "qpu:uk:2:d865b5a184"
SHOTS = 50
BATCH = 200  # OQC's SDK caps one broadcast at 200 jobs


def program(index: int) -> str:
    """A distinct one-qubit program per index."""
    return (
        'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; '
        f"rz({index}*0.001) q[0]; x q[0]; measure q[0] -> c[0];"
    )


async def run_batches(sdk: OqcSdk, n: int, deadline: float) -> tuple[list[CompositeJob], int]:
    """Run every batch to the end; re-execute a batch whose submission could not finish yet."""
    config = CompilerConfig(repeats=SHOTS, results_format=QuantumResultsFormat.binary_count())
    batches = []
    for start in range(0, n, BATCH):
        programs = [program(i) for i in range(start, min(n, start + BATCH))]
        batch = sdk.create_job(program=programs, config=config)
        assert isinstance(batch, CompositeJob)
        batches.append(batch)
    resumed = 0

    async def finish(batch: CompositeJob) -> None:
        nonlocal resumed
        run = batch.execute
        while True:
            try:
                await run(timeout_s=max(1.0, deadline - time.monotonic()))
                return
            except SubmissionIncomplete:
                if time.monotonic() > deadline:
                    raise
                resumed += 1
                # wait() keeps finished children and resends the unsent ones with their own ids.
                run = batch.wait

    await asyncio.gather(*(finish(batch) for batch in batches))
    return batches, resumed


async def soak(
    n: int,
    rate: float,
    seed: int,
    kinds: tuple[str, ...],
    budget: float,
    submit_rate: float | None = None,
    resubmit: str = "rerun",
) -> dict[str, Any]:
    plan = FaultPlan(
        rate=rate,
        seed=seed,
        kinds=kinds,
        retry_after=0.2,
        slow_seconds=1.5,
        route_rates=None if submit_rate is None else {"submit": submit_rate},
    )
    settings = EmulatorSettings(faults=plan, seed=seed, resubmit=resubmit)  # type: ignore[arg-type]
    with serve_in_thread(settings) as url, tempfile.TemporaryDirectory() as home:
        sdk = OqcSdk(
            url,
            "soak-token",
            default_qpu_id=LUCY_SIM,
            timeout=httpx.Timeout(10.0, read=1.0),
            retry=RetryPolicy(max_attempts=8, initial_wait=0.05, max_wait=1.0, max_retry_after=5.0),
            poll_schedule=PollSchedule(first=0.02, longest=0.5),
            job_store=JobStore(Path(home) / "jobs"),
        )
        started = time.monotonic()
        async with sdk:
            batches, re_executes = await run_batches(sdk, n, started + budget)
            requests, retries = sdk.request_count, sdk.retry_count
        wall = time.monotonic() - started
        stats = httpx.get(f"{url}/_emulator/stats", timeout=10).json()
    children = [job for batch in batches for job in batch]
    completed = sum(1 for job in children if job.completed and sum(job.result.data["c"].values()) == SHOTS)
    server_tasks = stats["submitted_task_count"]
    return {
        "circuits": n,
        "completed": completed,
        "duplicated": max(0, server_tasks - n) + max(0, stats["executions"] - server_tasks),
        "executions": stats["executions"],
        "resubmit": resubmit,
        "lost": n - completed,
        "server_tasks": server_tasks,
        "requests": requests,
        "retries": retries,
        "re_executes": re_executes,
        "faults_injected": stats["faults"]["total"],
        "faults_by_kind": stats["faults"]["injected"],
        # Submits the server acted on although the client saw a failure: the duplication risk.
        "ambiguous_submits": stats["faults"]["by_route"].get("submit:after", 0),
        "fault_rate": rate,
        "submit_fault_rate": rate if submit_rate is None else submit_rate,
        "seed": seed,
        "wall_time_s": round(wall, 1),
    }


def properties(examples: int) -> int:
    """Run ``examples`` random examples of the engine's property-based test; 0 when all hold."""
    import tempfile as _tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tests package
    from tests.reliability.test_engine_properties import RESUBMIT_POLICIES, run_property, scenarios

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(policy=st.sampled_from(RESUBMIT_POLICIES), case=scenarios)
    def check(policy: str, case: Any) -> None:
        with _tempfile.TemporaryDirectory() as root:
            run_property(policy, case, Path(root))

    started = time.monotonic()
    check()
    print(f"{examples} property examples held in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="circuits to run (default 1000)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="fraction of requests faulted")
    parser.add_argument("--seed", type=int, default=7, help="seed of the faults and the simulator")
    parser.add_argument("--kinds", default=",".join(NETWORK_KINDS), help="fault kinds, comma-separated")
    parser.add_argument("--budget", type=float, default=170.0, help="seconds before giving up")
    parser.add_argument(
        "--submit-rate", type=float, default=None, help="a separate fault rate for submits (the risky route)"
    )
    parser.add_argument(
        "--resubmit",
        choices=("idempotent", "refuse", "rerun"),
        default="rerun",
        help="what the server does with a re-submitted id (default rerun)",
    )
    parser.add_argument("--properties", type=int, default=0, help="run N property-based examples instead")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.properties:
        return properties(args.properties)
    kinds = tuple(kind.strip() for kind in args.kinds.split(",") if kind.strip())
    report = asyncio.run(
        soak(args.n, args.fault_rate, args.seed, kinds, args.budget, args.submit_rate, args.resubmit)
    )
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    ok = report["completed"] == args.n and report["duplicated"] == 0 and report["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
