"""Replaying the QAT golden fixtures (tests/fixtures/qat/fixtures.json) against the emulator.

The fixtures record what OQC's compiler QAT 3.5 did with each corpus program under each
optimisation setting on each device's couplings (scripts/qat_fixtures/record.py). This module
submits the same program + config to an in-process emulator, over HTTP, and lists every way the
emulator's answer differs. It is used by test_qat_fixtures.py; it patches nothing.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from oqc_provider.devices import LUCY_SIMULATOR, TOSHIKO, DeviceSpec
from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.qat_results import as_counts
from oqc_provider.qcaas.compiler_config import CompilerConfig, MetricsType
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from oqc_provider.service_observations import Observation, catalogue

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "qat"
FIXTURES_FILE = FIXTURES_DIR / "fixtures.json"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
#: Noiseless Toshiko: the catalogue's couplings on a simulator without noise, so counts compare
#: with QAT's noiseless Qiskit model.
TOSHIKO_NOISELESS = TOSHIKO.model_copy(update={"noisy": False, "simulator": True})
#: The emulated device for each fixture device name (the Lucy Simulator has Lucy's ring).
EMULATED: dict[str, DeviceSpec] = {"lucy": LUCY_SIMULATOR, "toshiko": TOSHIKO_NOISELESS}


def load_fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES_FILE.read_text())


@dataclass(frozen=True)
class Job:
    """One emulator task standing for one QAT observation."""

    fixture: int  # index into the file's "fixtures"
    kind: str  # "counts" or a results format ("binary", "raw", ...)
    program: str
    config: str
    qpu_id: str


@dataclass
class Mismatch:
    program: str
    setting: str
    device: str
    aspect: str  # accept, message, counts, shape, values, physical_qubits
    detail: str


@dataclass
class Replay:
    """Every fixture's emulator answers and the mismatches found."""

    fixtures: dict[str, Any]
    answers: dict[Job, dict[str, Any]] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0
    #: CPU seconds of this process (every thread, the emulator's worker included) for the replay:
    #: the machine-independent part of its cost when other work shares the cores.
    cpu_seconds: float = 0.0
    #: Tasks that had not finished by the deadline (cancelled; reported as "accept" mismatches).
    unfinished: list[str] = field(default_factory=list)

    def of(self, aspect: str) -> list[Mismatch]:
        return [m for m in self.mismatches if m.aspect == aspect]


#: Settings whose fixtures also replay the binary and raw formats. QAT's result shape does not depend
#: on the optimisation setting (true of every recorded fixture), so two settings (one that places,
#: one that does not) cover the shapes at a third of the tasks.
SHAPE_SETTINGS = {"default", "tket_empty", "given"}


def with_physical_qubits(config: dict[str, Any]) -> str:
    """The config as JSON, its metrics also asking for ``physical_qubit_indices``.

    The recorded configs already ask (``Default | PhysicalQubitIndices``); a front end's config
    (setting ``given``) may not. Metrics select what is reported, never how a program compiles.
    """
    config = json.loads(json.dumps(config))
    metrics = config["$data"].get("metrics") or {"$type": "<enum 'compiler_config.config.MetricsType'>"}
    metrics["$value"] = int(metrics.get("$value") or 0) | int(MetricsType.PhysicalQubitIndices)
    config["$data"]["metrics"] = metrics
    return json.dumps(config)


def jobs_for(doc: dict[str, Any]) -> list[Job]:
    """The counts task of every fixture, and one task per other results format for SHAPE_SETTINGS."""
    jobs = []
    for index, entry in enumerate(doc["fixtures"]):
        program = doc["programs"][entry["program"]]["program"]
        qpu_id = EMULATED[entry["device"]].qpu_id

        def config(key: str) -> str:
            return with_physical_qubits(doc["configs"][key])

        jobs.append(Job(index, "counts", program, config(entry["config"]), qpu_id))
        if entry["setting"] not in SHAPE_SETTINGS:
            continue
        for fmt, shape in sorted(entry["shapes"].items()):
            if fmt != "binary_count":  # the counts task shows the binary_count shape
                jobs.append(Job(index, fmt, program, config(shape["config"]), qpu_id))
    return jobs


async def _submit_all(client: httpx.AsyncClient, jobs: list[Job]) -> dict[str, Job]:
    """Submit in batches that fit the request limit; task id -> job."""
    by_id: dict[str, Job] = {}
    batch: list[Job] = []
    size = 0

    async def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        tasks = [{"program": j.program, "config": j.config, "qpu_id": j.qpu_id} for j in batch]
        response = await client.post("/tasks/submit", json={"tasks": tasks})
        assert response.status_code == 200, response.text
        for job, answer in zip(batch, response.json(), strict=True):
            by_id[answer["task_id"]] = job
        batch, size = [], 0

    for job in jobs:
        cost = len(job.program) + len(job.config) + 200
        if size + cost > MAX_REQUEST_BYTES * 0.8:
            await flush()
        batch.append(job)
        size += cost
    await flush()
    return by_id


