"""Retries, error mapping, the size limit and server notices, through httpx's transport seam."""

from __future__ import annotations

import email.utils
import itertools
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from oqc_provider.qcaas import errors
from oqc_provider.qcaas.client import QcaasClient, ServerMode
from oqc_provider.qcaas.models import TaskPayload
from oqc_provider.qcaas.retry import RetryPolicy
from tests.qcaas.qcaas_fakes import BASE, QPU_ID, TASK_ID, TOKEN, FakeQcaas, json_response

QPU_PATH = "/d865b5a184"
ALL_INFO = f"{QPU_PATH}/tasks/{TASK_ID}/all_info"
SUBMIT = f"{QPU_PATH}/tasks/submit"
INFO_BODY = {"id": TASK_ID, "qpu_id": QPU_ID, "status": "RUNNING"}
CONFIG = '{"$type": "<class \'compiler_config.config.CompilerConfig\'>", "$data": {}}'

MakeClient = Callable[..., QcaasClient]


def task(task_id: str | None = None, program: str = "OPENQASM 2.0;") -> TaskPayload:
    return TaskPayload(program=program, qpu_id=QPU_ID, config=CONFIG, task_id=task_id)


# --- retries of idempotent requests ---------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried_for_gets_then_raised(
    status: int, fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, json_response(status, {"detail": "busy"}))
    async with make_client() as client:
        with pytest.raises(errors.TransientServerError) as info:
            await client.get_task(QPU_ID, TASK_ID)
    assert info.value.server_error_code == status
    assert isinstance(info.value, errors.ConnectionFailureException)
    assert len(fake.sent("GET", ALL_INFO)) == 4  # FAST.max_attempts


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_a_transient_failure_then_success_returns_the_answer(
    status: int, fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, json_response(status, {}), json_response(200, INFO_BODY))
    async with make_client() as client:
        info = await client.get_task(QPU_ID, TASK_ID)
    assert info.status == "RUNNING"
    assert len(fake.sent("GET", ALL_INFO)) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow read"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_transport_failures_are_retried_for_gets(
    failure: Exception, fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, failure, json_response(200, INFO_BODY))
    async with make_client() as client:
        assert (await client.get_task(QPU_ID, TASK_ID)).status == "RUNNING"
    assert len(fake.sent("GET", ALL_INFO)) == 2


async def test_transport_failures_exhaust_into_service_unavailable(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, httpx.ReadTimeout("slow"))
    async with make_client() as client:
        with pytest.raises(errors.ServiceUnavailableError) as info:
            await client.get_task(QPU_ID, TASK_ID)
    assert info.value.connect_failed is False
    assert info.value.server_error_code == -1
    assert len(fake.sent("GET", ALL_INFO)) == 4


