"""QcaasClient against the built-in emulator, in both server modes, in-process and served.

In-process uses ``httpx.ASGITransport`` (no sockets); served uses uvicorn on a loopback port
(``serve_in_thread``), so the same calls also go through real HTTP connections.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from oqc_provider.devices import CATALOGUE
from oqc_provider.qcaas import errors
from oqc_provider.qcaas.client import QcaasClient, ServerMode
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from oqc_provider.qcaas.models import TaskInfo, TaskPayload, TaskStatus
from oqc_provider.qcaas.retry import RetryPolicy
from tests.qcaas.qcaas_fakes import TOKEN

LUCY_SIM = "qpu:uk:2:d865b5a184"
TOSHIKO = "qpu:jp:3:673b1ad43c"
#: H(0); CX(0,1) in Lucy's native gates for the coupling 0 -> 1 (checked against Aer: only 00/11).
BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    "rz(pi/2) q[0];\nsx q[0];\nrz(-pi) q[1];\nsx q[1];\nrz(-pi) q[1];\necr q[0],q[1];\nx q[0];\n"
    "measure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
)
#: Not a language the emulator (or QCaaS) runs: the task is accepted, then FAILS.
BAD = 'OPENQASM 5.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\nmeasure q[0] -> c[0];\n'
SHOTS = 300


def bell_task(program: str = BELL, shots: int = SHOTS, task_id: str | None = None) -> TaskPayload:
    config = CompilerConfig(repeats=shots, results_format=QuantumResultsFormat.binary_count())
    return TaskPayload(program=program, qpu_id=LUCY_SIM, config=config.to_json(), task_id=task_id)


async def wait_terminal(
    client: QcaasClient, qpu_id: str, task_id: uuid.UUID | str, timeout: float = 30
) -> TaskInfo:
    """Poll ``all_info`` until the task is terminal, with a deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        info = await client.get_task(qpu_id, task_id)
        if info.task_status.is_terminal:
            return info
        assert time.monotonic() < deadline, f"task {task_id} still {info.status} after {timeout}s"
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


class Emulator:
    """One running emulator and how to reach it."""

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport | None, mode: ServerMode) -> None:
        self.url = url
        self.transport = transport
        self.mode = mode

    def client(self, **kwargs: Any) -> QcaasClient:
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("retry", RetryPolicy(max_attempts=2, initial_wait=0.01))
        return QcaasClient(self.url, mode=self.mode, transport=self.transport, **kwargs)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, transport=self.transport) as raw:
            response = await raw.get("/_emulator/stats", headers={"Authentication-Token": TOKEN})
            response.raise_for_status()
            return response.json()


@pytest.fixture(params=["legacy", "v4"])
def mode(request: pytest.FixtureRequest) -> ServerMode:
    return ServerMode(request.param)


@pytest.fixture(params=["in-process", "served"])
async def emulator(request: pytest.FixtureRequest, mode: ServerMode) -> AsyncIterator[Emulator]:
    if request.param == "served":
        yield Emulator(request.getfixturevalue("served_url"), None, mode)
        return
    app = request.getfixturevalue("emulator_app")
    yield Emulator("http://emulator", httpx.ASGITransport(app=app), mode)


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[QcaasClient]:
    async with emulator.client() as opened:
        yield opened


# --- health, QPUs, monitoring --------------------------------------------------------------------------


async def test_health(client: QcaasClient, mode: ServerMode) -> None:
    assert client.server_version is not None
    assert client.server_version.startswith("3." if mode is ServerMode.LEGACY else "4.")
    assert (await client.health()).version == client.server_version


async def test_list_qpus(client: QcaasClient, emulator: Emulator, mode: ServerMode) -> None:
    qpus = {qpu.id: qpu for qpu in await client.list_qpus()}
    assert set(qpus) == set(CATALOGUE)
    lucy = qpus[LUCY_SIM]
    assert lucy.name == "Lucy Simulator" and lucy.status == "ACTIVE" and lucy.active
    assert lucy.features()["qubit_count"] == 8
    if mode is ServerMode.LEGACY:
        # Per-QPU URLs come from the registry, absolute, under the emulator's own base URL.
        for qpu_id, qpu in qpus.items():
            assert qpu.url == f"{emulator.url}/{qpu_id.rsplit(':', 1)[-1]}"
        assert isinstance(lucy.feature_set, str)  # JSON-encoded on the legacy wire
    else:
        assert all(qpu.url is None for qpu in qpus.values())


