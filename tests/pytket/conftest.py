"""Fixtures for the pytket front end: backends over emulators, spoken to over HTTP only.

Nothing is patched: requests go through ``httpx.ASGITransport`` into a real emulator app (Aer
behind the QCaaS REST API), or over a socket to one served on 127.0.0.1. Backends are shared per
session so the suite stays fast on a 2-core CI machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytket import Bit, Circuit, OpType, Qubit

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.pytket import OQCTketBackend

#: Run in a subprocess with qermit on PYTHONPATH (test_maps.py); importing it here would fail.
collect_ignore = ["qermit_zne_program.py"]


def make_backend(store: Path, device: str = "Lucy Simulator", **settings: Any) -> tuple[OQCTketBackend, Any]:
    """A backend over a fresh in-process emulator (and the app, to close it afterwards)."""
    app = create_app(EmulatorSettings(**settings))
    backend = OQCTketBackend(
        device, url="http://emulator.test", transport=httpx.ASGITransport(app=app), job_store=store
    )
    return backend, app


@pytest.fixture(scope="session")
def lucy_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCTketBackend]:
    """The noiseless Lucy Simulator (8-qubit ring, directed ECR) on a seeded emulator."""
    backend, app = make_backend(tmp_path_factory.mktemp("pytket-jobs"), seed=2026)
    yield backend
    backend.close()
    app.state.emulator.close()


@pytest.fixture(scope="session")
def slow_lucy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCTketBackend]:
    """Lucy Simulator on an emulator that keeps tasks queued for 3 s (to see them queued, cancel them)."""
    backend, app = make_backend(tmp_path_factory.mktemp("pytket-slow-jobs"), seed=7, latency=3.0)
    yield backend
    backend.close()
    app.state.emulator.close()


def bell_circuit() -> Circuit:
    """A Bell pair measured into ``c``."""
    return Circuit(2, 2, name="bell").H(0).CX(0, 1).measure_all()


def random_circuit(seed: int) -> Circuit:
    """2-4 qubits, random 1q rotations, CX/CZ/CCX, and bits spread over 2-3 registers (some unmeasured).

    Rotations are multiples of 1/8 turn away from trivial values, so outcomes are spread out and
    a wrong bit order or register mix-up changes the distribution.
    """
    rng = random.Random(seed)
    n = rng.randint(2, 4)
    circuit = Circuit(n, name=f"random-{seed}")
    registers = ["a", "b", "m"][: rng.randint(2, 3)]
    bits = [Bit(registers[i % len(registers)], i // len(registers)) for i in range(n + 1)]
    for bit in bits:
        circuit.add_bit(bit)
    for qubit in range(n):  # spread the state out first, so most outcomes are populated
        circuit.Ry(rng.choice([0.2, 0.35, 0.6, 0.8]), qubit)
    for _ in range(rng.randint(6, 12)):
        kind = rng.random()
        q = rng.sample(range(n), min(n, 3))
        if kind < 0.45:
            gate = rng.choice([OpType.Rx, OpType.Ry, OpType.Rz])
            circuit.add_gate(gate, [rng.choice([0.25, 0.375, 0.5, 0.625, 1.25])], [q[0]])
        elif kind < 0.6:
            circuit.add_gate(rng.choice([OpType.H, OpType.X, OpType.T]), [q[0]])
        elif kind < 0.85:
            circuit.add_gate(rng.choice([OpType.CX, OpType.CZ]), [q[0], q[1]])
        elif n >= 3:
            circuit.CCX(q[0], q[1], q[2])
    order = rng.sample(range(n), n)  # qubit i -> a shuffled bit; bit n stays unmeasured (reads 0)
    for i in range(n):
        circuit.Measure(Qubit(i), bits[order[i]])
    return circuit
