"""The front-end programs of the QAT fixtures, built by today's front ends and captured as they are sent.

Issue 12's "Done when": a circuit Qiskit transpiled onto qubits 4-5 of the Lucy Simulator, and a
pytket circuit the user placed on nodes 6->5, are sent with a config under which QAT runs them on
exactly those qubits; so is a T1 program on qubit 5 (OpenQASM 3 with a delay in ns, ``raw()``).
This module builds those three circuits through the real front ends (Qiskit ``backend.run`` /
qiskit-experiments' T1, pytket ``get_compiled_circuit`` + ``process_circuits``) against an in-process
emulator, and reads back from the job store what the engine sent: the program text and the config
JSON of each task, byte for byte. No front-end code is patched.

``python -m tests.emulator.frontend_programs`` rewrites ``tests/fixtures/qat/frontend/*.json``; then
re-record them with QAT (scripts/qat_fixtures/README.md)::

    /tmp/qat/bin/python scripts/qat_fixtures/record.py --only 'frontend_*' --merge

tests/emulator/test_frontend_fixtures.py checks that today's front ends still send exactly what was
recorded, that QAT ran it on the intended qubits, and that the emulator reports the same qubits.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from pytket import Circuit, Qubit
from pytket.circuit import Node
from pytket.placement import Placement
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.engine.snapshots import CompositeJobSnapshot
from oqc_provider.engine.store import JobStore
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.pytket.handles import HandleData
from oqc_provider.qiskit import OQCProvider
from oqc_provider.run_options import RunOptions

FRONTEND_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "qat" / "frontend"
DEVICE = "Lucy Simulator"
#: Fixture name -> (what it is, the qubits it must run on).
PROGRAMS: dict[str, tuple[str, list[int]]] = {
    "qiskit_isa_4_5": (
        "The Qiskit front end's program for a Bell circuit transpiled onto Lucy Simulator qubits 4, 5 "
        "(generate_preset_pass_manager(optimization_level=1, initial_layout=[4, 5], seed_transpiler=7)), "
        "sent by backend.run with its default options.",
        [4, 5],
    ),
    "pytket_placed_6_5": (
        "The pytket front end's program for a Bell circuit the user placed on nodes 6 -> 5 "
        "(Placement.place_with_map), compiled with the backend's default pass and sent by process_circuits "
        "with its default options.",
        [5, 6],
    ),
    "qiskit_t1_delay_5": (
        "The Qiskit front end's program for qiskit-experiments' T1 on Lucy Simulator qubit 5 with one "
        "400 ns delay (backend_run=True, 1000 shots): OpenQASM 3, the delay in ns, raw() results.",
        [5],
    ),
}


@dataclass(frozen=True)
class Sent:
    """One task as the engine sent it, and where the emulator says it ran (with diagnostics)."""

    program: str
    config: str
    physical_qubits: list[int] | None = None


def bell_qiskit() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


def bell_pytket_on_6_5() -> Circuit:
    """A Bell circuit whose qubits the user placed on nodes 6 (control) and 5."""
    circuit = Circuit(2, 2).H(0).CX(0, 1).Measure(0, 0).Measure(1, 1)
    Placement.place_with_map(circuit, {Qubit(0): Node(6), Qubit(1): Node(5)})
    return circuit


def _sent(store: JobStore, key: str, index: int = 0) -> tuple[str, str]:
    snapshot = store.read(key)
    assert isinstance(snapshot, CompositeJobSnapshot), type(snapshot)
    job = snapshot.jobs[index]
    assert job.config_json is not None, "the front end sent the SDK's default config"
    return job.program, job.config_json


@contextmanager
def _emulator() -> Iterator[tuple[httpx.ASGITransport, Path]]:
    app = create_app(EmulatorSettings(seed=2026))
    with tempfile.TemporaryDirectory(prefix="frontend-programs-") as store:
        try:
            yield httpx.ASGITransport(app=app), Path(store)
        finally:
            app.state.emulator.close()  # type: ignore[attr-defined]


def capture(*, diagnostics: bool = False) -> dict[str, Sent]:
    """Build the three programs through the front ends and read back what was sent.

    With ``diagnostics`` the front ends also fetch metrics (their config then asks for the physical
    qubits too, and nothing else changes), and each :class:`Sent` carries the qubits the emulator
    reports the task ran on.
    """
    from qiskit_experiments.library import T1

    out: dict[str, Sent] = {}
    with _emulator() as (transport, store_dir):
        provider = OQCProvider(
            url="http://emulator.test", transport=transport, job_store=store_dir / "qiskit"
        )
        try:
            backend = provider.get_backend(DEVICE)
            manager = generate_preset_pass_manager(
                optimization_level=1, backend=backend, initial_layout=[4, 5], seed_transpiler=7
            )
            job = backend.run(manager.run(bell_qiskit()), fetch_diagnostics=diagnostics)
            header = job.result(timeout=120).results[0].header
            out["qiskit_isa_4_5"] = Sent(
                *_sent(provider.job_store, job.job_id()), header.get("physical_qubits")
            )

            experiment = T1(physical_qubits=(5,), delays=[4e-07], backend=backend)
            experiment.set_run_options(shots=1000, fetch_diagnostics=diagnostics)
            data = experiment.run(backend_run=True, analysis=None).block_for_results(timeout=120)
            (t1_job,) = data.jobs()
            header = t1_job.result(timeout=120).results[0].header
            out["qiskit_t1_delay_5"] = Sent(
                *_sent(provider.job_store, t1_job.job_id()), header.get("physical_qubits")
            )
        finally:
            provider.close()
        store = JobStore(store_dir / "pytket")
        with OQCTketBackend(
            DEVICE,
            url="http://emulator.test",
            transport=transport,
            job_store=store,
            options=RunOptions(fetch_diagnostics=diagnostics),
        ) as tket:
            compiled = tket.get_compiled_circuit(bell_pytket_on_6_5())
            handle = tket.process_circuit(compiled)
            tket.get_result(handle, timeout=120)
            key = HandleData.from_handle(handle).store_key
            out["pytket_placed_6_5"] = Sent(*_sent(store, key), tket.physical_qubits(handle))
    return out


def fixture_path(name: str) -> Path:
    return FRONTEND_DIR / f"{name}.json"


def write_fixtures() -> None:
    """Rewrite the front-end fixture files from what today's front ends send."""
    for name, sent in capture().items():
        note, _ = PROGRAMS[name]
        doc = {"config": sent.config, "device": "lucy", "note": note, "program": sent.program}
        fixture_path(name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_fixtures()
