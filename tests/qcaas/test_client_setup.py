"""Client set-up through httpx's transport seam: secrets, https rule, mode, auth headers, id allocation."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from oqc_provider.qcaas import errors
from oqc_provider.qcaas.client import QcaasClient, ServerMode
from oqc_provider.qcaas.models import TaskPayload
from oqc_provider.qcaas.retry import RetryPolicy
from tests.qcaas.qcaas_fakes import BASE, QPU_ID, QPU_URL, TASK_ID, TOKEN, FakeQcaas, json_response

QPU_PATH = "/d865b5a184"
ALL_INFO = f"{QPU_PATH}/tasks/{TASK_ID}/all_info"
SUBMIT = f"{QPU_PATH}/tasks/submit"
INFO_BODY = {"id": TASK_ID, "qpu_id": QPU_ID, "status": "RUNNING"}
CONFIG = '{"$type": "<class \'compiler_config.config.CompilerConfig\'>", "$data": {}}'

MakeClient = Callable[..., QcaasClient]


def task(task_id: str | None = None, program: str = "OPENQASM 2.0;") -> TaskPayload:
    return TaskPayload(program=program, qpu_id=QPU_ID, config=CONFIG, task_id=task_id)


# --- secrets ------------------------------------------------------------------------------------------


async def test_the_token_never_leaks(
    fake: FakeQcaas, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("GET", ALL_INFO, json_response(401, {"detail": "bad token"}))
    fake.on(
        "GET", f"{QPU_PATH}/tasks/{TASK_ID}/status", json_response(503, {}), httpx.ConnectError("refused")
    )
    fake.on("POST", SUBMIT, httpx.ReadTimeout("timed out"))
    texts: list[str] = []
    client = make_client()
    texts.append(repr(client))
    with caplog.at_level(logging.DEBUG):
        async with client:
            texts += [repr(client), str(client)]
            for call in (
                client.get_task(QPU_ID, TASK_ID),
                client.get_task_status(QPU_ID, TASK_ID),
                client.submit_tasks(QPU_ID, [task()]),
                client.submit_tasks(QPU_ID, [task(program="y" * 140_000)]),
                client.get_features("qpu:nope:1:0000000000"),
            ):
                with pytest.raises(errors.OqcProviderError) as info:
                    await call
                texts += [str(info.value), repr(info.value), repr(getattr(info.value, "metadata", ""))]
    texts.append(caplog.text)
    assert fake.sent("GET", ALL_INFO)[0].headers["Authentication-Token"] == TOKEN  # it was really used
    for text in texts:
        assert TOKEN not in text


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="allow_insecure"):
        QcaasClient("http://cloud.example.com", token=TOKEN)
    assert (
        QcaasClient("http://cloud.example.com", token=TOKEN, allow_insecure=True).url
        == "http://cloud.example.com"
    )
    for loopback in (
        "http://localhost:4000",
        "http://127.0.0.1:8000/",
        "http://127.3.4.5",
        "http://[::1]:9000",
    ):
        assert QcaasClient(loopback, token=TOKEN).url == loopback.rstrip("/")
    assert QcaasClient(" https://cloud.example.com/// ", token=TOKEN).url == "https://cloud.example.com"
    for bad in ("ftp://cloud.example.com", "cloud.example.com", "https://", ""):
        with pytest.raises(errors.ConfigurationError):
            QcaasClient(bad, token=TOKEN)


# --- mode selection and auth headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ServerMode.LEGACY),
        ({"OQC_QCAAS_V4": "1"}, ServerMode.V4),
        ({"OQC_QCAAS_V4": " TRUE "}, ServerMode.V4),
        ({"OQC_QCAAS_V4": "yes"}, ServerMode.V4),
        ({"OQC_ENTRA_ENABLED": "True"}, ServerMode.V4),
        ({"OQC_QCAAS_V4": "0"}, ServerMode.LEGACY),
        ({"OQC_QCAAS_V4": "no", "OQC_ENTRA_ENABLED": "false"}, ServerMode.LEGACY),
        ({"OQC_QCAAS_V4": "0", "OQC_ENTRA_ENABLED": "1"}, ServerMode.V4),
    ],
)
def test_mode_from_the_environment(
    env: dict[str, str], expected: ServerMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OQC_QCAAS_V4", raising=False)
    monkeypatch.delenv("OQC_ENTRA_ENABLED", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert QcaasClient(BASE, token=TOKEN).mode is expected
    assert QcaasClient(BASE, token=TOKEN, mode="legacy").mode is ServerMode.LEGACY  # an argument wins
    assert QcaasClient(BASE, token=TOKEN, mode=ServerMode.V4).mode is ServerMode.V4


async def test_legacy_auth_header(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", f"{QPU_PATH}/tasks/{TASK_ID}/status", json_response(200, {"status": "RUNNING"}))
    async with make_client(mode="legacy") as client:
        await client.list_qpus()
        await client.get_task_status(QPU_ID, TASK_ID)
    (version,) = fake.sent("GET", "/admin/version")
    assert "Authentication-Token" not in version.headers and "Authorization" not in version.headers
    for request in [*fake.sent("GET", "/admin/qpu"), *fake.sent("GET", f"{QPU_PATH}/tasks/{TASK_ID}/status")]:
        assert request.headers["Authentication-Token"] == TOKEN
        assert "Authorization" not in request.headers
    assert fake.sent("GET", "/admin/qpu")[0].url.params["per_page"] == "1000"


async def test_v4_auth_header() -> None:
    fake = FakeQcaas(ServerMode.V4)
    fake.on("GET", "/qpus", json_response(200, [{"id": QPU_ID, "name": "Simulator", "status": "ACTIVE"}]))
    fake.on("GET", f"/tasks/{TASK_ID}/status", json_response(200, {"status": "RUNNING"}))
    async with QcaasClient(BASE, token=TOKEN, mode="v4", transport=httpx.MockTransport(fake)) as client:
        assert [q.id for q in await client.list_qpus()] == [QPU_ID]
        assert await client.get_task_status(QPU_ID, TASK_ID) == "RUNNING"
    (health,) = fake.sent("GET", "/healthz")
    assert "Authorization" not in health.headers and "Authentication-Token" not in health.headers
    for request in [*fake.sent("GET", "/qpus"), *fake.sent("GET", f"/tasks/{TASK_ID}/status")]:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "Authentication-Token" not in request.headers
    assert not fake.sent("GET", "/admin/qpu")  # no registry in v4


async def test_no_token_sends_no_auth_header(fake: FakeQcaas, make_client: MakeClient) -> None:
    async with make_client(token=None) as client:
        await client.list_qpus()
    assert "Authentication-Token" not in fake.sent("GET", "/admin/qpu")[0].headers


# --- request counting and QPU resolution ------------------------------------------------------------------


async def test_request_count_includes_retries(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", ALL_INFO, json_response(503, {}), json_response(200, INFO_BODY))
    client = make_client()
    assert client.request_count == 0
    async with client:
        await client.get_task(QPU_ID, TASK_ID)
        assert client.request_count == len(fake.requests)  # health, registry, 2 x all_info
    assert len(fake.requests) == 4


async def test_an_unknown_legacy_qpu_lists_the_active_ones(fake: FakeQcaas, make_client: MakeClient) -> None:
    async with make_client() as client:
        with pytest.raises(errors.UnknownQpuError) as info:
            await client.get_task("qpu:uk:3:0000000000", TASK_ID)  # listed, but inactive
    assert QPU_ID in str(info.value)
    assert isinstance(info.value, ValueError)
    assert QPU_URL.startswith("https://uk.qcaas.test")


async def test_a_closed_client_says_so(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(RuntimeError, match="not open"):
        await client.list_qpus()
    await client.close()  # safe before open


class NetworkLike(httpx.AsyncBaseTransport):
    """A transport that, as far as the client can tell, goes out on the network."""

    def __init__(self, handler: FakeQcaas) -> None:
        self._mock = httpx.MockTransport(handler)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._mock.handle_async_request(request)


def test_a_custom_network_transport_does_not_bypass_the_https_rule() -> None:
    with pytest.raises(errors.ConfigurationError, match="allow_insecure"):
        QcaasClient("http://cloud.example.com", token=TOKEN, transport=NetworkLike(FakeQcaas()))
    with pytest.raises(errors.ConfigurationError):
        QcaasClient("http://cloud.example.com", token=TOKEN, transport=httpx.AsyncHTTPTransport(retries=2))
    # In-process transports never touch a network.
    QcaasClient("http://emulator", token=TOKEN, transport=httpx.MockTransport(FakeQcaas()))


async def test_a_plain_http_qpu_url_from_the_registry_is_refused() -> None:
    fake = FakeQcaas()
    registry = {"items": [{"id": QPU_ID, "url": "http://uk.qcaas.test/d865b5a184", "active": True}]}
    fake.on("GET", "/admin/qpu", json_response(200, registry))
    fake.on("GET", "/d865b5a184/tasks/" + TASK_ID + "/all_info", json_response(200, INFO_BODY))
    async with QcaasClient(BASE, token=TOKEN, mode="legacy", transport=NetworkLike(fake)) as client:
        with pytest.raises(errors.ConfigurationError, match="unencrypted"):
            await client.get_task(QPU_ID, TASK_ID)
    assert not fake.sent("GET", ALL_INFO)
    async with QcaasClient(
        BASE, token=TOKEN, mode="legacy", transport=NetworkLike(fake), allow_insecure=True
    ) as client:
        assert (await client.get_task(QPU_ID, TASK_ID)).status == "RUNNING"


async def test_a_failed_open_leaves_no_connection_pool_behind(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", "/admin/version", json_response(500, {}))
    client = make_client(retry=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.TransientServerError):
        async with client:
            pass
    assert "open=False" in repr(client)
    assert len(fake.sent("GET", "/admin/version")) == 1  # one try (max_attempts=1), then closed
    assert client.request_count == 1  # the count outlives the pool


@pytest.mark.parametrize("mode", ["legacy", "v4"])
async def test_create_task_ids_body_shapes(mode: str) -> None:
    fake = FakeQcaas(ServerMode(mode))
    ids = [TASK_ID, "5eaf0000-0000-4000-8000-000000000001"]
    path = "/tasks" if mode == "v4" else f"{QPU_PATH}/tasks"
    fake.on("POST", path, json_response(200, {"tasks": ids} if mode == "v4" else ids))
    async with QcaasClient(BASE, token=TOKEN, mode=mode, transport=httpx.MockTransport(fake)) as client:
        got = await client.create_task_ids(QPU_ID, 2, tag="t")
        assert [str(i) for i in got] == ids
        with pytest.raises(errors.ProtocolError, match="3 task ids"):
            await client.create_task_ids(QPU_ID, 3)
    body = json.loads(fake.sent("POST", path)[0].content)
    if mode == "v4":
        assert body == {"tasks": [{"qpu_id": QPU_ID, "tag": "t"}] * 2}
    else:
        assert body == {"qpu_id": QPU_ID, "task_count": 2, "tag": "t"}