async def _wait_all(client: httpx.AsyncClient, ids: set[str], timeout: float) -> list[str]:
    """Poll the task list (one request) until every task is terminal or the deadline passes.

    Returns the tasks still pending at the deadline, after asking the emulator to cancel them
    (so it is not closed under a running worker); they are reported as mismatches.
    """
    deadline = time.monotonic() + timeout
    while True:
        listed = (await client.get("/tasks")).json()
        pending = [t["id"] for t in listed if t["id"] in ids and t["status"] not in TERMINAL]
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    if pending:
        await client.post("/tasks/cancel_many", json={"tasks": pending})
    return pending


async def run_replay(doc: dict[str, Any], *, seed: int = 20261201, timeout: float = 300.0) -> Replay:
    """Submit every fixture's tasks to a fresh in-process emulator (v4 layout) and collect answers."""
    started, cpu_started = time.monotonic(), time.process_time()
    replay = Replay(doc)
    app = create_app(EmulatorSettings(seed=seed, devices=list(EMULATED.values())))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            by_id = await _submit_all(client, jobs_for(doc))
            replay.unfinished = await _wait_all(client, set(by_id), timeout)
            for task_id, job in by_id.items():
                response = await client.get(f"/tasks/{task_id}/all_info")
                assert response.status_code == 200, response.text
                replay.answers[job] = response.json()
    finally:
        app.state.emulator.close()
    replay.mismatches = compare(doc, replay.answers)
    replay.seconds = time.monotonic() - started
    replay.cpu_seconds = time.process_time() - cpu_started
    return replay


# --- comparison -------------------------------------------------------------------------------


def shape_of(value: Any) -> Any:
    """Type, nesting and lengths of a results value; counts dicts by their bitstring widths.

    The same description as the recorder's ``describe`` (scripts/qat_fixtures/record.py), applied
    here to both the recorded QAT value and the emulator's, so only this definition decides.
    """
    if isinstance(value, dict):
        counts = all(isinstance(k, str) and isinstance(v, int) for k, v in value.items())
        if value and counts and all(set(k) <= {"0", "1"} for k in value):
            return {"counts_widths": sorted({len(k) for k in value})}
        return {"dict": {str(k): shape_of(v) for k, v in value.items()}}
    if isinstance(value, list):
        items = [shape_of(v) for v in value]
        if items and all(item == items[0] for item in items):
            return {"list": len(items), "each": items[0]}
        return {"list": len(items), "items": items}
    return type(value).__name__


def _deterministic(counts: dict[str, dict[str, int]]) -> dict[str, str] | None:
    """The single outcome of every register, when QAT saw only one; else None."""
    if not counts or any(len(register) != 1 for register in counts.values()):
        return None
    return {name: next(iter(register)) for name, register in counts.items()}


def _tvd(a: dict[str, int], b: dict[str, int]) -> float:
    na, nb = sum(a.values()) or 1, sum(b.values()) or 1
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


def _tvd_bound(a: dict[str, int], b: dict[str, int]) -> float:
    """A generous bound on the TVD of two samples of one distribution (grows with outcomes).

    Hundreds of registers are compared per replay, each on fresh shots (seeds follow task ids), so
    the bound must hold for all of them at once: for two outcomes of 1,000 shots the TVD of two
    samples has a standard deviation of at most 0.022, and 0.07 + sqrt(2/1000) = 0.115 is 5 of them
    (a 0.05 offset, 4.2 of them, failed once in a few full runs on a 50/50 GHZ). A wrong answer
    (a bit order, a lost gate) moves the TVD by far more: the replay's counts are noiseless.
    """
    outcomes = len(set(a) | set(b))
    shots = min(sum(a.values()), sum(b.values())) or 1
    return min(1.0, 0.07 + math.sqrt(outcomes / shots))


def _marginals(counts: dict[str, int]) -> list[float]:
    shots = sum(counts.values()) or 1
    width = max((len(k) for k in counts), default=0)
    return [sum(n for k, n in counts.items() if len(k) > i and k[i] == "1") / shots for i in range(width)]


