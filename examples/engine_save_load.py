"""Save a batch of jobs to a file and load it in a fresh session: results, history and configs come back.

    python examples/engine_save_load.py [FILE]

The snapshot format is OQC's SDK format, so the file also loads in ``oqc-qcaas-sdk``. With nothing configured
this runs on the built-in emulator; with OQC_URL and OQC_AUTHENTICATION_TOKEN set, on OQC's cloud.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from oqc_provider.engine import CompositeJob, OqcSdk

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"
PROGRAMS = [
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];',
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0], q[1]; measure q -> c;',
]


async def run_and_save(path: Path) -> None:
    async with OqcSdk(default_qpu_id=LUCY_SIMULATOR) as sdk:
        batch = sdk.create_job(program=PROGRAMS, tag="save-load-example")
        await batch.execute(timeout_s=60)
        batch.raise_for_status()
        for job in batch:
            print(f"ran   {job.task_id}: {job.result.data}")
        batch.save(str(path))
        print(f"saved {len(batch)} jobs to {path}")


async def load_and_rerun(path: Path) -> CompositeJob:
    async with OqcSdk() as sdk:  # a new session: nothing shared with the first but the file
        batch = sdk.load(path)
        assert isinstance(batch, CompositeJob)
        print(f"loaded {batch!r}; first result {batch[0].result.data}")
        await batch.execute(timeout_s=60)  # finished jobs start fresh runs; history keeps both
        for job in batch:
            print(f"rerun {job.task_id}: {len(job.history)} runs in history")
        return batch


def main(path: Path) -> CompositeJob:
    asyncio.run(run_and_save(path))
    return asyncio.run(load_and_rerun(path))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "batch.json"
    batch = main(target)
    assert all(len(job.history) == 2 for job in batch), [len(job.history) for job in batch]
    assert batch[0].result.data == {"c": {"1": 1000}}, batch[0].result.data
