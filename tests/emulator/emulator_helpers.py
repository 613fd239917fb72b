"""Helpers for the emulator tests (imported by name; pytest puts this folder on sys.path).

Nothing is patched: tests speak the QCaaS protocol to the emulator and poll with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    ErrorMitigationConfig,
    MetricsType,
    Optimizations,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)

LUCY_SIM = "qpu:uk:2:d865b5a184"
LUCY = "qpu:uk:2:1a2b3c4d5e"
TOSHIKO = "qpu:jp:3:673b1ad43c"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}

#: A Bell pair on physical qubits 0 -> 1 in native gates (rz, sx, x, ecr).
BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
rz(pi/2) q[0];
sx q[0];
rz(-pi) q[1];
sx q[1];
rz(-pi) q[1];
ecr q[0],q[1];
x q[0];
measure q[0] -> c[0];
measure q[1] -> c[1];
"""


def bell_on(control: int, target: int, width: int) -> str:
    """The native Bell program on the coupling ``control -> target`` of a ``width``-qubit register."""
    program = BELL.replace("q[2]", f"q[{width}]").replace("q[0]", "q[C]").replace("q[1]", "q[T]")
    return program.replace("q[C]", f"q[{control}]").replace("q[T]", f"q[{target}]")


#: What the front ends send: QCaaS keeps the program's qubits (no tket pass).
KEEP_QUBITS = Tket(tket_optimizations=TketOptimizations.Empty)


def config(
    shots: int = 1000,
    *,
    raw: bool = False,
    metrics: MetricsType = MetricsType.Default,
    mitigation: ErrorMitigationConfig | None = None,
    optimizations: Optimizations | None = KEEP_QUBITS,
) -> str:
    """A task config; ``optimizations=None`` is the service default (tket places and routes)."""
    fmt = QuantumResultsFormat.raw() if raw else QuantumResultsFormat.binary_count()
    return CompilerConfig(
        repeats=shots,
        results_format=fmt,
        metrics=metrics,
        error_mitigation=mitigation,
        optimizations=optimizations,
    ).to_json()


class Api:
    """A thin QCaaS speaker over an httpx client, in legacy (per-QPU prefix) or v4 (root) layout."""

    def __init__(self, client: httpx.AsyncClient, *, legacy: bool = True) -> None:
        self.client = client
        self.legacy = legacy

    def prefix(self, qpu_id: str = LUCY_SIM) -> str:
        return "/" + qpu_id.rsplit(":", 1)[-1] if self.legacy else ""

    async def submit_raw(self, tasks: list[dict[str, Any]], qpu_id: str = LUCY_SIM) -> httpx.Response:
        return await self.client.post(f"{self.prefix(qpu_id)}/tasks/submit", json={"tasks": tasks})

    async def submit(
        self,
        program: str,
        *,
        qpu_id: str = LUCY_SIM,
        cfg: str | None = None,
        task_id: str | None = None,
        seed: int | None = None,
    ) -> str:
        task: dict[str, Any] = {"program": program, "qpu_id": qpu_id, "config": cfg or config()}
        if task_id is not None:
            task["task_id"] = task_id
        if seed is not None:
            task["external_config"] = {"seed": seed}
        response = await self.submit_raw([task], qpu_id)
        assert response.status_code == 200, response.text
        return response.json()[0]["task_id"]

    async def info(self, task_id: str, qpu_id: str = LUCY_SIM) -> dict[str, Any]:
        response = await self.client.get(f"{self.prefix(qpu_id)}/tasks/{task_id}/all_info")
        assert response.status_code == 200, response.text
        return response.json()

    async def wait(self, task_id: str, qpu_id: str = LUCY_SIM, timeout: float = 30.0) -> dict[str, Any]:
        """Poll all_info until the task is terminal (deadline-bounded)."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            info = await self.info(task_id, qpu_id)
            if info["status"] in TERMINAL:
                return info
            assert time.monotonic() < deadline, f"task {task_id} still {info['status']} after {timeout}s"
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def run(self, program: str, **kwargs: Any) -> dict[str, Any]:
        task_id = await self.submit(program, **kwargs)
        return await self.wait(task_id, kwargs.get("qpu_id", LUCY_SIM))


def counts_json(info: dict[str, Any]) -> str:
    return json.dumps(info["results"], sort_keys=True)
