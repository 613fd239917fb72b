"""Engine tests run against the emulator mounted in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.engine import OqcSdk

LUCY_SIM = "qpu:uk:2:d865b5a184"
TOSHIKO = "qpu:jp:3:673b1ad43c"
BELL = (
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; '
    # H(0) then CX(0,1), in Lucy's native gates (as Qiskit transpiles it for the coupling 0 -> 1).
    "rz(pi/2) q[0]; sx q[0]; rz(-pi) q[1]; sx q[1]; rz(-pi) q[1]; ecr q[0],q[1]; x q[0]; "
    "measure q[0] -> c[0]; measure q[1] -> c[1];"
)
ONE = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'
BAD = 'OPENQASM 5.0; include "qelib1.inc"; qreg q[1]; creg c[1]; h q[0]; measure q[0] -> c[0];'


class Emulator:
    """An in-process emulator plus a raw HTTP view of its counters."""

    def __init__(self, **settings: Any) -> None:
        self.app = create_app(EmulatorSettings(**settings))

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self.transport(), base_url="http://emulator") as http:
            response = await http.get("/_emulator/stats")
            response.raise_for_status()
            return response.json()

    def sdk(self, **kwargs: Any) -> OqcSdk:
        kwargs.setdefault("default_qpu_id", LUCY_SIM)
        return OqcSdk(
            url="http://emulator", authentication_token="test-token", transport=self.transport(), **kwargs
        )


@pytest.fixture
def make_emulator() -> Callable[..., Emulator]:
    return Emulator


@pytest.fixture
async def emulator() -> Emulator:
    return Emulator(seed=11)


@pytest.fixture
async def sdk(emulator: Emulator) -> AsyncIterator[OqcSdk]:
    async with emulator.sdk() as session:
        yield session