def compare_counts(expected: dict[str, dict[str, int]], got: Any) -> list[str]:
    """What differs between QAT's counts and the emulator's (empty when they agree)."""
    if not isinstance(got, dict) or sorted(got) != sorted(expected):
        return [
            f"registers {sorted(expected)} expected, got {sorted(got) if isinstance(got, dict) else got!r}"
        ]
    problems = []
    single = _deterministic(expected)
    for name, qat in expected.items():
        ours = got[name]
        if not isinstance(ours, dict):
            problems.append(f"register {name}: counts dict expected, got {ours!r:.80}")
            continue
        if single is not None:
            if list(ours) != [single[name]]:
                top = dict(Counter(ours).most_common(3))
                problems.append(f"register {name}: always {single[name]!r} in QAT, emulator {top}")
            continue
        distance, bound = _tvd(qat, ours), _tvd_bound(qat, ours)
        if distance > bound:
            problems.append(
                f"register {name}: TVD {distance:.3f} > {bound:.3f} (QAT {_top(qat)}, emulator {_top(ours)})"
            )
            continue
        pa, pb = _marginals(qat), _marginals(ours)
        shots = min(sum(qat.values()), sum(ours.values())) or 1
        for bit, (x, y) in enumerate(zip(pa, pb, strict=False)):
            sigma = math.sqrt(max(x * (1 - x), 0.01) * 2 / shots)
            if abs(x - y) > 5 * sigma + 0.01:
                problems.append(f"register {name} bit {bit}: P(1) {x:.3f} in QAT, {y:.3f} in the emulator")
    return problems


def _top(counts: dict[str, int]) -> dict[str, int]:
    return dict(Counter(counts).most_common(3))


def compare_values(fmt: str, value: Any, single: dict[str, str] | None) -> str | None:
    """For a program QAT always answers the same way: does binary / raw carry that answer?

    QAT's ``binary`` is each bit's majority over the shots, in the register's index order;
    ``raw`` gives each bit's per-shot readout, > 0 meaning 0 (``raw_one_shot``: one shot, the bare
    readout). An unmeasured bit stays 0.
    """
    if single is None or not isinstance(value, dict):
        return None
    for name, bits in single.items():
        ours = value.get(name)
        if not isinstance(ours, list) or len(ours) != len(bits):
            return None  # the shape comparison reports it
        if fmt == "binary":
            decoded = "".join(str(b) for b in ours)
        elif fmt in ("raw", "raw_one_shot"):
            decoded = "".join(_raw_bit(v) for v in ours)
        else:
            return None
        if decoded != bits:
            return f"register {name}: QAT's counts say {bits!r}, the emulator's {fmt} decodes to {decoded!r}"
    return None


def service_refusal(program: str, qpu_id: str) -> Observation | None:
    """The catalogue entry saying the live service refuses ``program`` on ``qpu_id`` although QAT runs
    it (``oqc_provider/service_observations.json``); the emulator reproduces it there instead."""
    for entry in catalogue().observations:
        if entry.refused_on == "seen_on" and entry.refuses_on("", qpu_id) and entry.matches(program):
            return entry
    return None


def _qat_reasons(entry: dict[str, Any]) -> list[str]:
    """QAT's refusal messages for a fixture: the echo pipeline's (the service's) and the counts one's."""
    errors = [shape.get("error") for shape in entry["shapes"].values()] + [entry["counts"].get("error")]
    return list(dict.fromkeys(error["message"] for error in errors if error))


_QASM2_LOCATION = re.compile(r"^<input>:\d+,\d+:\s*")


def _core(message: str) -> str:
    """QAT's reason without what the emulator words its own way: quotes, a parser's location, a final dot."""
    first = message.split("\n")[0].strip().strip('"')
    return _QASM2_LOCATION.sub("", first).rstrip(".")


def compare_reason(entry: dict[str, Any], reason: str) -> str | None:
    """Does the emulator's refusal carry QAT's reason (the first line of either pipeline's message)?"""
    wanted = _qat_reasons(entry)
    if not wanted or any(_core(message) in reason for message in wanted):
        return None
    return f"QAT says {wanted[0]!r:.140}; the emulator says {reason!r:.160}"


def _raw_bit(readouts: Any) -> str:
    """A bit's raw readouts as QAT's counts would say it: the majority, > 0 meaning 0.

    A bit never measured is the integer 0 (reads "0"); with one shot QAT gives the bare readout.
    """
    if isinstance(readouts, list):
        return "0" if sum(1 for x in readouts if x > 0) * 2 > len(readouts) else "1"
    if isinstance(readouts, float):
        return "0" if readouts > 0 else "1"
    return "0"


