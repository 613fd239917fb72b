"""Fixtures for the Qiskit front end: providers over an in-process emulator, spoken to over HTTP.

Nothing is patched: each provider's requests go through ``httpx.ASGITransport`` into a real
emulator app (Aer behind the QCaaS REST API). One emulator serves the whole module set, so the
suite stays fast; tests that need the default composition root (nothing configured) make their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qiskit import QuantumCircuit

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.qiskit import OQCBackend, OQCProvider

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"


def _provider(store: Path, **settings: object) -> tuple[OQCProvider, object]:
    app = create_app(EmulatorSettings(**settings))  # type: ignore[arg-type]
    provider = OQCProvider(
        url="http://emulator.test", transport=httpx.ASGITransport(app=app), job_store=store
    )
    return provider, app


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCProvider]:
    """A provider over a seeded in-process emulator, shared by the session."""
    provider, app = _provider(tmp_path_factory.mktemp("qiskit-jobs"), seed=2026)
    yield provider
    provider.close()
    app.state.emulator.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def slow_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCProvider]:
    """A provider whose emulator keeps tasks queued for 1.5 s (to cancel them, see them queued)."""
    provider, app = _provider(tmp_path_factory.mktemp("qiskit-slow-jobs"), seed=7, latency=1.5)
    yield provider
    provider.close()
    app.state.emulator.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def lucy_sim(provider: OQCProvider) -> OQCBackend:
    """The noiseless Lucy Simulator (8-qubit ring, directed ECR)."""
    return provider.get_backend("Lucy Simulator")


@pytest.fixture
def bell() -> QuantumCircuit:
    """A Bell pair measured into ``c``."""
    circuit = QuantumCircuit(2, 2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit
