"""A catalogue of bad inputs, phrased as what a user does, each with a clear typed error.

Every test also checks that nothing already submitted or saved was lost: an earlier job's store
entry is still readable and resumable, and its task is still on the server with its result.
Programs the device cannot run end FAILED with the emulator's message (as QCaaS does); mistakes
the client can see itself are refused before anything is sent.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from oqc_provider.devices import CATALOGUE
from oqc_provider.engine import CompositeJob, Job, JobFailed, JobState, OqcSdk
from oqc_provider.engine.errors import JobStoreError, SnapshotError
from oqc_provider.engine.store import JobStore, job_id_of
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat, Tket, TketOptimizations
from oqc_provider.qcaas.errors import ConfigurationError, NotFoundError, ServiceUnavailableError
from oqc_provider.run_options import RunOptions
from tests.reliability.helpers import LUCY_SIM, SHOTS, InProcess, program

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
UNKNOWN_QPU = "qpu:uk:9:0000000000"


@dataclass
class World:
    """An emulator, a session with a job store, and one job that completed before the mistake."""

    emulator: InProcess
    sdk: OqcSdk
    store: JobStore
    earlier: Job
    earlier_id: str
    server_tasks: int

    async def assert_nothing_lost(self, new_tasks: int = 0) -> None:
        """The earlier job is intact locally and on the server; only ``new_tasks`` were added."""
        entry = self.store.read(self.earlier_id)
        assert entry.state == "COMPLETED" and entry.task_id == self.earlier.task_id
        assert self.earlier_id in [e.job_id for e in self.sdk.jobs()]
        resumed = self.sdk.resume(self.earlier_id)
        await resumed.execute(timeout_s=10)
        assert resumed.result.data == self.earlier.result.data
        client = await self.sdk.client()
        assert (await client.get_task(LUCY_SIM, self.earlier.task_id)).status == "COMPLETED"
        stats = await self.emulator.stats()
        assert stats["submitted_task_count"] == self.server_tasks + new_tasks


@pytest.fixture
async def world(tmp_path):
    emulator = InProcess(seed=1)
    store = JobStore(tmp_path / "jobs")
    sdk = emulator.sdk(job_store=store)
    async with sdk:
        earlier = sdk.create_job(program=program(0), config=SHOTS)
        await earlier.execute(timeout_s=30)
        assert earlier.completed
        stats = await emulator.stats()
        yield World(emulator, sdk, store, earlier, job_id_of(earlier), stats["submitted_task_count"])
    emulator.close()


async def run_failing(world: World, text: str, fragments: list[str], config: CompilerConfig = SHOTS) -> None:
    """Run ``text``; it must end FAILED (code 400) naming the problem, and raise JobFailed on request."""
    job = world.sdk.create_job(program=text, config=config)
    await job.execute(timeout_s=30)
    assert job.state is JobState.FAILED and job.error.error_code == 400
    for fragment in fragments:
        assert fragment in job.error.error_message, (fragment, job.error.error_message)
    with pytest.raises(JobFailed) as info:
        job.raise_for_status()
    assert info.value.code == 400 and fragments[0] in str(info.value)
    assert world.store.read(job_id_of(job)).state == "FAILED"  # the failure is saved too
    await world.assert_nothing_lost(new_tasks=1)


# --- programs the device cannot run -----------------------------------------------------------


async def test_submitting_unparsable_qasm(world):
    await run_failing(world, HEADER + "qreg q[2];\nfoo q[0];\n", ["parse", "foo"])


async def test_submitting_a_program_with_an_unknown_gate(world):
    text = HEADER + "opaque magic q;\nqreg q[2];\ncreg c[2];\nmagic q[0];\nmeasure q -> c;\n"
    await run_failing(world, text, ["'magic'", "define it"])


async def test_submitting_a_gate_on_an_uncoupled_pair_that_must_not_move(world):
    # Under the service's default the pair would be routed (QAT places and routes); a program that
    # asks to keep its qubits (tket Empty, as the front ends send) cannot run on an uncoupled pair.
    config = CompilerConfig(
        repeats=20,
        results_format=QuantumResultsFormat.binary_count(),
        optimizations=Tket(tket_optimizations=TketOptimizations.Empty),
    )
    text = HEADER + "qreg q[3];\ncreg c[2];\necr q[0],q[2];\nmeasure q[0] -> c[0];\nmeasure q[2] -> c[1];\n"
    await run_failing(world, text, ["not coupled"], config=config)


async def test_submitting_a_classically_conditioned_gate(world):
    text = HEADER + "qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\nmeasure q[1] -> c[1];\n"
    await run_failing(world, text, ["if", "If's are currently unable to be used"])


async def test_submitting_more_qubits_than_the_device_has(world):
    await run_failing(world, HEADER + "qreg q[9];\nsx q[8];\n", ["9 qubits", "8"])


async def test_asking_for_more_shots_than_the_maximum(world):
    config = CompilerConfig(repeats=100_001, results_format=QuantumResultsFormat.binary_count())
    await run_failing(world, program(1), ["100001", "Maximum Shots"], config=config)


# --- shots the client refuses itself ----------------------------------------------------------


@pytest.mark.parametrize("shots", [0, -5])
async def test_asking_for_zero_or_negative_shots(world, shots):
    with pytest.raises(ValueError, match="repeats"):
        CompilerConfig(repeats=shots)
    with pytest.raises(ConfigurationError, match="at least 1"):
        RunOptions.build(shots=shots)
    await world.assert_nothing_lost()


@pytest.mark.parametrize("shots", [2.5, "many", True])
async def test_asking_for_a_shot_count_that_is_not_a_whole_number(world, shots):
    with pytest.raises(ConfigurationError, match="whole number"):
        RunOptions.build(shots=shots)
    await world.assert_nothing_lost()


async def test_asking_run_options_for_more_shots_than_the_device_allows(world):
    lucy = CATALOGUE[LUCY_SIM]
    with pytest.raises(ConfigurationError, match="maximum"):
        RunOptions.build(shots=lucy.max_shots + 1).check_device(lucy)
    await world.assert_nothing_lost()


# --- QPUs, sizes, URLs and tokens -------------------------------------------------------------


async def test_naming_a_qpu_that_does_not_exist(world):
    with pytest.raises(NotFoundError, match="Known QPUs") as info:
        await world.sdk.get_features(UNKNOWN_QPU)
    assert UNKNOWN_QPU in str(info.value)
    job = world.sdk.create_job(program=program(1), qpu_id=UNKNOWN_QPU, config=SHOTS)
    await job.execute(timeout_s=10)
    assert job.state is JobState.FAILED and job.error.error_code == 404
    assert UNKNOWN_QPU in job.error.error_message
    await world.assert_nothing_lost()


async def test_sending_a_program_over_the_request_size_limit(world):
    huge = program(1).replace("x q[0];", "x q[0]; " * 20_000)  # ~160 KB > 128 KiB
    batch = world.sdk.create_job(program=[huge, program(2)], config=SHOTS)
    assert isinstance(batch, CompositeJob)
    await batch.execute(timeout_s=30)
    too_big, fine = batch.jobs
    assert too_big.state is JobState.FAILED and too_big.error.error_code == 413
    assert "too large" in too_big.error.error_message
    assert fine.completed  # its neighbour in the batch was still sent, once
    await world.assert_nothing_lost(new_tasks=1)


@pytest.mark.parametrize("token", [None, "", "   "])
async def test_using_a_remote_url_without_a_token(world, token):
    with pytest.raises(ConfigurationError, match="No authentication token"):
        OqcSdk(url="https://qcaas.example.com", authentication_token=token)
    await world.assert_nothing_lost()


async def test_pointing_at_a_url_where_nothing_listens(world):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free once closed: connections are refused
    sdk = OqcSdk(url=f"http://127.0.0.1:{port}", authentication_token="t", job_store=False)
    with pytest.raises(ServiceUnavailableError, match="Could not connect") as info:
        async with sdk:
            pass
    # Refused at once, not after a backoff: one try, no retry.
    assert sdk.request_count == 1 and sdk.retry_count == 0
    assert info.value.connect_failed
    await world.assert_nothing_lost()


async def test_pointing_at_plain_http_on_a_remote_host(world):
    with pytest.raises(ConfigurationError, match="unencrypted"):
        OqcSdk(url="http://qcaas.example.com", authentication_token="t")
    await world.assert_nothing_lost()


# --- snapshots and the job store --------------------------------------------------------------


async def test_loading_a_snapshot_that_is_not_json(world, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{ this is not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        world.sdk.load(path)
    await world.assert_nothing_lost()


async def test_loading_a_snapshot_of_the_wrong_kind(world, tmp_path):
    path = tmp_path / "kind.json"
    path.write_text(json.dumps({"schema_version": "1", "snapshot_kind": "qiskit-result"}))
    with pytest.raises(SnapshotError, match="snapshot_kind"):
        world.sdk.load(path)
    path.write_text(json.dumps(["a", "list"]))
    with pytest.raises(SnapshotError, match="JSON object"):
        world.sdk.load(path)
    await world.assert_nothing_lost()


async def test_loading_a_snapshot_of_an_unsupported_version(world, tmp_path):
    document = json.loads(world.store.path_for(world.earlier_id).read_text())
    path = tmp_path / "future.json"
    path.write_text(json.dumps({**document, "schema_version": "7"}))
    with pytest.raises(SnapshotError, match="Unsupported snapshot schema version: '7'"):
        world.sdk.load(path)
    await world.assert_nothing_lost()


@pytest.mark.parametrize("job_id", ["../escape", "../../etc/passwd", "a/b", "/abs", "..", "", ".hidden"])
async def test_resuming_a_job_id_that_tries_to_escape_the_store_folder(world, job_id):
    with pytest.raises(JobStoreError, match="not a valid job id"):
        world.store.path_for(job_id)
    with pytest.raises(JobStoreError, match="not a valid job id"):
        world.sdk.resume(job_id)
    assert not (Path(world.store.root).parent / "escape.json").exists()
    await world.assert_nothing_lost()


async def test_resuming_a_job_that_is_not_in_the_store(world):
    with pytest.raises(JobStoreError, match="No job 'never-made'"):
        world.sdk.resume("never-made")
    await world.assert_nothing_lost()
