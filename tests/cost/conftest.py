"""A priced emulator served on a loopback port, shared by the cost tests, and a raw HTTP view of it.

Lucy Simulator is priced (0.00035 per shot, 0.35 per task) and Lucy publishes no price (null), so both
the priced and the unknown-price paths run against the registry as a client reads it. Tasks are
counted on the emulator over HTTP (``/_emulator/stats``), never by looking inside the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from qiskit import QuantumCircuit, transpile

from oqc_provider.emulator import EmulatorSettings, serve_in_thread
from oqc_provider.qiskit import OQCBackend, OQCProvider

LUCY_SIM = "qpu:uk:2:d865b5a184"
LUCY = "qpu:uk:2:1a2b3c4d5e"
PER_SHOT, PER_TASK = Decimal("0.00035"), Decimal("0.35")
TOKEN = "cost-token"


def bell(backend: OQCBackend | None = None) -> QuantumCircuit:
    """A Bell pair measured into ``c``; transpiled for ``backend`` when one is given."""
    circuit = QuantumCircuit(2, 2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit if backend is None else transpile(circuit, backend, seed_transpiler=1)


def task_cost(shots: int) -> Decimal:
    """What the registry's prices give for one Lucy Simulator task (the expected sum, by hand)."""
    return PER_TASK + PER_SHOT * shots


class Served:
    """The emulator's URL and its task counter, read over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def submitted(self) -> int:
        response = httpx.get(f"{self.url}/_emulator/stats", headers={"Authentication-Token": TOKEN})
        response.raise_for_status()
        return int(response.json()["submitted_task_count"])


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    settings = EmulatorSettings(seed=5, prices={"Lucy Simulator": ("0.00035", "0.35"), LUCY: (None, None)})
    with serve_in_thread(settings) as url:
        yield Served(url)


@pytest.fixture
def provider(served: Served, tmp_path: Path) -> Iterator[OQCProvider]:
    with OQCProvider(url=served.url, token=TOKEN, job_store=tmp_path / "jobs") as provider:
        yield provider
