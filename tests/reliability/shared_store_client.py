"""A process that uses the built-in emulator of a shared data folder: ``python -m
tests.reliability.shared_store_client COUNT LABEL [leave]``.

It goes through the composition root (``in_process_transport``: the emulator of
``OQC_PROVIDER_HOME``), submits COUNT one-qubit tasks, prints ``submitted``, waits (deadline-bounded
polling) until they are terminal, and prints ``done`` with their statuses as JSON. With ``leave``
(and 20,000 shots a task) it exits normally as soon as one of its tasks is RUNNING instead.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

from oqc_provider.connection import in_process_transport
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from tests.reliability.helpers import LUCY_SIM, SHOTS, program

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
LEAVING_SHOTS = CompilerConfig(repeats=20_000, results_format=QuantumResultsFormat.binary_count())


async def main(count: int, label: str, leave: bool = False) -> None:
    async with httpx.AsyncClient(transport=in_process_transport(), base_url="http://emulator") as http:
        ids: list[str] = []
        config = (LEAVING_SHOTS if leave else SHOTS).to_json()
        for start in range(0, count, 10):
            tasks = [
                {"program": program(index), "qpu_id": LUCY_SIM, "config": config, "tag": label}
                for index in range(start, min(count, start + 10))
            ]
            response = await http.post("/tasks/submit", json={"tasks": tasks})
            response.raise_for_status()
            ids += [item["task_id"] for item in response.json()]
        print("submitted", flush=True)
        deadline = time.monotonic() + 600
        while leave:
            statuses = [(await http.get(f"/tasks/{task_id}/status")).json()["status"] for task_id in ids]
            if "RUNNING" in statuses:
                print("leaving", json.dumps(sorted(statuses)), flush=True)
                return  # the interpreter exits with tasks running in the simulators
            if time.monotonic() > deadline:
                raise SystemExit("no task ever ran")
            await asyncio.sleep(0.01)
        statuses: dict[str, str] = {}
        while len(statuses) < len(ids):
            for task_id in ids:
                if task_id not in statuses:
                    status = (await http.get(f"/tasks/{task_id}/status")).json()["status"]
                    if status in TERMINAL:
                        statuses[task_id] = status
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out with {len(ids) - len(statuses)} task(s) unfinished")
            await asyncio.sleep(0.05)
        print("done", json.dumps(sorted(statuses.values())), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3:] == ["leave"]))
