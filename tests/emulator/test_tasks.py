"""Task lifecycle and results over HTTP, in-process: counts, bit order, formats, cancel, idempotence."""

from __future__ import annotations

import uuid
from collections import Counter
from email.utils import parsedate_to_datetime

import pytest

from oqc_provider.qcaas.compiler_config import ErrorMitigationConfig, MetricsType
from tests.emulator.emulator_helpers import BELL, LUCY_SIM, config, counts_json

TWO_REGISTERS = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg a[3];
creg b[2];
sx q[0];
x q[1];
sx q[2];
rz(0.7) q[2];
sx q[2];
measure q[0] -> a[2];
measure q[1] -> a[0];
measure q[2] -> b[1];
measure q[3] -> b[0];
measure q[2] -> a[1];
"""

QASM3_BELL = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
rz(pi/2) q[0];
sx q[0];
rz(-pi) q[1];
sx q[1];
rz(-pi) q[1];
ecr q[0], q[1];
x q[0];
c = measure q;
"""


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "v4"])
async def test_bell_on_lucy_simulator_gives_only_correlated_outcomes(make_api, legacy):
    api = await make_api(legacy=legacy)
    info = await api.run(BELL, cfg=config(shots=500))
    assert info["status"] == "COMPLETED", info["task_error"]
    counts = info["results"]["c"]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 500
    assert info["task_error"] is None
    assert info["execution_metadata"]["optimized_circuit"] == BELL
    assert info["execution_metadata"]["optimized_instruction_count"] == 9
    assert info["metadata"]["id"] == info["id"] and info["metadata"]["qpu_id"] == LUCY_SIM
    assert info["metadata"]["config"] == info["config"] == config(shots=500)
    parsedate_to_datetime(info["created_at"])
    assert info["created_at"].endswith(" GMT")
    assert set(info["timings"]) == {
        "SERVER_RECEIVED", "SERVER_ENQUEUED", "SERVER_DEQUEUED", "RECEIVER_DEQUEUED",
        "RECEIVER_ENQUEUED", "RECEIVER_TO_SCC", "RECEIVER_FROM_SCC",
    }  # fmt: skip
    assert all(value.endswith("+00:00") and len(value) == 32 for value in info["timings"].values())


