"""Health, registry, features, calibration, monitoring and auth, in both server modes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from oqc_provider.devices import CATALOGUE, reference_calibration
from tests.emulator.emulator_helpers import LUCY_SIM, TOSHIKO


async def test_health_in_both_modes_needs_no_auth(make_api):
    api = await make_api(required_token="t0k")
    legacy = await api.client.get("/admin/version")
    v4 = await api.client.get("/healthz")
    assert legacy.status_code == v4.status_code == 200
    assert legacy.json()["version"].startswith("3.")
    assert v4.json()["version"].startswith("4.")


async def test_legacy_registry_lists_every_device_with_per_qpu_urls(api):
    page = (await api.client.get("/admin/qpu", params={"per_page": 1000})).json()
    assert page["total"] == len(CATALOGUE) and page["page"] == 1 and page["per_page"] == 1000
    items = {item["id"]: item for item in page["items"]}
    assert set(items) == set(CATALOGUE)
    lucy = items[LUCY_SIM]
    assert lucy["url"] == "http://emulator/d865b5a184"
    assert lucy["active"] is True and lucy["status"] == "ACTIVE" and lucy["name"] == "Lucy Simulator"
    assert lucy["price_per_shot"] == "0" and lucy["price_per_task"] == "0"
    assert isinstance(lucy["feature_set"], str)
    assert json.loads(lucy["feature_set"]) == CATALOGUE[LUCY_SIM].feature_set()
    one = (await api.client.get(f"/admin/qpu/{TOSHIKO}")).json()
    assert one["id"] == TOSHIKO and json.loads(one["feature_set"])["qubit_count"] == 32


def _emulator_figures(date: str) -> dict:
    """The emulator's Toshiko figures; ``date`` is when it built them (a real, recent time)."""
    built = datetime.fromisoformat(date)
    assert timedelta(0) <= datetime.now(UTC) - built < timedelta(hours=1)
    return reference_calibration(CATALOGUE[TOSHIKO], date=date).model_dump(mode="json")


async def test_v4_registry_features_status_and_benchmarks(api):
    qpus = (await api.client.get("/qpus")).json()
    assert isinstance(qpus, list) and {q["id"] for q in qpus} == set(CATALOGUE)
    features = (await api.client.get(f"/qpus/{LUCY_SIM}/features")).json()
    assert features == {"qpu_id": LUCY_SIM, "data": CATALOGUE[LUCY_SIM].feature_set()}
    status = (await api.client.get(f"/qpus/{TOSHIKO}/status")).json()
    assert status["status"] == "ACTIVE" and status["qpu_id"] == TOSHIKO
    benchmarks = (await api.client.get(f"/qpus/{TOSHIKO}/benchmarks")).json()
    assert benchmarks["data"] == _emulator_figures(benchmarks["data"]["date"])
    search = await api.client.get(f"/qpus/{TOSHIKO}/benchmarks/search", params={"start_date": "2026-01-01"})
    assert search.status_code == 501 and "detail" in search.json()


async def test_legacy_calibration_is_the_noise_models_calibration(api):
    response = await api.client.get(
        "/673b1ad43c/monitoring/calibrations", params={"qpu_id": TOSHIKO, "date": "2026-11-01"}
    )
    assert response.status_code == 200
    assert response.json() == _emulator_figures(response.json()["date"])
    status = (await api.client.get("/673b1ad43c/monitoring/statuses")).json()
    assert status["qpu_id"] == TOSHIKO


async def test_windows_and_wait_times(api):
    window = (await api.client.get("/d865b5a184/windows/next")).json()["next_window"]
    datetime.strptime(window["starting"], "%Y-%m-%dT%H:%M:%SZ")
    assert window["start_time"] == window["starting"]
    history = await api.client.get("/d865b5a184/windows/history")
    assert history.status_code == 200
    response = await api.client.post("/d865b5a184/monitoring/qpu_wait_time", json={"targets": [LUCY_SIM]})
    waits = response.json()
    (wait,) = waits["qpu_wait_times"]
    assert wait["qpu_id"] == LUCY_SIM and wait["tasks_in_queue"] == 0
    assert wait["windows"][0]["window_description"] == "CURRENT"
    v4 = await api.client.post("/monitoring/qpu_wait_time", json={"targets": [TOSHIKO]})
    assert v4.json()["qpu_wait_times"][0]["qpu_id"] == TOSHIKO


