"""The emulator's fault plans: each kind looks to a client as it would from a real network."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.faults import FaultPlan, FaultPlanError, route_name
from oqc_provider.emulator.testing import serve_in_thread
from tests.reliability.helpers import (
    LUCY_SIM,
    RESUBMIT_POLICIES,
    InProcess,
    program,
    serve_cli_emulator,
    served_stats,
)

SUBMIT_V4 = "/tasks/submit"


def task_body(task_id: str, index: int = 0) -> dict:
    return {
        "tasks": [
            {
                "task_id": task_id,
                "program": program(index),
                "config": '{"$type": "<class \'compiler_config.config.CompilerConfig\'>", "$data": {}}',
                "qpu_id": LUCY_SIM,
            }
        ]
    }


@pytest.fixture(params=RESUBMIT_POLICIES)
def policy(request) -> str:
    """Each test runs against a server that answers, refuses (409) or re-runs a re-submitted id."""
    return request.param


@pytest.fixture
def emulators(policy):
    made: list[InProcess] = []

    def make(plan: FaultPlan | None = None, **settings) -> InProcess:
        emulator = InProcess(faults=plan, **{"resubmit": policy, **settings})
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.close()


@pytest.mark.parametrize(
    ("kind", "status"), [("500", 500), ("502", 502), ("503", 503), ("429", 429), ("401", 401)]
)
async def test_each_status_kind_answers_in_the_routes_shape(emulators, kind, status):
    emulator = emulators(FaultPlan(rate=1.0, seed=1, kinds=(kind,), routes=frozenset({"qpus"})))
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        v4 = await http.get("/qpus")
        legacy = await http.get("/admin/qpu")
        healthy = await http.get("/healthz")  # another route: untouched
    assert v4.status_code == legacy.status_code == status
    assert healthy.status_code == 200
    if kind == "401":
        assert v4.json() == {"detail": "Token has expired"}
    else:
        assert "injected" in v4.json()["detail"]
        assert legacy.json()["meta"]["code"] == status and legacy.json()["response"]["errors"]
    if kind == "429":
        assert float(v4.headers["Retry-After"]) == pytest.approx(0.5)
    faults = (await emulator.stats())["faults"]
    assert faults["injected"] == {kind: 2} and faults["total"] == 2


async def test_a_dropped_connection_is_a_transport_error_in_process(emulators):
    emulator = emulators(FaultPlan(rate=1.0, kinds=("drop",), routes=frozenset({"qpus"})))
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/qpus")


def test_a_dropped_connection_breaks_the_socket_when_served():
    plan = FaultPlan(rate=1.0, kinds=("drop",), routes=frozenset({"qpus"}))
    with serve_in_thread(EmulatorSettings(faults=plan)) as url:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.get(f"{url}/qpus", timeout=5)
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        assert served_stats(url)["faults"]["injected"] == {"drop": 1}


def test_a_slow_answer_outlasts_the_clients_read_timeout_when_served():
    plan = FaultPlan(rate=1.0, kinds=("slow",), routes=frozenset({"qpus"}), slow_seconds=1.0)
    with serve_in_thread(EmulatorSettings(faults=plan)) as url, pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{url}/qpus", timeout=httpx.Timeout(5.0, read=0.2))


async def test_a_fault_after_the_handler_leaves_the_submitted_task_stored(emulators, policy):
    """The ambiguous case: the client sees a 503, yet the server has the task. Sent again with
    the same id, it is answered (idempotent), refused with 409 (refuse) or run again (rerun)."""
    emulator = emulators(
        FaultPlan(rate=1.0, kinds=("503",), phases=("after",), routes=frozenset({"submit"}), limit=1)
    )
    task_id = str(uuid.uuid4())
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        first = await http.post(SUBMIT_V4, json=task_body(task_id))
        assert first.status_code == 503
        status = await http.get(f"/tasks/{task_id}/status")
        assert status.json()["status"] in ("SUBMITTED", "RUNNING", "COMPLETED")
        again = await http.post(SUBMIT_V4, json=task_body(task_id))
    expected = {"idempotent": (200, 1), "refuse": (409, 1), "rerun": (200, 2)}[policy]
    assert (again.status_code, (await emulator.stats())["submissions"]) == expected
    if policy != "refuse":
        assert again.json() == [{"task_id": task_id}]
    stats = await emulator.stats()
    assert stats["submitted_task_count"] == 1
    assert stats["queued_more_than_once"] == ([task_id] if policy == "rerun" else [])
    assert stats["faults"]["by_route"] == {"submit:after": 1}


async def test_a_fault_before_the_handler_stores_nothing(emulators):
    emulator = emulators(
        FaultPlan(rate=1.0, kinds=("502",), phases=("before",), routes=frozenset({"submit"}), limit=1)
    )
    task_id = str(uuid.uuid4())
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        assert (await http.post(SUBMIT_V4, json=task_body(task_id))).status_code == 502
        assert (await http.get(f"/tasks/{task_id}/status")).status_code == 404
    assert (await emulator.stats())["submitted_task_count"] == 0


async def test_the_same_seed_injects_the_same_faults(emulators):
    async def pattern(seed: int) -> list[int]:
        emulator = emulators(FaultPlan(rate=0.5, seed=seed, kinds=("500", "503", "429")))
        async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
            return [(await http.get("/healthz")).status_code for _ in range(40)]

    first, second = await pattern(42), await pattern(42)
    assert first == second and set(first) > {200}
    assert first != await pattern(43)


async def test_the_limit_caps_how_many_faults_are_injected(emulators):
    emulator = emulators(FaultPlan(rate=1.0, kinds=("503",), limit=3))
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        codes = await asyncio.gather(*(http.get("/healthz") for _ in range(6)))
    assert sorted(r.status_code for r in codes) == [200, 200, 200, 503, 503, 503]


def test_route_names_cover_both_layouts():
    assert route_name("/{qpu_hex}/tasks/submit", "POST") == route_name("/tasks/submit", "POST") == "submit"
    assert route_name("/{qpu_hex}/tasks", "POST") == "allocate"
    assert route_name("/admin/version", "GET") == route_name("/healthz", "GET") == "health"
    assert route_name("/{qpu_hex}/tasks/cancel_many", "POST") == "cancel"


def test_a_bad_plan_is_refused_with_the_choices():
    with pytest.raises(FaultPlanError, match="choose from"):
        FaultPlan(rate=0.1, kinds=("504",))
    with pytest.raises(FaultPlanError, match="between 0 and 1"):
        FaultPlan(rate=1.5)


def test_cli_serve_takes_fault_options_and_binds_loopback_by_default():
    from typer.testing import CliRunner

    from oqc_provider.cli import app

    result = CliRunner().invoke(app, ["emulator", "serve", "--help"])
    assert result.exit_code == 0
    for option in ("--fault-rate", "--fault-seed", "--fault-kinds", "--fault-routes"):
        assert option in result.output
    assert "127.0.0.1" in result.output  # the default host: nothing exposed by accident
    bad = CliRunner().invoke(app, ["emulator", "serve", "--fault-rate", "0.2", "--fault-kinds", "teapot"])
    assert bad.exit_code != 0 and "teapot" in bad.output


async def test_kinds_can_be_weighted_and_routes_given_their_own_rates(emulators):
    plan = FaultPlan.parse(rate=0.0, seed=3, kinds="503:1,429:0", routes="qpus:1.0,healthz")
    emulator = emulators(plan)
    async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
        qpus = [(await http.get("/qpus")).status_code for _ in range(10)]
        health = [(await http.get("/healthz")).status_code for _ in range(10)]
    assert qpus == [503] * 10  # rate 1 on this route, and 429 weighs nothing
    assert health == [200] * 10  # listed without a rate: the plan's rate, 0
    with pytest.raises(FaultPlanError, match="NAME:NUMBER"):
        FaultPlan.parse(rate=0.1, kinds="503:lots")


@pytest.mark.slow
def test_the_cli_serves_faults_and_the_resubmit_policy_from_its_flags():
    flags = ("--fault-rate", "1", "--fault-seed", "5", "--fault-kinds", "503", "--fault-routes", "qpus")
    server, url = serve_cli_emulator(*flags, "--resubmit", "refuse")
    try:
        assert httpx.get(f"{url}/qpus", timeout=5).status_code == 503
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        faults = served_stats(url)["faults"]
        assert faults["injected"] == {"503": 1} and faults["seed"] == 5
        task_id = str(uuid.uuid4())
        first = httpx.post(f"{url}{SUBMIT_V4}", json=task_body(task_id), timeout=30)
        again = httpx.post(f"{url}{SUBMIT_V4}", json=task_body(task_id), timeout=30)
        assert (first.status_code, again.status_code) == (200, 409)
        assert served_stats(url)["submissions"] == 1
    finally:
        server.kill()
        server.wait()