async def test_unknown_qpu(client: QcaasClient, mode: ServerMode) -> None:
    unknown = "qpu:uk:9:ffffffffff"
    if mode is ServerMode.LEGACY:
        with pytest.raises(errors.UnknownQpuError) as info:
            await client.get_system_status(unknown)
        for qpu_id in CATALOGUE:
            assert qpu_id in str(info.value)
    else:  # no registry in v4: the gateway answers 404
        with pytest.raises(errors.NotFoundError, match="Unknown QPU"):
            await client.get_features(unknown)


async def test_features(client: QcaasClient) -> None:
    for qpu_id, spec in CATALOGUE.items():
        features = await client.get_features(qpu_id)
        assert features["qubit_count"] == spec.qubit_count
        assert set(features["native_gates"]) >= {"rz", "sx", "x", "ecr"}


async def test_calibration(client: QcaasClient, mode: ServerMode) -> None:
    calibration = await client.get_calibration(TOSHIKO)
    assert calibration["qpu_id"] == TOSHIKO
    assert len(calibration["qubits"]) == CATALOGUE[TOSHIKO].qubit_count
    if mode is ServerMode.LEGACY:
        assert (await client.get_calibration(TOSHIKO, "2026-01-02"))["qpu_id"] == TOSHIKO
    else:  # the benchmark search answers 501, as the real gateway does today
        with pytest.raises(errors.ServerError) as info:
            await client.get_calibration(TOSHIKO, datetime(2026, 1, 2, tzinfo=timezone.utc))
        assert info.value.server_error_code == 501
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        await client.get_calibration(TOSHIKO, "02/01/2026")


async def test_system_status(client: QcaasClient) -> None:
    status = await client.get_system_status(LUCY_SIM)
    assert status["qpu_id"] == LUCY_SIM


async def test_next_window(client: QcaasClient, mode: ServerMode) -> None:
    if mode is ServerMode.V4:
        with pytest.raises(errors.UnsupportedOperationError, match="legacy mode"):
            await client.get_next_window(LUCY_SIM)
        return
    starts = await client.get_next_window(LUCY_SIM)
    assert starts is not None and starts.tzinfo is not None
    assert abs(starts - datetime.now(timezone.utc)) < timedelta(minutes=5)


async def test_qpu_wait_times(client: QcaasClient) -> None:
    waits = await client.get_qpu_wait_times([LUCY_SIM, TOSHIKO])
    assert sorted(w.qpu_id for w in waits) == sorted([LUCY_SIM, TOSHIKO])
    assert all(w.tasks_in_queue == 0 for w in waits)  # a fresh emulator: nothing queued
    queued = (await client.create_task_ids(LUCY_SIM, 1))[0]
    [wait] = (await client.get_task_wait_times(LUCY_SIM, [queued]))["task_wait_times"]
    assert wait["task_id"] == str(queued) and wait["status"] == "CREATED"


# --- tasks --------------------------------------------------------------------------------------------


async def test_create_task_ids(client: QcaasClient) -> None:
    """Legacy sends ``{qpu_id, task_count}`` and gets a list; v4 sends one slot per id, gets ``{tasks}``."""
    ids = await client.create_task_ids(LUCY_SIM, 3, tag="batch")
    assert len(set(ids)) == 3 and all(isinstance(i, uuid.UUID) for i in ids)
    for task_id in ids:
        assert await client.get_task_status(LUCY_SIM, task_id) == "CREATED"
    with pytest.raises(ValueError):
        await client.create_task_ids(LUCY_SIM, 0)


async def test_bell_program_end_to_end(client: QcaasClient) -> None:
    (task_id,) = await client.submit_tasks(LUCY_SIM, [bell_task()])
    info = await wait_terminal(client, LUCY_SIM, task_id)
    assert info.status == "COMPLETED", info.task_error
    counts = info.results["c"]
    assert set(counts) <= {"00", "11"} and len(counts) == 2
    assert sum(counts.values()) == SHOTS
    assert info.id == str(task_id) and info.qpu_id == LUCY_SIM
    assert CompilerConfig.from_json(info.config).repeats == SHOTS

    # Every single-purpose getter agrees with all_info.
    assert await client.get_task_status(LUCY_SIM, task_id) == "COMPLETED"
    assert await client.get_task_results(LUCY_SIM, task_id) == info.results
    assert await client.get_task_error(LUCY_SIM, task_id) is None
    assert await client.get_task_execution_metadata(LUCY_SIM, task_id) == info.execution_metadata
    metadata = await client.get_task_metadata(LUCY_SIM, task_id)
    assert metadata is not None and metadata["id"] == str(task_id) and metadata["config"] == info.config
    timings = await client.get_task_timings(LUCY_SIM, task_id)
    assert timings == info.timings and timings


