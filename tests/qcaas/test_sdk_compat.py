"""Wire compatibility: OQC's own SDK (``oqc-qcaas-sdk``) against a served emulator, in both modes.

This is the point of the emulator: code written for OQC's SDK must run unchanged against it.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.qcaas.qcaas_fakes import TOKEN
from tests.qcaas.test_emulator import BELL, LUCY_SIM

pytestmark = pytest.mark.external

sdk_module = pytest.importorskip("oqc_qcaas_sdk")
cc = pytest.importorskip("compiler_config.config")

#: |1> on qubit 0, |0> on qubit 1: deterministic counts, distinct from the Bell pair.
X0 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\n'
    "measure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
)
SHOTS = 200


@pytest.fixture(params=["legacy", "v4"])
def sdk_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server mode, selected as OQC's SDK users do: by environment, before the SDK exists."""
    monkeypatch.delenv("OQC_ENTRA_ENABLED", raising=False)
    if request.param == "v4":
        monkeypatch.setenv("OQC_QCAAS_V4", "1")
    else:
        monkeypatch.delenv("OQC_QCAAS_V4", raising=False)
    return request.param


def routes_hit(served_url: str) -> Counter[str]:
    """The emulator's per-route request counters."""
    stats = httpx.get(f"{served_url}/_emulator/stats", headers={"Authentication-Token": TOKEN})
    return Counter(stats.json()["requests"])


def config(shots: int = SHOTS) -> object:
    return cc.CompilerConfig(repeats=shots, results_format=cc.QuantumResultsFormat().binary_count())


async def test_sdk_lists_qpus_and_runs_a_bell_program(served_url: str, sdk_mode: str) -> None:
    before = routes_hit(served_url)
    async with sdk_module.OqcSdk(served_url, authentication_token=TOKEN, default_qpu_id=LUCY_SIM) as sdk:
        assert "initialized=True" in repr(sdk), "the SDK failed to initialise against the emulator"
        qpus = await sdk.list_qpus()
        assert qpus is not None, "the SDK failed to initialise against the emulator"
        ids = {qpu["id"] for qpu in qpus}
        assert LUCY_SIM in ids
        lucy = next(qpu for qpu in qpus if qpu["id"] == LUCY_SIM)
        assert lucy["status"] == "ACTIVE"
        if sdk_mode == "legacy":
            assert lucy["url"].startswith(served_url)
        features = await sdk.get_features(LUCY_SIM)
        assert features["qubit_count"] == 8

        job = sdk.create_job(program=BELL, qpu_id=LUCY_SIM, config=config())
        outputs = await job.execute(timeout_s=30)
        assert job.completed, job.error
        assert outputs.first is job.result
        counts = job.result.data["c"]
        assert set(counts) <= {"00", "11"} and len(counts) == 2
        assert sum(counts.values()) == SHOTS
        assert str(job.state.value if hasattr(job.state, "value") else job.state).upper() == "COMPLETED"
    hit = routes_hit(served_url) - before
    # The SDK really spoke the mode's layout.
    if sdk_mode == "v4":
        assert hit["GET /healthz"] == 1 and hit["GET /qpus"] >= 1 and hit["POST /tasks/submit"] == 1
        assert not hit["GET /admin/version"]
    else:
        assert hit["GET /admin/version"] == 1 and hit["GET /admin/qpu"] >= 1
        assert hit["POST /{qpu_hex}/tasks/submit"] == 1 and not hit["POST /tasks/submit"]


async def test_sdk_default_config_and_diagnostics(served_url: str, sdk_mode: str) -> None:
    async with sdk_module.OqcSdk(served_url, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=X0, qpu_id=LUCY_SIM, fetch_diagnostics=True)
        await job.execute(timeout_s=30)
        assert job.completed, job.error
        assert job.result.data == {"c": {"10": 1000}}  # the SDK's default: 1000 shots, c[0] leftmost
        assert job.timings and job.metadata
        assert job.metadata.get("qpu_id") == LUCY_SIM


async def test_sdk_composite_job_of_three_programs(served_url: str, sdk_mode: str) -> None:
    async with sdk_module.OqcSdk(served_url, authentication_token=TOKEN, default_qpu_id=LUCY_SIM) as sdk:
        composite = sdk.create_job(
            program=[BELL, X0, BELL], qpu_id=LUCY_SIM, config=[config(100), config(), config(300)]
        )
        assert len(composite) == 3
        await composite.execute(timeout_s=30)
        assert composite.completed, [job.error for job in composite.jobs]
        first, second, third = (job.result.data["c"] for job in composite.jobs)
        assert set(first) <= {"00", "11"} and sum(first.values()) == 100
        assert second == {"10": SHOTS}
        assert set(third) <= {"00", "11"} and sum(third.values()) == 300
        assert len({job.task_id for job in composite.jobs}) == 3


async def test_sdk_stores_a_failed_task_and_an_unknown_task(served_url: str, sdk_mode: str) -> None:
    from tests.qcaas.test_emulator import BAD

    async with sdk_module.OqcSdk(served_url, authentication_token=TOKEN) as sdk:
        job = sdk.create_job(program=BAD, qpu_id=LUCY_SIM, config=config())
        await job.execute(timeout_s=30)
        assert not job.completed
        assert job.error is not None and job.error.error_message
        with pytest.raises(sdk_module.JobFailed):
            job.raise_for_status()
