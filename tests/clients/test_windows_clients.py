"""OQC's own clients, unchanged, read the emulator's wait times and next window.

The emulator is started as a user starts it, ``oqc-provider emulator serve --window 'Lucy
Simulator=HH:MM-HH:MM'``, with a daily window two hours ahead, so a task submitted now stays queued.
OQC's SDK leaves the monitoring endpoints unexposed (its transport has them); the legacy client
exposes them. Both read the shapes of protocol §1.8-1.9 unchanged, and the engine reads the same
answer into the window the emulator was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from oqc_provider.engine.queues import QueueStatus
from oqc_provider.qcaas.models import QpuWaitTime
from tests.clients.client_venv import run_client_program
from tests.clients.conftest import cli_emulator
from tests.clients.programs import LUCY_SIM, TOKEN, X0

pytestmark = pytest.mark.external

sdk_module = pytest.importorskip("oqc_qcaas_sdk")

OPENS = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(hours=2)
DAILY = f"{OPENS:%H:%M}-{OPENS + timedelta(hours=1):%H:%M}"


@pytest.fixture(scope="module")
def windowed_emulator() -> Iterator[str]:
    with cli_emulator("--token", TOKEN, "--window", f"Lucy Simulator={DAILY}") as url:
        yield url


def _assert_waits_for_the_window(estimates: dict, queued: int) -> None:
    [wait] = estimates["qpu_wait_times"]
    assert wait["qpu_id"] == LUCY_SIM and wait["tasks_in_queue"] == queued
    assert wait["estimated_availability_time"] == f"{OPENS:%Y-%m-%d %H:%M:%S}"
    assert [w["window_description"] for w in wait["windows"]] == ["NEXT", "FUTURE", "FUTURE"]
    status = QueueStatus.from_wire(QpuWaitTime.model_validate(wait))
    assert not status.is_open and status.next_window is not None and status.next_window.start == OPENS


@pytest.mark.parametrize("v4", [False, True])
@pytest.mark.slow
async def test_oqcs_sdk_reads_the_wait_times_and_next_window(
    windowed_emulator: str, v4: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if v4:
        monkeypatch.setenv("OQC_QCAAS_V4", "1")
    async with sdk_module.OqcSdk(windowed_emulator, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=X0, qpu_id=LUCY_SIM)
        await job.submit()
        transport = sdk._client  # the SDK's public API leaves the monitoring endpoints out
        _assert_waits_for_the_window(await transport.get_qpu_execution_estimates(LUCY_SIM), queued=1)
        tasks = await transport.get_task_execution_estimates(job.task_id, LUCY_SIM)
        [task] = tasks["task_wait_times"]
        assert task["estimated_start_time"] == f"{OPENS:%Y-%m-%d %H:%M:%S}" and task["status"] == "SUBMITTED"
        if v4:
            with pytest.raises(NotImplementedError):
                await sdk.get_next_window(LUCY_SIM)
        else:
            assert await sdk.get_next_window(LUCY_SIM) == OPENS.replace(tzinfo=None)
        await job.cancel()


@pytest.mark.slow
def test_the_legacy_client_reads_the_wait_times_and_next_window(
    oqc_clients_python: Path, windowed_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "OQC_URL": windowed_emulator,
        "OQC_AUTH_TOKEN": TOKEN,
        "OQC_DEVICE": LUCY_SIM,
    }.items():
        monkeypatch.setenv(name, value)
    answer = run_client_program(oqc_clients_python, "legacy_client", "windows", {"program": X0, "shots": 10})
    assert answer["next_window"] == f"{OPENS:%Y-%m-%dT%H:%M:%SZ}"  # the client returns the string
    assert answer["status"] == "SUBMITTED"
    _assert_waits_for_the_window(answer["estimates"], queued=1)
    [task] = answer["task_estimates"]["task_wait_times"]
    assert task["estimated_start_time"] == f"{OPENS:%Y-%m-%d %H:%M:%S}"
