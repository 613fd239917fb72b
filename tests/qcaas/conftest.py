"""Fixtures for the wire-layer tests (helpers live in ``qcaas_fakes``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from oqc_provider.qcaas.client import QcaasClient
from tests.qcaas.qcaas_fakes import BASE, FAST, TOKEN, FakeQcaas


@pytest.fixture
def fake() -> FakeQcaas:
    return FakeQcaas()


@pytest.fixture
def make_client(fake: FakeQcaas) -> Callable[..., QcaasClient]:
    """``make_client(mode=..., retry=...)``: a client talking to ``fake`` through MockTransport."""

    def make(**kwargs: Any) -> QcaasClient:
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("mode", fake.mode)
        return QcaasClient(BASE, transport=httpx.MockTransport(fake), **kwargs)

    return make
