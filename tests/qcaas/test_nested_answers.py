"""A server answering JSON nested past the parser's depth gets a typed ProtocolError, never a bare
RecursionError: on a success (the answer cannot be read) and on an error answer (its status still
decides the error, the body is just not readable)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from oqc_provider.qcaas import errors
from oqc_provider.qcaas.client import QcaasClient
from tests.qcaas.qcaas_fakes import QPU_ID, TASK_ID, FakeQcaas

ALL_INFO = f"/d865b5a184/tasks/{TASK_ID}/all_info"
NESTED = b"[" * 100_000 + b"]" * 100_000


def nested(status: int) -> httpx.Response:
    return httpx.Response(status, content=NESTED, headers={"content-type": "application/json"})


async def test_a_success_nested_too_deeply_is_a_protocol_error(
    fake: FakeQcaas, make_client: Callable[..., QcaasClient]
) -> None:
    fake.on("GET", ALL_INFO, nested(200))
    async with make_client() as client:
        with pytest.raises(errors.ProtocolError, match="nested too deeply"):
            await client.get_task(QPU_ID, TASK_ID)


async def test_an_error_answer_nested_too_deeply_keeps_its_status(
    fake: FakeQcaas, make_client: Callable[..., QcaasClient]
) -> None:
    fake.on("GET", ALL_INFO, nested(404))
    async with make_client() as client:
        with pytest.raises(errors.NotFoundError):
            await client.get_task(QPU_ID, TASK_ID)