def _aer_register_counts(program: str, shots: int, seed: int) -> dict[str, dict[str, int]]:
    """The expectation, computed independently from Aer's per-shot memory strings."""
    from qiskit import qasm2
    from qiskit_aer import AerSimulator

    circuit = qasm2.loads(program, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    memory = AerSimulator(method="automatic").run(circuit, shots=shots, seed_simulator=seed, memory=True)
    per_shot = memory.result().get_memory()
    names = [creg.name for creg in circuit.cregs]
    expected: dict[str, Counter[str]] = {name: Counter() for name in names}
    for shot in per_shot:
        # Qiskit prints registers last-first, each little-endian; QCaaS wants c[0] leftmost.
        for name, chunk in zip(reversed(names), shot.split(" "), strict=True):
            expected[name][chunk[::-1]] += 1
    return {name: dict(counter) for name, counter in expected.items()}


async def test_two_registers_are_counted_independently_in_qcaas_bit_order(api):
    info = await api.run(TWO_REGISTERS, cfg=config(shots=300), seed=1234)
    assert info["status"] == "COMPLETED", info["task_error"]
    assert info["results"] == _aer_register_counts(TWO_REGISTERS, 300, 1234)
    assert all(len(bits) == 3 for bits in info["results"]["a"])
    assert all(bits[0] == "1" for bits in info["results"]["a"])  # a[0] <- q[1], which is |1>, leftmost


async def test_raw_results_are_per_bit_shot_lists(api):
    info = await api.run(TWO_REGISTERS, cfg=config(shots=50, raw=True), seed=7)
    assert info["status"] == "COMPLETED", info["task_error"]
    raw = info["results"]
    assert set(raw) == {"a", "b"} and len(raw["a"]) == 3 and len(raw["b"]) == 2
    # QAT's raw format: per bit, per shot readout values, +1.0 for 0 and -1.0 for 1.
    assert all(len(bit) == 50 and set(bit) <= {1.0, -1.0} for bit in raw["a"] + raw["b"])
    assert raw["a"][0] == [-1.0] * 50 and raw["b"][0] == [1.0] * 50  # q[1] is |1>, q[3] is |0>
    assert raw["a"][1] == raw["b"][1]  # both read q[2]


async def test_a_program_that_measures_nothing_has_no_counts(api):
    # QAT refuses it ("No counts for experiment"); it used to return {} here.
    info = await api.run("OPENQASM 2.0;\nqreg q[1];\nsx q[0];\n")
    assert info["status"] == "FAILED" and "measures nothing" in info["task_error"]["error_message"]


async def test_qasm3_program_runs(api):
    info = await api.run(QASM3_BELL, cfg=config(shots=200))
    assert info["status"] == "COMPLETED", info["task_error"]
    assert set(info["results"]["c"]) <= {"00", "11"} and sum(info["results"]["c"].values()) == 200


async def test_same_seed_same_counts_and_settings_seed_reproducible(make_api):
    api = await make_api()
    first = await api.run(TWO_REGISTERS, cfg=config(shots=400), seed=99)
    second = await api.run(TWO_REGISTERS, cfg=config(shots=400), seed=99)
    assert counts_json(first) == counts_json(second)
    seeded = await make_api(seed=5)
    task_id = str(uuid.uuid4())
    one = await seeded.run(TWO_REGISTERS, cfg=config(shots=400), task_id=task_id)
    again = await make_api(seed=5)
    two = await again.run(TWO_REGISTERS, cfg=config(shots=400), task_id=task_id)
    assert counts_json(one) == counts_json(two)


async def test_physical_qubits_metric_and_empty_metrics(api):
    info = await api.run(BELL, cfg=config(shots=10, metrics=MetricsType.Experimental))
    assert info["execution_metadata"]["physical_qubit_indices"] == [0, 1]
    bare = await api.run(BELL, cfg=config(shots=10, metrics=MetricsType.Empty))
    assert bare["execution_metadata"] == {}


async def test_readout_mitigation_adds_quasi_probabilities(api):
    mode = ErrorMitigationConfig.LinearMitigation | ErrorMitigationConfig.MatrixMitigation
    info = await api.run(BELL, cfg=config(shots=400, mitigation=mode))
    assert info["status"] == "COMPLETED", info["task_error"]
    results = info["results"]
    for key in ("linear_readout_mitigation", "matrix_readout_mitigation"):
        assert abs(sum(results[key].values()) - 1.0) < 1e-9
        assert all(isinstance(v, float) for v in results[key].values())
        assert set(results[key]) <= {"00", "11"}  # the Lucy simulator has no readout error


async def test_batch_of_tasks_all_complete(api):
    tasks = [{"program": BELL, "qpu_id": LUCY_SIM, "config": config(shots=100)} for _ in range(12)]
    response = await api.submit_raw(tasks)
    ids = [item["task_id"] for item in response.json()]
    assert len(set(ids)) == 12
    for task_id in ids:
        info = await api.wait(task_id)
        assert info["status"] == "COMPLETED" and sum(info["results"]["c"].values()) == 100


async def test_preallocated_ids_in_both_body_shapes(make_api):
    legacy = await make_api()
    ids = (await legacy.client.post("/d865b5a184/tasks", json={"qpu_id": LUCY_SIM, "task_count": 3})).json()
    assert isinstance(ids, list) and len(ids) == 3 and all(uuid.UUID(i) for i in ids)
    assert (await legacy.info(ids[0]))["status"] == "CREATED"
    v4_shape = await legacy.client.post("/d865b5a184/tasks", json={"tasks": [{"qpu_id": LUCY_SIM}] * 2})
    assert len(v4_shape.json()) == 2
    v4 = await make_api(legacy=False)
    answer = (await v4.client.post("/tasks", json={"tasks": [{"qpu_id": LUCY_SIM, "tag": "t"}] * 2})).json()
    assert set(answer) == {"tasks"} and len(answer["tasks"]) == 2
    info = await v4.run(BELL, task_id=answer["tasks"][1], cfg=config(shots=20))
    assert info["id"] == answer["tasks"][1] and info["status"] == "COMPLETED" and info["tag"] == "t"


async def test_resubmitting_a_submitted_id_does_not_run_it_again(make_api):
    api = await make_api(latency=0.3)
    allocated = await api.client.post("/d865b5a184/tasks", json={"qpu_id": LUCY_SIM, "task_count": 1})
    task_id = allocated.json()[0]
    assert await api.submit(BELL, task_id=task_id) == task_id
    assert await api.submit(BELL, task_id=task_id) == task_id
    await api.wait(task_id)
    assert await api.submit(BELL, task_id=task_id) == task_id
    stats = (await api.client.get("/_emulator/stats")).json()
    assert stats["task_count"] == 1 and stats["tasks"] == {"COMPLETED": 1}
    other = await api.submit_raw([{"program": BELL + "x q[0];\n", "qpu_id": LUCY_SIM, "config": config(),
                                   "task_id": task_id}])  # fmt: skip
    assert other.status_code == 409 and task_id in other.json()["response"]["errors"][0]


async def test_unknown_fresh_uuid_is_accepted_and_bad_ids_rejected(api):
    fresh = str(uuid.uuid4())
    assert await api.submit(BELL, task_id=fresh, cfg=config(shots=10)) == fresh
    bad = await api.submit_raw([{"program": BELL, "qpu_id": LUCY_SIM, "config": config(), "task_id": "nope"}])
    assert bad.status_code == 400 and "nope" in bad.json()["response"]["errors"][0]


async def test_cancel_while_submitted_and_terminal_tasks_stay(make_api):
    api = await make_api(latency=30.0)
    task_id = await api.submit(BELL)
    assert (await api.info(task_id))["status"] == "SUBMITTED"
    response = await api.client.post(
        "/d865b5a184/tasks/cancel_many", json={"tasks": [task_id, str(uuid.uuid4()), "not-a-uuid"]}
    )
    assert response.status_code == 200 and response.text == "OK"
    info = await api.info(task_id)
    assert info["status"] == "CANCELLED" and info["results"] is None
    fast = await make_api(legacy=False)
    done = await fast.run(BELL, cfg=config(shots=10))
    await fast.client.post("/tasks/cancel_many", json={"tasks": [done["id"]]})
    assert (await fast.info(done["id"]))["status"] == "COMPLETED"


@pytest.mark.parametrize("suffix", ["all_info", "status", "results", "error", "execution_metadata",
                                    "metadata", "timings"])  # fmt: skip
async def test_unknown_task_is_404_naming_the_id_in_each_modes_shape(api, suffix):
    task_id = str(uuid.uuid4())
    legacy = await api.client.get(f"/d865b5a184/tasks/{task_id}/{suffix}")
    assert legacy.status_code == 404 and task_id in legacy.json()["response"]["errors"][0]
    assert legacy.json()["meta"]["code"] == 404
    v4 = await api.client.get(f"/tasks/{task_id}/{suffix}")
    assert v4.status_code == 404 and task_id in v4.json()["detail"]


async def test_single_purpose_task_routes(api):
    info = await api.run(BELL, cfg=config(shots=10))
    base = f"/d865b5a184/tasks/{info['id']}"
    assert (await api.client.get(f"{base}/status")).json() == {"status": "COMPLETED"}
    assert (await api.client.get(f"{base}/results")).json()["results"] == info["results"]
    assert (await api.client.get(f"{base}/error")).json() == {"task_error": None}
    assert (await api.client.get(f"{base}/metadata")).json()["metadata"] == info["metadata"]
    assert (await api.client.get(f"{base}/timings")).json()["timings"] == info["timings"]
    meta = (await api.client.get(f"{base}/execution_metadata")).json()
    assert meta["execution_metadata"] == info["execution_metadata"]
    # Sent unencoded, with a space, as OQC's clients do.
    query = "start_date=2000-01-01 00:00:00&end_date=2999-01-01 00:00:00"
    listing = await api.client.get(f"/d865b5a184/tasks?{query}")
    assert [task["id"] for task in listing.json()] == [info["id"]]


async def test_malformed_bodies_are_400_legacy_and_422_v4(api):
    legacy = await api.client.post("/d865b5a184/tasks/submit", content=b"{not json",
                                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert legacy.status_code == 400 and "JSON" in legacy.json()["response"]["errors"][0]
    missing = await api.client.post("/tasks/submit", json={"tasks": [{"qpu_id": LUCY_SIM}]})
    assert missing.status_code == 422 and "program" in missing.json()["detail"]
    assert "config" in missing.json()["detail"]
    empty = await api.client.post("/d865b5a184/tasks/cancel_many", json={})
    assert empty.status_code == 400 and "tasks" in empty.json()["response"]["errors"][0]


async def test_oversized_body_is_413(api):
    huge = "// " + "x" * (130 * 1024) + "\n" + BELL
    response = await api.submit_raw([{"program": huge, "qpu_id": LUCY_SIM, "config": config()}])
    assert response.status_code == 413


@pytest.mark.slow
async def test_stats_count_requests_by_route_and_tasks_by_status(api):
    await api.client.post("/_emulator/reset-counters")
    info = await api.run(BELL, cfg=config(shots=10))
    await api.client.get("/qpus")
    stats = (await api.client.get("/_emulator/stats")).json()
    polls = stats["requests"]["GET /{qpu_hex}/tasks/{task_id}/all_info"]
    assert stats["requests"]["POST /{qpu_hex}/tasks/submit"] == 1 and polls >= 1
    assert stats["requests"]["GET /qpus"] == 1
    assert stats["total_requests"] == 2 + polls
    assert stats["tasks"] == {"COMPLETED": 1} and stats["task_count"] == 1
    await api.client.post("/_emulator/reset-counters")
    after = (await api.client.get("/_emulator/stats")).json()
    assert after["total_requests"] == 0 and after["task_count"] == 1
    assert info["status"] == "COMPLETED"


def test_json_with_raw_writes_stored_json_in_place_and_everything_else_as_json() -> None:
    import json

    from oqc_provider.emulator.http import json_with_raw

    # A tag that looks like the marker's neighbourhood (quotes, NUL, non-ASCII) stays itself.
    document = {"id": "t", "tag": 'é"raw-\x00results', "results": None, "metadata": {"a": [1, 2.5]}}
    text = json_with_raw(document, {"results": '{"c":{"00":5}}', "absent": "[1]"})
    expected = '{"id":"t","tag":"é\\"raw-\\u0000results","results":{"c":{"00":5}},"metadata":{"a":[1,2.5]}}'
    assert text == expected.encode()
    assert json.loads(text) == {**document, "results": {"c": {"00": 5}}}


#: The keys of an ``all_info`` document (protocol §1.5), in every status.
ALL_INFO_KEYS = {"id", "qpu_id", "status", "tag", "created_at", "config", "results", "task_error",
                 "execution_metadata", "metadata", "timings"}  # fmt: skip


async def test_all_info_in_every_status_has_the_protocol_keys_and_reads_as_task_info(make_api):
    """The emulator writes ``all_info`` by hand (not through the client's model): in each status
    the document has exactly the protocol's keys, and the client's ``TaskInfo`` reads it back
    unchanged."""
    from oqc_provider.qcaas.models import TaskInfo

    api = await make_api()
    allocated = await api.client.post("/d865b5a184/tasks", json={"qpu_id": LUCY_SIM, "task_count": 1})
    created = allocated.json()[0]
    completed = await api.run(BELL, cfg=config(shots=10, metrics=MetricsType.OptimizedCircuit))
    failed = await api.run(BELL.replace("qreg q[2]", "qreg q[40]"))  # wider than the device
    documents = [await api.info(created), completed, failed]
    assert [d["status"] for d in documents] == ["CREATED", "COMPLETED", "FAILED"]
    for document in documents:
        assert set(document) == ALL_INFO_KEYS
        assert TaskInfo.model_validate(document).model_dump(mode="json") == document
    assert completed["execution_metadata"]["optimized_circuit"] == BELL
    assert failed["task_error"]["error_code"] and failed["task_error"]["error_message"]
    assert failed["results"] is None and failed["execution_metadata"] == {}
