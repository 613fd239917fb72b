"""Kill -9 a client mid-run, resume the job in a new process, and count what the server ran.

1. An emulator is served on 127.0.0.1 with a queue latency (tasks wait before they run) and an
   SQLite task database. Its answer to a submit comes late (by ``--slow-submit`` seconds, before
   or after it stores the tasks), so kills also land in the window where the server has the
   tasks but the client has not heard so: the case that would duplicate a naive client's work.
2. A child process runs a CompositeJob of N circuits (default 200) through the engine, with the
   write-ahead job store in a temporary folder, and is killed with SIGKILL at a random moment
   (seeded) after its job is recorded.
3. A new process finds the job in the store by its id, resumes it and waits for every result.
4. The emulator's own counters say how many tasks it accepted: they must equal N.

Usage::

    .venv/bin/python benchmarks/kill_resume.py               # 200 circuits, seed 1
    .venv/bin/python benchmarks/kill_resume.py --repeat 5    # five kills at five moments
    .venv/bin/python benchmarks/kill_resume.py --n 100 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import FaultPlan
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.engine import OqcSdk
from oqc_provider.engine.batch import PollSchedule
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from oqc_provider.qcaas.retry import RetryPolicy

LUCY_SIM = "qpu:uk:2:d865b5a184"
SHOTS = 50
TOKEN = "kill-resume-token"


def program(index: int) -> str:
    """A distinct one-qubit program per index."""
    return (
        'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; '
        f"rz({index}*0.001) q[0]; x q[0]; measure q[0] -> c[0];"
    )


def make_sdk(url: str, home: str) -> OqcSdk:
    return OqcSdk(
        url,
        TOKEN,
        default_qpu_id=LUCY_SIM,
        retry=RetryPolicy(max_attempts=6, initial_wait=0.05, max_wait=0.5),
        poll_schedule=PollSchedule(first=0.02, longest=0.2),
        job_store=JobStore(Path(home) / "jobs"),
        max_concurrent_requests=4,
    )


# --- the child: runs the job until it is killed ----------------------------------------------------


async def child(url: str, home: str, n: int) -> None:
    config = CompilerConfig(repeats=SHOTS, results_format=QuantumResultsFormat.binary_count())
    async with make_sdk(url, home) as sdk:
        job = sdk.create_job(program=[program(i) for i in range(n)], config=config)
        # submit() records the batch when called (closed unawaited, it sends nothing); the parent
        # starts its clock from here.
        job.submit().close()
        print(job_id_of(job), flush=True)
        await job.execute(timeout_s=600)
        print("finished", flush=True)


# --- the resumer: a new process, which only knows the job id -----------------------------------


async def resume(url: str, home: str, job_id: str) -> dict[str, Any]:
    async with make_sdk(url, home) as sdk:
        listed = [entry.job_id for entry in sdk.jobs()]
        job = sdk.resume(job_id)
        states_at_resume = _states(job)
        await job.execute(timeout_s=300)
        results = sum(
            1 for child in job.jobs if child.completed and sum(child.result.data["c"].values()) == SHOTS
        )
    return {"listed": job_id in listed, "states_at_resume": states_at_resume, "results": results}


def _states(job: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for child_job in job.jobs:
        key = child_job.state.value + (
            "" if child_job.task_id or child_job.state.value != "CREATED" else "(no id)"
        )
        counts[key] = counts.get(key, 0) + 1
    return counts


# --- the parent: serves the emulator, kills the child, runs the resumer ------------------------


def one_round(n: int, seed: int, latency: float, slow_submit: float, python: str) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as home:
        late = FaultPlan(
            rate=1.0, seed=seed, kinds=("slow",), routes=frozenset({"submit"}), slow_seconds=slow_submit
        )
        settings = EmulatorSettings(
            db_path=Path(home) / "emulator.sqlite3",
            latency=latency,
            seed=seed,
            faults=late if slow_submit > 0 else None,
        )
        with serve_in_thread(settings) as url:
            me = [python, str(Path(__file__).resolve())]
            started = time.monotonic()
            runner = subprocess.Popen(
                [*me, "child", "--url", url, "--home", home, "--n", str(n)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert runner.stdout is not None
            job_id = runner.stdout.readline().strip()
            if not job_id:
                runner.kill()
                raise RuntimeError("The child process ended before recording its job.")
            # A moment anywhere from "just recorded" to "mostly done".
            delay = rng.uniform(0.0, slow_submit + latency + 1.0)
            time.sleep(delay)  # the experiment's random kill moment, not a wait for a condition
            finished_first = runner.poll() is not None
            runner.send_signal(signal.SIGKILL)
            runner.wait()
            at_kill = httpx.get(f"{url}/_emulator/stats", timeout=10).json()["submitted_task_count"]
            resumed = subprocess.run(
                [*me, "resume", "--url", url, "--home", home, "--job-id", job_id],
                capture_output=True,
                text=True,
                check=True,
            )
            report = json.loads(resumed.stdout.strip().splitlines()[-1])
            stats = httpx.get(f"{url}/_emulator/stats", timeout=10).json()
            wall = time.monotonic() - started
    return {
        "circuits": n,
        "seed": seed,
        "killed_after_s": round(delay, 2),
        "child_had_finished": finished_first,
        "server_tasks_at_kill": at_kill,
        "listed_in_store": report["listed"],
        "states_at_resume": report["states_at_resume"],
        "results": report["results"],
        "server_tasks": stats["submitted_task_count"],
        "extra_server_tasks": stats["submitted_task_count"] - n,
        "wall_time_s": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("role", nargs="?", default="parent", choices=["parent", "child", "resume"])
    parser.add_argument("--n", type=int, default=200, help="circuits in the job (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moment")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, with seeds seed, seed+1, ...")
    parser.add_argument("--latency", type=float, default=1.5, help="emulator queue latency, seconds")
    parser.add_argument("--slow-submit", type=float, default=1.0, help="how late submits are answered")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--job-id", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "child":
        asyncio.run(child(args.url, args.home, args.n))
        return 0
    if args.role == "resume":
        print(json.dumps(asyncio.run(resume(args.url, args.home, args.job_id))))
        return 0
    ok = True
    for round_number in range(args.repeat):
        report = one_round(args.n, args.seed + round_number, args.latency, args.slow_submit, sys.executable)
        ok = ok and report["results"] == args.n and report["extra_server_tasks"] == 0
        if args.json:
            print(json.dumps(report))
        else:
            extras = report["extra_server_tasks"]
            print(
                f"seed {report['seed']}: killed after {report['killed_after_s']}s; the server had "
                f"{report['server_tasks_at_kill']} task(s); the store said {report['states_at_resume']}"
            )
            print(
                f"  results {report['results']}/{args.n}, server tasks {report['server_tasks']} "
                f"({'no extras' if extras == 0 else f'{extras} EXTRA'}), {report['wall_time_s']}s"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
