"""Run a Bell pair through the job engine on the built-in emulator: no account, no network.

    python examples/engine_quickstart.py

With OQC_URL and OQC_AUTHENTICATION_TOKEN set, the same code runs on OQC's cloud instead.
"""

from __future__ import annotations

import asyncio

from oqc_provider.engine import OqcSdk

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"
# H(0); CX(0,1) in Lucy's native gates (rz, sx, x and ECR on the coupling 0 -> 1).
BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
rz(pi/2) q[0]; sx q[0];
rz(-pi) q[1]; sx q[1]; rz(-pi) q[1];
ecr q[0],q[1];
x q[0];
measure q[0] -> c[0];
measure q[1] -> c[1];
"""


async def main() -> dict[str, int]:
    async with OqcSdk(default_qpu_id=LUCY_SIMULATOR) as sdk:
        print(f"Connected: {sdk!r}")
        for qpu in await sdk.list_qpus():
            print(f"  {qpu['id']:<24} {qpu['name']}")
        job = sdk.create_job(program=BELL)
        await job.execute(timeout_s=60)
        job.raise_for_status()
        print(f"Task {job.task_id} finished {job.state.value}: {job.result.data}")
        return job.result.data["c"]


if __name__ == "__main__":
    counts = asyncio.run(main())
    assert set(counts) <= {"00", "11"}, counts
