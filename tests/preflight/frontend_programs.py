"""The programs the front ends write for issue 20's scheduled circuits, as QAT fixtures replay them.

``python -m tests.preflight.frontend_programs`` (project venv) rewrites
``tests/fixtures/qat/preflight/frontend_*.qasm``; ``scripts/qat_fixtures/record_preflight.py`` (QAT's
venv) records what QAT's pipeline path does with them, and ``tests/preflight/test_qat_evidence.py``
fails when a front end's output no longer matches the recording byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from qiskit import QuantumCircuit, transpile

from oqc_provider.qiskit import OQCBackend, OQCProvider
from oqc_provider.qiskit.translate import checked_wire

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qat" / "preflight"
#: The T1 point: qiskit-experiments' T1 circuit shape (x, a delay, measure) on one qubit.
T1_DELAY_NS = 400.0


def alap_bell(backend: OQCBackend) -> QuantumCircuit:
    """A Bell pair transpiled for ``backend`` on qubits 0, 1, scheduled with ALAP padding (an ECR inside)."""
    circuit = QuantumCircuit(2, 2, name="alap_bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return transpile(circuit, backend, initial_layout=[0, 1], scheduling_method="alap", seed_transpiler=7)


def alap_x_ecr(backend: OQCBackend) -> QuantumCircuit:
    """``x``, then an ECR, on qubits 0 -> 1, ALAP-scheduled: every delay it gets is idle (before a qubit's
    first operation, or on an unused qubit), so on Toshiko it is written as OpenQASM 2 without them."""
    circuit = QuantumCircuit(2, 2, name="alap_x_ecr")
    circuit.x(0)
    circuit.ecr(0, 1)
    circuit.measure([0, 1], [0, 1])
    return transpile(circuit, backend, initial_layout=[0, 1], scheduling_method="alap", optimization_level=0)


def t1_point(backend: OQCBackend, qubit: int = 0) -> QuantumCircuit:
    """One point of a T1 experiment (qiskit-experiments' circuit: x, a delay, measure), transpiled."""
    from qiskit_experiments.library import T1

    circuit = T1((qubit,), delays=[T1_DELAY_NS * 1e-9]).circuits()[0]
    return transpile(circuit, backend, initial_layout=[qubit], optimization_level=0)


def programs(provider: OQCProvider) -> dict[str, str]:
    """File name -> the program the Qiskit front end sends."""
    found = {}
    for name, key in (("Lucy Simulator", "lucy"), ("Toshiko", "toshiko")):
        backend = provider.get_backend(name)
        for shape, circuit in (("alap_bell", alap_bell(backend)), ("t1", t1_point(backend))):
            wire = checked_wire(circuit, backend.target, backend.device)
            found[f"frontend_{shape}_{key}.qasm"] = wire.program
    toshiko = provider.get_backend("Toshiko")  # as backend.run writes it there (preflight on)
    wire = checked_wire(alap_x_ecr(toshiko), toshiko.target, toshiko.device, drop_idle_delays=True)
    found["frontend_alap_x_ecr_toshiko.qasm"] = wire.program
    return found


if __name__ == "__main__":
    with OQCProvider() as provider:
        for file_name, text in programs(provider).items():
            (FIXTURES / file_name).write_text(text)
            print(file_name)
