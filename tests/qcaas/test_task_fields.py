"""The task's object endpoints (``execution_metadata``, ``metadata``, ``timings``) give a dict or None:
anything else the server answers is a typed ProtocolError, not a string handed on as if it were a dict."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from oqc_provider.qcaas import errors
from oqc_provider.qcaas.client import QcaasClient
from tests.qcaas.qcaas_fakes import QPU_ID, TASK_ID, FakeQcaas

TASK = f"/d865b5a184/tasks/{TASK_ID}"


async def test_an_object_endpoint_answering_a_string_is_a_protocol_error(
    fake: FakeQcaas, make_client: Callable[..., QcaasClient]
) -> None:
    fake.on("GET", f"{TASK}/timings", httpx.Response(200, json={"timings": "soon"}))
    async with make_client() as client:
        with pytest.raises(errors.ProtocolError, match="timings answered 'soon', expected an object or null"):
            await client.get_task_timings(QPU_ID, TASK_ID)


async def test_object_endpoints_give_their_object_or_none(
    fake: FakeQcaas, make_client: Callable[..., QcaasClient]
) -> None:
    fake.on("GET", f"{TASK}/metadata", httpx.Response(200, json={"metadata": {"tag": "x"}}))
    fake.on("GET", f"{TASK}/execution_metadata", httpx.Response(200, json={"execution_metadata": None}))
    async with make_client() as client:
        assert await client.get_task_metadata(QPU_ID, TASK_ID) == {"tag": "x"}
        assert await client.get_task_execution_metadata(QPU_ID, TASK_ID) is None