async def test_batch_with_preallocated_ids(client: QcaasClient) -> None:
    ids = [str(i) for i in await client.create_task_ids(LUCY_SIM, 2)]
    submitted = await client.submit_tasks(
        LUCY_SIM, [bell_task(task_id=ids[0]), bell_task(shots=50, task_id=ids[1])]
    )
    assert [str(i) for i in submitted] == ids
    # Resending the same batch (what a retry does) answers the same ids and runs nothing twice.
    again = await client.submit_tasks(
        LUCY_SIM, [bell_task(task_id=ids[0]), bell_task(shots=50, task_id=ids[1])]
    )
    assert [str(i) for i in again] == ids
    first, second = [await wait_terminal(client, LUCY_SIM, i) for i in ids]
    assert sum(first.results["c"].values()) == SHOTS
    assert sum(second.results["c"].values()) == 50


async def test_cancel(client: QcaasClient) -> None:
    ids = await client.create_task_ids(LUCY_SIM, 2)
    await client.cancel_tasks(LUCY_SIM, ids)
    for task_id in ids:
        assert await client.get_task_status(LUCY_SIM, task_id) == "CANCELLED"
    await client.cancel_tasks(LUCY_SIM, ids)  # twice is harmless
    await client.cancel_tasks(LUCY_SIM, [])  # nothing to do, nothing sent


async def test_cancel_a_submitted_task(slow_emulator_app: Any, mode: ServerMode) -> None:
    transport = httpx.ASGITransport(app=slow_emulator_app)
    async with QcaasClient("http://emulator", token=TOKEN, mode=mode, transport=transport) as client:
        (task_id,) = await client.submit_tasks(LUCY_SIM, [bell_task()])
        assert await client.get_task_status(LUCY_SIM, task_id) == "SUBMITTED"
        await client.cancel_tasks(LUCY_SIM, [task_id])
        info = await client.get_task(LUCY_SIM, task_id)
        assert info.task_status is TaskStatus.CANCELLED and info.results is None


async def test_a_failed_task_reports_its_error(client: QcaasClient) -> None:
    (task_id,) = await client.submit_tasks(LUCY_SIM, [bell_task(program=BAD)])
    info = await wait_terminal(client, LUCY_SIM, task_id)
    assert info.status == "FAILED"
    error = await client.get_task_error(LUCY_SIM, task_id)
    assert error is not None and error == info.task_error
    assert error.error_message and error.error_code != 0
    assert await client.get_task_results(LUCY_SIM, task_id) is None


async def test_an_unknown_task_is_not_found(client: QcaasClient, mode: ServerMode) -> None:
    missing = uuid.uuid4()
    with pytest.raises(errors.NotFoundError) as info:
        await client.get_task(LUCY_SIM, missing)
    assert str(missing) in str(info.value)
    # The server's own message, in the mode's error shape.
    body = info.value.metadata
    assert ("response" in body) if mode is ServerMode.LEGACY else ("detail" in body)
    with pytest.raises(errors.NotFoundError):
        await client.get_task_status(LUCY_SIM, missing)


async def test_a_wrong_token_is_an_authentication_error(emulator: Emulator) -> None:
    async with emulator.client(token="wrong-token") as client:  # health needs no token
        with pytest.raises(errors.AuthenticationError) as info:
            await client.list_qpus()
    assert info.value.server_error_code == 401
    assert "wrong-token" not in str(info.value)


@pytest.mark.slow
async def test_request_count_matches_the_emulators_stats(emulator: Emulator) -> None:
    before = (await emulator.stats())["total_requests"]
    async with emulator.client() as client:
        await client.list_qpus()
        await client.get_features(LUCY_SIM)
        await client.get_system_status(LUCY_SIM)
        (task_id,) = await client.submit_tasks(LUCY_SIM, [bell_task(shots=20)])
        await wait_terminal(client, LUCY_SIM, task_id)
        await client.get_task_results(LUCY_SIM, task_id)
        with pytest.raises(errors.NotFoundError):
            await client.get_task(LUCY_SIM, uuid.uuid4())
        await client.cancel_tasks(LUCY_SIM, [task_id])
        sent = client.request_count
    after = (await emulator.stats())["total_requests"]
    assert sent >= 8
    assert after - before == sent
