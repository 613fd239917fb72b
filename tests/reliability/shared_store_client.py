"""A process that uses the built-in emulator of a shared data folder: ``python -m
tests.reliability.shared_store_client COUNT LABEL``.

It goes through the composition root (``in_process_transport``: the emulator of
``OQC_PROVIDER_HOME``), submits COUNT one-qubit tasks, prints ``submitted``, waits (deadline-bounded
polling) until they are terminal, and prints ``done`` with their statuses as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

from oqc_provider.connection import in_process_transport
from tests.reliability.helpers import LUCY_SIM, SHOTS, program

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


async def main(count: int, label: str) -> None:
    async with httpx.AsyncClient(transport=in_process_transport(), base_url="http://emulator") as http:
        ids: list[str] = []
        for start in range(0, count, 10):
            tasks = [
                {"program": program(index), "qpu_id": LUCY_SIM, "config": SHOTS.to_json(), "tag": label}
                for index in range(start, min(count, start + 10))
            ]
            response = await http.post("/tasks/submit", json={"tasks": tasks})
            response.raise_for_status()
            ids += [item["task_id"] for item in response.json()]
        print("submitted", flush=True)
        deadline = time.monotonic() + 600
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
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