def compare(doc: dict[str, Any], answers: dict[Job, dict[str, Any]]) -> list[Mismatch]:
    """Every disagreement between the fixtures and the emulator's answers."""
    out: list[Mismatch] = []
    for job, info in sorted(answers.items(), key=lambda item: (item[0].fixture, item[0].kind)):
        entry = doc["fixtures"][job.fixture]

        def miss(aspect: str, detail: str, entry: dict[str, Any] = entry, kind: str = job.kind) -> None:
            label = "" if kind == "counts" else f"[{kind}] "
            out.append(Mismatch(entry["program"], entry["setting"], entry["device"], aspect, label + detail))

        expected = entry["counts"] if job.kind == "counts" else entry["shapes"][job.kind]
        if info["status"] not in ("COMPLETED", "FAILED"):
            miss("accept", f"the emulator did not finish it in time (status {info['status']})")
            continue
        overridden = service_refusal(job.program, job.qpu_id)
        if overridden is not None:  # the live service was seen to refuse it here: that outranks QAT
            error = info.get("task_error") or {}
            wanted = overridden.message_for(job.program)
            if info["status"] != "FAILED" or error.get("error_message") != wanted:
                miss("accept", f"the live service refuses it ({overridden.observed_error}); here: {error}")
            continue
        ran = info["status"] == "COMPLETED"
        settled = entry.get("verdict") != "models_disagree"
        if settled and ran != expected["accepted"]:
            if expected["accepted"]:
                reason = (info.get("task_error") or {}).get("error_message", info["status"])
                miss("accept", f"QAT runs it; the emulator refused: {reason:.160}")
            else:
                error = expected["error"]
                miss(
                    "accept",
                    f"QAT refuses it ({error['type']}: {error['message']:.120}); the emulator ran it",
                )
            continue
        if settled and not ran and job.kind == "counts":
            reason = (info.get("task_error") or {}).get("error_message", "")
            if (problem := compare_reason(entry, reason)) is not None:
                miss("message", problem)
        if not ran or not expected["accepted"]:
            continue
        results = info.get("results")
        if job.kind == "counts":
            per_shot = not CompilerConfig.from_json(doc["configs"][entry["config"]]).is_binary_count
            # A front end's own config (setting "given") may ask for raw(); QAT's Qiskit model returns
            # counts whatever the format, so the emulator's shots are compared as counts (the "given"
            # shape job compares the raw shape with the echo model's).
            for problem in compare_counts(expected["counts"], as_counts(results) if per_shot else results):
                miss("counts", problem)
            qat_shape = shape_of(entry["shapes"].get("binary_count", {}).get("value", expected["counts"]))
            if not per_shot and shape_of(results) != qat_shape:
                miss("shape", f"[binary_count] QAT {qat_shape}, emulator {shape_of(results)}")
            wanted = entry.get("physical_qubits")
            reported = (info.get("execution_metadata") or {}).get("physical_qubit_indices")
            if wanted is not None and reported is not None and sorted(reported) != wanted:
                miss("physical_qubits", f"QAT ran on {wanted}, the emulator reports {sorted(reported)}")
        else:
            qat_shape, ours = shape_of(expected["value"]), shape_of(results)
            if qat_shape != ours:
                miss("shape", f"QAT {json.dumps(qat_shape)}, emulator {json.dumps(ours)}")
            elif problem := compare_values(
                job.kind, results, _deterministic(entry["counts"].get("counts", {}))
            ):
                miss("values", problem)
    return out


def table(mismatches: list[Mismatch], limit: int = 150) -> str:
    """A readable report: totals per aspect and device, then one line per mismatch."""
    if not mismatches:
        return "no mismatches"
    by = Counter((m.aspect, m.device) for m in mismatches)
    lines = [
        f"{len(mismatches)} mismatch(es): " + ", ".join(f"{a}@{d}: {n}" for (a, d), n in sorted(by.items()))
    ]
    width = max(len(m.program) for m in mismatches)
    for m in mismatches[:limit]:
        lines.append(f"  {m.program:<{width}}  {m.setting:<13} {m.device:<7} {m.aspect:<15} {m.detail}")
    if len(mismatches) > limit:
        lines.append(f"  ... and {len(mismatches) - limit} more")
    return "\n".join(lines)


def main() -> None:
    """``python -m tests.emulator.qat_replay [ASPECT ...]``: replay, write every mismatch (no limit)."""
    import sys

    replay = asyncio.run(run_replay(load_fixtures()))
    wanted = sys.argv[1:] or sorted({m.aspect for m in replay.mismatches})
    total = len(replay.fixtures["fixtures"])
    took = f"{replay.cpu_seconds:.1f} s CPU, {replay.seconds:.1f} s wall"
    out = [f"{len(replay.answers)} tasks for {total} fixtures ({took})"]
    out += [f"\n== {aspect}\n" + table(replay.of(aspect), limit=100_000) for aspect in wanted]
    failing = {(m.program, m.setting, m.device) for m in replay.mismatches}
    out.append(f"\n{len(failing)} of {total} fixtures disagree with QAT")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
