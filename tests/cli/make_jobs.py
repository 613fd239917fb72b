"""Make jobs with the engine, Qiskit and pytket, then exit: the CLI tests read them from another process.

    python tests/cli/make_jobs.py wait     # every job run to the end
    python tests/cli/make_jobs.py submit   # Qiskit and pytket jobs sent, not waited for

Prints ``{"engine": id, "qiskit": id, "pytket": id}`` (the local job store's ids) as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from pytket import Circuit
from qiskit import QuantumCircuit, transpile
from qiskit.providers import JobStatus

from oqc_provider import OQCProvider, OQCTketBackend
from oqc_provider.engine import OqcSdk
from oqc_provider.engine.store import JobStore, new_job_id

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"
X_QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


async def engine_job() -> str:
    async with OqcSdk(default_qpu_id=LUCY_SIMULATOR) as sdk:
        job = sdk.create_job(program=[X_QASM, X_QASM], tag="engine-tag")
        await job.execute(timeout_s=60)
        if not isinstance(job.annotations.get("store"), dict):  # an engine that does not record jobs
            JobStore().save(new_job_id(), job, kind="engine")
        return str(job.annotations["store"]["job_id"])


def qiskit_job(wait: bool) -> str:
    with OQCProvider() as provider:
        backend = provider.get_backend("Lucy Simulator")
        bell = QuantumCircuit(2, 2, name="bell")
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        job = backend.run(transpile(bell, backend), shots=123)
        if wait:
            job.result(timeout=60)
        deadline = time.monotonic() + 60
        while job.status() is JobStatus.INITIALIZING and time.monotonic() < deadline:
            time.sleep(0.05)
        return str(job.job_id())


def pytket_job(wait: bool) -> str:
    before = {entry.job_id for entry in JobStore().list()}
    with OQCTketBackend("Lucy Simulator") as backend:
        circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
        handles = backend.process_circuits([circuit, circuit], n_shots=77)
        if wait:
            backend.get_results(handles, timeout=60)
    (job_id,) = [entry.job_id for entry in JobStore().list() if entry.job_id not in before]
    return job_id


if __name__ == "__main__":
    wait = sys.argv[1] == "wait"
    ids = {"qiskit": qiskit_job(wait), "pytket": pytket_job(wait)}
    if wait:
        ids["engine"] = asyncio.run(engine_job())
    print(json.dumps(ids))
