"""Serve the emulator on a loopback port and talk to it over HTTP, as any QCaaS client would.

    python examples/emulator_served.py

The same as ``oqc-provider emulator serve --seed 7`` in one terminal and ``OQC_URL=http://127.0.0.1:8000``
in another; here the server runs in a background thread for the length of the ``with`` block.
"""

from __future__ import annotations

import asyncio

from oqc_provider import OQCProvider
from oqc_provider.emulator import EmulatorSettings, serve_in_thread
from oqc_provider.engine import OqcSdk

PROGRAM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0], q[1]; measure q -> c;'


async def engine(url: str) -> dict[str, int]:
    async with OqcSdk(url=url, default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
        print(f"engine: {sdk!r}")
        job = sdk.create_job(program=PROGRAM)
        await job.execute(timeout_s=60)
        job.raise_for_status()
        return job.result.data["c"]


def main() -> dict[str, int]:
    with serve_in_thread(EmulatorSettings(seed=7, latency=0.2)) as url:
        print(f"emulator listening on {url}")
        counts = asyncio.run(engine(url))
        print("counts:", counts)
        with OQCProvider(url=url) as provider:  # the Qiskit front end, over the same server
            print("qiskit:", provider, [backend.name for backend in provider.backends()])
        return counts


if __name__ == "__main__":
    result = main()
    assert set(result) <= {"00", "11"}, result
