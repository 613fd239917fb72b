"""A served emulator's abuse limits: each refused with a typed 413 before the work it would cost.

Raw HTTP against the emulator (in-process through httpx's ASGI transport, or served on a loopback
port), so the status, the error shape of each server mode and what the store holds afterwards are
all seen as a client sees them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.limits import BodyLimit
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from tests.reliability.helpers import LUCY_SIM, InProcess, program

LUCY_HEX = LUCY_SIM.rsplit(":", 1)[-1]
TOKEN = "limits-token"
AUTH = {"Authentication-Token": TOKEN}
CONFIG_100_SHOTS = CompilerConfig(repeats=100, results_format=QuantumResultsFormat.binary_count()).to_json()


@pytest.fixture
def emulator():
    world = InProcess(required_token=TOKEN, max_tasks_per_request=50, max_result_bits=10_000)
    yield world
    world.close()


async def _post(world: InProcess, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=world.transport(), base_url="http://emulator") as http:
        return await http.post(path, json=body, **kwargs)


async def test_a_body_over_the_limit_is_refused_before_authentication_login_included(emulator):
    huge = b"x" * (MAX_REQUEST_BYTES + 1)
    login = await _post(emulator, "/admin/login", content=huge)  # no token: refused for its size first
    assert login.status_code == 413
    assert "131072-byte limit" in login.json()["response"]["errors"][0]  # the legacy (Flask) shape
    submit = await _post(emulator, "/tasks/submit", content=huge)
    assert submit.status_code == 413
    assert "--max-request-bytes" in submit.json()["detail"]  # the v4 (FastAPI) shape
    within = await _post(emulator, "/admin/login", {"email": "a@b.c", "password": TOKEN})
    assert within.status_code == 200


async def test_a_body_without_a_declared_length_is_refused_once_it_passes_the_limit():
    # The middleware alone, fed 100 chunks of 100 bytes: it stops reading at the 11th (> 1,000 bytes).
    pulled = 0
    answers: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": pulled < 100}

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see a body over the limit")

    scope = {"type": "http", "method": "POST", "path": "/admin/login", "headers": []}
    await BodyLimit(app, max_bytes=1000)(scope, receive, send)
    assert pulled == 11
    assert answers[0]["status"] == 413


async def test_allocating_a_million_task_ids_is_refused_without_creating_any(emulator):
    started = time.perf_counter()
    legacy = await _post(
        emulator, f"/{LUCY_HEX}/tasks", {"qpu_id": LUCY_SIM, "task_count": 1_000_000}, headers=AUTH
    )
    assert legacy.status_code == 413
    assert "1000000 tasks" in legacy.json()["response"]["errors"][0]
    assert "--max-tasks-per-request" in legacy.json()["response"]["errors"][0]
    assert time.perf_counter() - started < 1.0  # refused cheaply (margin: it takes milliseconds)
    slots = {"tasks": [{"qpu_id": LUCY_SIM}] * 51}
    v4 = await _post(emulator, "/tasks", slots, headers=AUTH)
    assert v4.status_code == 413
    assert (await _stats(emulator))["task_count"] == 0
    fine = await _post(emulator, "/tasks", {"tasks": [{"qpu_id": LUCY_SIM}] * 50}, headers=AUTH)
    assert fine.status_code == 200 and len(fine.json()["tasks"]) == 50


async def _stats(world: InProcess) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=world.transport(), base_url="http://emulator") as http:
        return (await http.get("/_emulator/stats", headers=AUTH)).json()


def _task(text: str, config: str = CONFIG_100_SHOTS) -> dict[str, Any]:
    return {"qpu_id": LUCY_SIM, "program": text, "config": config}


async def test_a_submit_of_too_many_tasks_is_refused_whole(emulator):
    answer = await _post(emulator, "/tasks/submit", {"tasks": [_task(program(1))] * 51}, headers=AUTH)
    assert answer.status_code == 413
    assert (await _stats(emulator))["task_count"] == 0


async def test_a_program_declaring_fifty_million_qubits_is_refused_before_any_simulator_sees_it(emulator):
    huge = "OPENQASM 3.0;\nqubit[50000000] q;\nbit[1] c;\nc[0] = measure q[0];\n"
    answer = await _post(emulator, "/tasks/submit", {"tasks": [_task(program(1)), _task(huge)]}, headers=AUTH)
    assert answer.status_code == 413
    message = answer.json()["detail"]
    assert "Task 1 (nothing was submitted)" in message and "50000000 qubits" in message
    assert "--max-program-qubits" in message
    stats = await _stats(emulator)
    assert stats["task_count"] == 0  # its innocent neighbour was not submitted either: resend both


async def test_a_result_over_the_size_limit_is_refused_naming_shots_and_bits(emulator):
    # 100 shots x 101 bits = 10,100 result bits > the 10,000 configured.
    wide = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[101]; measure q[0] -> c[0];'
    answer = await _post(emulator, f"/{LUCY_HEX}/tasks/submit", {"tasks": [_task(wide)]}, headers=AUTH)
    assert answer.status_code == 413
    message = answer.json()["response"]["errors"][0]
    assert "100 shots x 101 classical bits" in message and "--max-result-bits" in message
    narrower = wide.replace("creg c[101]", "creg c[100]")  # exactly at the limit: taken
    taken = await _post(emulator, f"/{LUCY_HEX}/tasks/submit", {"tasks": [_task(narrower)]}, headers=AUTH)
    assert taken.status_code == 200


@pytest.mark.slow
def test_the_server_answers_within_a_second_while_it_is_abused():
    """Abusive requests from 3 threads for 3 s; a health check every 50 ms meanwhile is answered within
    1 s each (the issue's bound; an idle answer takes a few ms, so the margin is wide)."""
    settings = EmulatorSettings(required_token=TOKEN)
    stop = threading.Event()
    abuse_answers: list[int] = []
    huge_qubits = {"tasks": [_task("OPENQASM 3.0; qubit[50000000] q;")]}
    million = {"qpu_id": LUCY_SIM, "task_count": 1_000_000}
    big_body = b"{" + b" " * (4 * MAX_REQUEST_BYTES)

    with serve_in_thread(settings) as url:

        def abuse(kind: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not stop.is_set():
                    if kind == 0:
                        response = http.post(f"/{LUCY_HEX}/tasks", json=million, headers=AUTH)
                    elif kind == 1:
                        response = http.post("/tasks/submit", json=huge_qubits, headers=AUTH)
                    else:
                        response = http.post("/admin/login", content=big_body)
                    abuse_answers.append(response.status_code)

        threads = [threading.Thread(target=abuse, args=(kind,), daemon=True) for kind in range(3)]
        for thread in threads:
            thread.start()
        slowest = 0.0
        try:
            with httpx.Client(base_url=url, timeout=5) as http:
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    assert http.get("/admin/version").status_code == 200
                    slowest = max(slowest, time.monotonic() - started)
                    stop.wait(0.05)  # pacing the probe, not ordering events
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
    assert slowest < 1.0, f"a request during the abuse took {slowest:.2f}s"
    assert abuse_answers and set(abuse_answers) == {413}


async def test_limits_are_settings():
    world = InProcess(max_request_bytes=1000, max_program_qubits=4)
    try:
        too_big = await _post(world, "/tasks/submit", content=b" " * 1001)
        assert too_big.status_code == 413
        five = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[5]; creg c[1];'
        answer = await _post(world, "/tasks/submit", {"tasks": [_task(five)]})
        assert answer.status_code == 413 and "limit of 4" in answer.json()["detail"]
    finally:
        world.close()


async def _finished(emulator, task_id: str) -> dict:
    """The task's ``all_info`` once it has ended (polled with a deadline: 600 reads, 0.05 s apart)."""
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator") as http:
        for _ in range(600):
            info = (await http.get(f"/tasks/{task_id}/all_info", headers=AUTH)).json()
            if info["status"] in ("COMPLETED", "FAILED"):
                return info
            await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} did not end: {info}")


async def test_a_program_wider_than_its_qpu_but_within_the_limit_fails_as_qcaas_fails_it(emulator):
    nine = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[9]; creg c[1]; x q[8]; measure q[8] -> c[0];'
    answer = await _post(emulator, "/tasks/submit", {"tasks": [_task(nine)]}, headers=AUTH)
    assert answer.status_code == 200  # taken: QAT refuses it when compiling, so the task FAILS
    info = await _finished(emulator, answer.json()[0]["task_id"])
    assert info["status"] == "FAILED" and "9 qubits" in info["task_error"]["error_message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/tasks/submit", b"[" * 100_000 + b"]" * 100_000),  # within the size limit, past the parser's depth
        (f"/{LUCY_HEX}/tasks/submit", b"[" * 100_000 + b"]" * 100_000),
        ("/admin/login", b"[" * 100_000 + b"]" * 100_000),
        ("/tasks/submit", b'{"tasks": [{"qpu_id": "\\ud800", "program": "x", "config": "{}"}]}'),
        ("/tasks/cancel_many", b'{"tasks": ["\\udfff"]}'),
        ("/tasks", b'{"tasks": [{"qpu_id": "' + LUCY_SIM.encode() + b'", "tag": "\\ud83d"}]}'),
        ("/tasks/submit", b'{"tasks": [{"qpu_id": "\xed\xa0\x80"}]}'),  # a surrogate encoded raw
    ],
)
async def test_malformed_bodies_get_a_4xx_not_a_500(emulator, path, body):
    answer = await _post(emulator, path, content=body, headers={**AUTH, "content-type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert (await _stats(emulator))["task_count"] == 0


async def test_a_surrogate_pair_is_text_not_a_malformed_body(emulator):
    tagged = b'{"tasks": [{"qpu_id": "' + LUCY_SIM.encode() + b'", "tag": "\\ud83d\\ude00"}]}'
    answer = await _post(emulator, "/tasks", content=tagged, headers=AUTH)
    assert answer.status_code == 200


@pytest.mark.parametrize("per_page", ["\u00b2", "\u0663", "-1", "0", "x"])
async def test_a_per_page_that_is_not_a_plain_positive_number_gets_a_400(emulator, per_page):
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://emulator") as http:
        answer = await http.get("/admin/qpu", params={"per_page": per_page}, headers=AUTH)
    assert answer.status_code == 400 and "per_page" in answer.json()["response"]["errors"][0]


async def test_a_result_size_submit_cannot_read_is_refused_once_the_program_is_parsed(emulator):
    # 0x65 (101) is no decimal literal, so submit does not count it; the simulator refuses it unrun.
    program_text = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit[0x65] c;\nx q[0];\nc[0] = measure q[0];\n'
    )
    answer = await _post(emulator, "/tasks/submit", {"tasks": [_task(program_text)]}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    info = await _finished(emulator, answer.json()[0]["task_id"])
    assert info["status"] == "FAILED", info
    assert info["task_error"]["error_code"] == 413, info["task_error"]
    assert "100 shots x 101 classical bits" in info["task_error"]["error_message"]