async def test_login_answers_flask_security_shape(make_api):
    api = await make_api(required_token="secret")
    assert (await api.client.post("/admin/logout", json={})).status_code == 200
    login = await api.client.post(
        "/admin/login", params={"include_auth_token": "true"}, json={"email": "a@b.c", "password": "secret"}
    )
    assert login.json() == {"meta": {"code": 200}, "response": {"user": {"authentication_token": "secret"}}}


async def test_login_refuses_wrong_credentials_when_a_token_is_required(make_api):
    api = await make_api(required_token="secret", accounts={"ada@oqc.tech": "pw"})
    wrong = [{"email": "a@b.c", "password": "x"}, {"email": "ada@oqc.tech", "password": "secret"}, {}]
    wrong.append({"email": ["ada@oqc.tech"], "password": "pw"})  # not a string: no account, not a crash
    for body in wrong:
        refused = await api.client.post("/admin/login", json=body)
        assert refused.status_code == 400 and "secret" not in refused.text
        assert refused.json()["response"]["errors"] == ["Invalid email or password."]
    accepted = await api.client.post("/admin/login", json={"email": "ada@oqc.tech", "password": "pw"})
    assert accepted.json()["response"]["user"]["authentication_token"] == "secret"
    open_api = await make_api()  # no token required: any credentials get one
    assert (await open_api.client.post("/admin/login", json={})).json()["meta"]["code"] == 200


async def test_emulator_routes_need_the_token_when_one_is_required(make_api):
    api = await make_api(required_token="secret")
    assert (await api.client.get("/_emulator/stats")).status_code == 401
    assert (await api.client.post("/_emulator/reset-counters")).status_code == 401
    allowed = await api.client.get("/_emulator/stats", headers={"Authentication-Token": "secret"})
    assert allowed.status_code == 200 and "executions" in allowed.json()


async def test_required_token_guards_every_other_route_in_the_modes_shape(make_api):
    api = await make_api(required_token="secret")
    legacy = await api.client.get("/admin/qpu")
    assert legacy.status_code == 401
    assert legacy.json()["meta"]["code"] == 401 and legacy.json()["response"]["errors"]
    v4 = await api.client.get("/qpus")
    assert v4.status_code == 401 and isinstance(v4.json()["detail"], str)
    assert "expired" not in v4.json()["detail"].lower()  # only a fault injector says "expired"
    ok_legacy = await api.client.get("/admin/qpu", headers={"Authentication-Token": "secret"})
    ok_v4 = await api.client.get("/qpus", headers={"Authorization": "Bearer secret"})
    assert ok_legacy.status_code == ok_v4.status_code == 200
    wrong = await api.client.get("/qpus", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_any_or_no_token_is_accepted_without_required_token(api):
    assert (await api.client.get("/qpus")).status_code == 200
    assert (await api.client.get("/qpus", headers={"Authentication-Token": "anything"})).status_code == 200


async def test_unknown_qpu_answers_404_in_each_modes_shape(api):
    legacy = await api.client.get("/admin/qpu/qpu:uk:9:0000000000")
    assert legacy.status_code == 404 and "qpu:uk:9:0000000000" in legacy.json()["response"]["errors"][0]
    v4 = await api.client.get("/qpus/qpu:uk:9:0000000000/features")
    assert v4.status_code == 404 and "qpu:uk:9:0000000000" in v4.json()["detail"]
    prefix = await api.client.get("/0000000000/windows/next")
    assert prefix.status_code == 404 and prefix.json()["meta"]["code"] == 404


async def test_fault_injector_seam_can_answer_an_expired_token(make_api):
    from starlette.responses import JSONResponse

    seen: list[str] = []

    async def expire_qpus(request, template):
        seen.append(template)
        if template == "/qpus":
            return JSONResponse({"detail": "Token has expired"}, status_code=401)
        return None

    api = await make_api(fault_injector=expire_qpus)
    expired = await api.client.get("/qpus")
    assert expired.status_code == 401 and expired.json() == {"detail": "Token has expired"}
    assert (await api.client.get("/healthz")).status_code == 200
    assert seen == ["/qpus", "/healthz"]


def test_cli_serve_documents_its_options():
    from typer.testing import CliRunner

    from oqc_provider.cli import app

    result = CliRunner().invoke(app, ["emulator", "serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--latency", "--seed", "--token"):
        assert option in result.output