async def test_retry_after_seconds_is_honoured(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", ALL_INFO, json_response(429, {}, **{"Retry-After": "0.3"}), json_response(200, INFO_BODY))
    async with make_client() as client:
        started = time.monotonic()
        await client.get_task(QPU_ID, TASK_ID)
        waited = time.monotonic() - started
    assert waited >= 0.3  # the point: not sooner than asked (later is the machine's business)
    assert len(fake.sent("GET", ALL_INFO)) == 2


async def test_retry_after_http_date_is_honoured(fake: FakeQcaas, make_client: MakeClient) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=2)
    header = email.utils.format_datetime(when, usegmt=True)  # whole seconds: waits 1-2 s
    fake.on("GET", ALL_INFO, json_response(503, {}, **{"Retry-After": header}), json_response(200, INFO_BODY))
    async with make_client() as client:
        started = time.monotonic()
        await client.get_task(QPU_ID, TASK_ID)
        waited = time.monotonic() - started
    assert waited >= 0.9  # the point: not sooner than the date (whole seconds: 1-2 s)
    assert len(fake.sent("GET", ALL_INFO)) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("garbage", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
async def test_retry_after_is_parsed_onto_the_error(
    header: str, expected: float | None, fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, json_response(503, {}, **{"Retry-After": header}))
    async with make_client(retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(errors.TransientServerError) as info:
            await client.get_task(QPU_ID, TASK_ID)
    assert info.value.retry_after == expected


async def test_retry_after_http_date_in_the_future_is_read_as_seconds(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    header = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    fake.on("GET", ALL_INFO, json_response(503, {}, **{"Retry-After": header}))
    async with make_client(retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(errors.TransientServerError) as info:
            await client.get_task(QPU_ID, TASK_ID)
    assert info.value.retry_after is not None
    assert 58 <= info.value.retry_after <= 60


async def test_a_retry_after_beyond_the_limit_is_not_waited_for(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, json_response(503, {}, **{"Retry-After": "30"}), json_response(200, INFO_BODY))
    policy = RetryPolicy(max_attempts=5, initial_wait=0.0, jitter=0.0, max_retry_after=1.0)
    async with make_client(retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(errors.TransientServerError) as info:
            await client.get_task(QPU_ID, TASK_ID)
        # The point is time: 30 s were asked; 5 s leaves room for any machine and still fails
        # if the client waited as asked.
        assert time.monotonic() - started < 5.0
    assert info.value.retry_after == 30
    assert len(fake.sent("GET", ALL_INFO)) == 1


async def test_the_deadline_stops_retries(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", ALL_INFO, json_response(503, {}))
    policy = RetryPolicy(max_attempts=100, initial_wait=0.1, max_wait=0.1, jitter=0.0)
    async with make_client(retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(errors.TransientServerError):
            await client.get_task(QPU_ID, TASK_ID, deadline=started + 0.35)
        elapsed = time.monotonic() - started
    # No retry starts past the deadline: 3 tries fit in 0.35 s at 0.1 s apart (the 100 allowed
    # would take 10 s). The time is the point: 0.5 s of margin past the deadline, as the engine's.
    assert elapsed < 0.35 + 0.5
    assert 2 <= len(fake.sent("GET", ALL_INFO)) <= 4


async def test_backoff_grows_between_retries(fake: FakeQcaas, make_client: MakeClient) -> None:
    stamps: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return json_response(502, {})

    fake.on("GET", ALL_INFO, busy)
    policy = RetryPolicy(max_attempts=4, initial_wait=0.05, max_wait=0.12, jitter=0.0)
    async with make_client(retry=policy) as client:
        with pytest.raises(errors.TransientServerError):
            await client.get_task(QPU_ID, TASK_ID)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.12
    assert gaps[2] < 0.5  # capped by max_wait


def test_retry_policy_backoff_and_validation() -> None:
    policy = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=4.0, jitter=0.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    with pytest.raises(errors.ConfigurationError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(errors.ConfigurationError):
        RetryPolicy(initial_wait=-1)
    not_transient = errors.NotFoundError("gone", 404)
    assert policy.wait_before_retry(1, not_transient, None) is None
    assert policy.wait_before_retry(5, errors.TransientServerError("x", 503), None) is None


# --- the environment's retry count -----------------------------------------------------------------


def test_retry_count_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OQC_SDK_MAX_TRANSPORT_RETRIES", raising=False)
    assert RetryPolicy.from_env().max_attempts == 5
    monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", "3")
    assert RetryPolicy.from_env().max_attempts == 3
    for bad in ("zero", "0", "-2"):
        monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", bad)
        with pytest.raises(errors.ConfigurationError, match=r"OQC_SDK_MAX_TRANSPORT_RETRIES|at least 1"):
            RetryPolicy.from_env()


@pytest.mark.parametrize("attempts", [1, 2])
async def test_the_client_honours_the_environments_retry_count(
    attempts: int, monkeypatch: pytest.MonkeyPatch, fake: FakeQcaas
) -> None:
    monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", str(attempts))
    fake.on("GET", ALL_INFO, json_response(503, {}))
    async with QcaasClient(BASE, token=TOKEN, mode="legacy", transport=httpx.MockTransport(fake)) as client:
        with pytest.raises(errors.TransientServerError):
            await client.get_task(QPU_ID, TASK_ID)
    assert len(fake.sent("GET", ALL_INFO)) == attempts


# --- submit: never resent blindly -----------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [json_response(503, {"detail": "busy"}), json_response(500, {}), httpx.ReadTimeout("slow read")],
    ids=["503", "500", "ReadTimeout"],
)
async def test_submit_without_ids_is_not_retried(
    failure: object, fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("POST", SUBMIT, failure, json_response(200, [{"task_id": TASK_ID}]))
    async with make_client() as client:
        with pytest.raises(errors.TransientServerError):
            await client.submit_tasks(QPU_ID, [task()])
    assert len(fake.sent("POST", SUBMIT)) == 1


async def test_submit_is_retried_when_the_connection_was_refused(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("POST", SUBMIT, httpx.ConnectError("refused"), json_response(200, [{"task_id": TASK_ID}]))
    async with make_client() as client:
        ids = await client.submit_tasks(QPU_ID, [task()])
    assert [str(i) for i in ids] == [TASK_ID]
    assert len(fake.sent("POST", SUBMIT)) == 2


async def test_a_submit_is_never_resent_even_with_preallocated_ids(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    """The protocol does not say what a server does with an id it already has (it may run it
    again), so the wire never resends a submit that may have arrived; the engine asks first."""
    other = "5eaf0000-0000-4000-8000-000000000001"
    fake.on("POST", SUBMIT, httpx.ReadTimeout("slow"), json_response(200, [{"task_id": TASK_ID}]))
    async with make_client() as client:
        with pytest.raises(errors.ServiceUnavailableError) as info:
            await client.submit_tasks(QPU_ID, [task(TASK_ID), task(other)])
    assert info.value.connect_failed is False
    assert len(fake.sent("POST", SUBMIT)) == 1


async def test_submit_body_shape(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("POST", SUBMIT, json_response(200, [{"task_id": TASK_ID}]))
    async with make_client() as client:
        await client.submit_tasks(QPU_ID, [task().model_copy(update={"qpu_id": "overwritten"})])
    body = json.loads(fake.sent("POST", SUBMIT)[0].content)
    assert body == {"tasks": [{"program": "OPENQASM 2.0;", "qpu_id": QPU_ID, "config": CONFIG}]}
    assert fake.sent("POST", SUBMIT)[0].url.host == "uk.qcaas.test"  # the QPU's own URL


async def test_a_request_over_128_kib_is_refused_without_sending(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("POST", SUBMIT, json_response(200, [{"task_id": TASK_ID}]))
    async with make_client() as client:
        before = len(fake.requests)
        with pytest.raises(errors.RequestTooLargeError, match="131072") as info:
            await client.submit_tasks(QPU_ID, [task(program="x" * (128 * 1024))])
        assert isinstance(info.value, ValueError)
        # Nothing went out apart from (possibly) the registry read that resolves the QPU URL.
        assert fake.sent("POST", SUBMIT) == []
        assert all(r.url.path == "/admin/qpu" for r in fake.requests[before:])
        # Just under the limit is sent.
        await client.submit_tasks(QPU_ID, [task(program="x" * (120 * 1024))])
    assert len(fake.sent("POST", SUBMIT)) == 1


# --- error mapping ------------------------------------------------------------------------------------

LEGACY_ERROR = {"meta": {"code": 0}, "response": {"errors": ["Task belongs to another user"]}}


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (401, {"detail": "Token has expired"}, errors.AuthenticationError, "Token has expired"),
        (401, LEGACY_ERROR, errors.AuthenticationError, "Task belongs to another user"),
        (403, {"detail": "QPU not in your plan"}, errors.AuthenticationError, "QPU not in your plan"),
        (404, LEGACY_ERROR, errors.NotFoundError, "Task belongs to another user"),
        (404, {"detail": "Task not found"}, errors.NotFoundError, "Task not found"),
        (400, LEGACY_ERROR, errors.RequestRejectedError, "Task belongs to another user"),
        (
            422,
            {"detail": [{"loc": ["body", "tasks"], "msg": "field required"}]},
            errors.RequestRejectedError,
            "field required",
        ),
        (409, {"detail": "conflict"}, errors.RequestRejectedError, "conflict"),
        (418, {"message": "teapot"}, errors.ServerError, "teapot"),
    ],
)
async def test_error_statuses_map_to_typed_errors_with_the_servers_message(
    status: int, body: object, kind: type, message: str, fake: FakeQcaas, make_client: MakeClient
) -> None:
    if isinstance(body, dict) and "meta" in body:
        body = {**body, "meta": {"code": status}}
    fake.on("GET", ALL_INFO, json_response(status, body))
    async with make_client() as client:
        with pytest.raises(kind) as info:
            await client.get_task(QPU_ID, TASK_ID)
    error = info.value
    assert type(error) is kind
    assert message in str(error)
    assert error.server_error_code == status == error.status_code
    assert error.metadata == body
    assert isinstance(error, errors.ServerException)
    assert len(fake.sent("GET", ALL_INFO)) == 1  # never retried


async def test_a_non_json_error_body_is_surfaced_as_text(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", ALL_INFO, httpx.Response(404, text="<html>Not Found</html>"))
    async with make_client() as client:
        with pytest.raises(errors.NotFoundError, match="Not Found"):
            await client.get_task(QPU_ID, TASK_ID)


async def test_a_success_that_is_not_json_is_a_protocol_error(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, httpx.Response(200, text="<html>login page</html>"))
    async with make_client() as client:
        with pytest.raises(errors.ProtocolError, match="not JSON"):
            await client.get_task(QPU_ID, TASK_ID)


async def test_a_success_of_the_wrong_shape_is_a_protocol_error(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    fake.on("GET", ALL_INFO, json_response(200, {"no_status": True}))
    async with make_client() as client:
        with pytest.raises(errors.ProtocolError, match="all_info"):
            await client.get_task(QPU_ID, TASK_ID)


async def test_an_unreachable_service_raises_on_open(fake: FakeQcaas, make_client: MakeClient) -> None:
    fake.on("GET", "/admin/version", httpx.ConnectError("Connection refused"))
    client = make_client()
    with pytest.raises(errors.ServiceUnavailableError) as info:
        await client.open()
    await client.close()
    assert info.value.connect_failed
    assert "qcaas.test" in str(info.value)


async def test_v4_health_without_version_is_a_protocol_error(make_client: MakeClient) -> None:
    fake = FakeQcaas(ServerMode.V4).on("GET", "/healthz", json_response(200, {"status": "ok"}))
    client = QcaasClient(BASE, token=TOKEN, mode="v4", transport=httpx.MockTransport(fake))
    with pytest.raises(errors.ProtocolError):
        await client.open()
    await client.close()


# --- server notices ---------------------------------------------------------------------------------


async def test_server_messages_are_logged(
    fake: FakeQcaas, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = {**INFO_BODY, "message": "Maintenance on Sunday", "messages": ["Warning: v3 API is deprecated", 5]}
    fake.on("GET", ALL_INFO, json_response(200, body))
    async with make_client() as client:
        with caplog.at_level(logging.DEBUG, logger="oqc_provider"):
            await client.get_task(QPU_ID, TASK_ID)
    levels = {r.getMessage(): r.levelno for r in caplog.records if "QCaaS says" in r.getMessage()}
    assert levels == {
        "QCaaS says: Maintenance on Sunday": logging.INFO,
        "QCaaS says: Warning: v3 API is deprecated": logging.WARNING,
    }


# --- cookies -------------------------------------------------------------------------------------


async def test_a_cookie_a_load_balancer_sets_is_sent_back_and_answers_without_one_keep_it(
    fake: FakeQcaas, make_client: MakeClient
) -> None:
    """The client skips the cookie jar for answers that set no cookie (a poll's CPU), but a
    sticky-session cookie set by something in front of QCaaS still goes back on later requests."""
    sticky = httpx.Response(200, json=INFO_BODY, headers={"Set-Cookie": "lb=node-7; Path=/"})
    fake.on("GET", ALL_INFO, json_response(200, INFO_BODY), sticky, json_response(200, INFO_BODY))
    async with make_client() as client:
        for _ in range(4):
            await client.get_task(QPU_ID, TASK_ID)
    polls = fake.sent("GET", ALL_INFO)
    assert [request.headers.get("cookie") for request in polls] == [None, None, "lb=node-7", "lb=node-7"]
