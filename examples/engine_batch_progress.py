"""A batch of 24 circuits through the job engine, with a progress bar (tasks done / total, ETA) on stderr.

    python examples/engine_batch_progress.py
    OQC_PROVIDER_PROGRESS=0 python examples/engine_batch_progress.py    # no bar

The bar shows when stderr is a terminal; ``progress_for(batch, enabled=True)`` forces it.
"""

from __future__ import annotations

import asyncio
import math

from oqc_provider.engine import CompositeJob, OqcSdk
from oqc_provider.engine.progress import progress_for

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"


def rotation(angle: float) -> str:
    """Rx(angle) on one qubit, then measure: P(1) = sin^2(angle / 2)."""
    return (
        f'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; rx({angle}) q[0]; measure q[0] -> c[0];'
    )


async def main() -> list[float]:
    angles = [math.pi * i / 23 for i in range(24)]
    async with OqcSdk(default_qpu_id=LUCY_SIMULATOR) as sdk:
        batch = sdk.create_job(program=[rotation(a) for a in angles])
        assert isinstance(batch, CompositeJob)
        with progress_for(batch, description="Rx sweep"):
            await batch.execute(timeout_s=120)
        batch.raise_for_status()
        ones = [job.result.data["c"].get("1", 0) / 1000 for job in batch]
    for angle, p in zip(angles, ones, strict=True):
        print(f"counts: angle {angle:.3f}  P(1) = {p:.3f}  (expected {math.sin(angle / 2) ** 2:.3f})")
    return ones


if __name__ == "__main__":
    measured = asyncio.run(main())
    assert measured[0] < 0.05 and measured[-1] > 0.95, measured
