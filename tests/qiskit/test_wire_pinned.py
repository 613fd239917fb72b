"""The programs ``backend.run`` sends are pinned byte for byte.

The fast writer (:mod:`oqc_provider.qiskit.native_qasm`) is tuned for speed; tuning must not change a
single character the service receives. Seeded circuits in native gates (angles of every kind, both
OpenQASM dialects, several registers, loose clbits, reserved register names, barriers, resets,
mid-circuit measurements, delays in every unit) are written by ``checked_wire`` and ``to_wire`` and
compared with ``wire_programs.json``, written by the writer before it was tuned.

Regenerate the file (only when a change to the program text is intended, and say why in the commit)
with ``python tests/qiskit/test_wire_pinned.py``.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

from oqc_provider.device_target import build_target
from oqc_provider.devices import LUCY_SIMULATOR, TOSHIKO, DeviceSpec, reference_calibration
from oqc_provider.qiskit.translate import WireProgram, checked_wire, to_wire

PINNED = Path(__file__).with_name("wire_programs.json")
#: Angles whose spelling is easy to get wrong: signed zeros, exponents, extremes.
AWKWARD_ANGLES = (0.0, -0.0, math.pi, -math.pi / 2, 1e-20, -5e-324, 1e16, 123456789.0, 0.1 + 0.2)


def _circuit(seed: int, spec: DeviceSpec) -> QuantumCircuit:
    """A seeded circuit in ``spec``'s native gates, mostly valid for it (the checks pass)."""
    rng = random.Random(seed)
    width = spec.qubit_count if seed % 2 == 0 else min(spec.qubit_count, 6 + seed % 3)
    couplings = [pair for pair in spec.couplings if max(pair) < width]
    qreg = QuantumRegister(width, "q")
    registers = [
        ClassicalRegister(rng.randint(1, 4), name) for name in ("c", "measure", "meas")[: 1 + seed % 3]
    ]
    circuit = QuantumCircuit(qreg, *registers, name=f"pinned-{seed}")
    if seed % 4 == 1:
        circuit.add_bits([type(circuit.clbits[0])() for _ in range(2)])  # loose clbits
    waits = seed % 5 == 3
    for _ in range(rng.randint(15, 45)):
        kind = rng.choice(["rz", "rz", "rz", "sx", "sx", "x", "ecr", "ecr", "barrier", "reset", "delay"])
        qubit = rng.randrange(width)
        if kind == "rz":
            angle = (
                rng.choice(AWKWARD_ANGLES) if rng.random() < 0.2 else rng.uniform(-4 * math.pi, 4 * math.pi)
            )
            circuit.rz(angle, qubit)
        elif kind in ("sx", "x", "reset"):
            getattr(circuit, kind)(qubit)
        elif kind == "ecr":
            circuit.ecr(*rng.choice(couplings))
        elif kind == "barrier":
            circuit.barrier(*rng.sample(range(width), rng.randint(1, 3)))
        elif waits:
            unit = rng.choice(["dt", "ns", "us", "s", "ps"])
            duration = (
                rng.choice([rng.randint(0, 2000), rng.uniform(0, 2000)])
                if unit != "dt"
                else rng.randint(0, 2000)
            )
            circuit.delay(duration, qubit, unit=unit)
    clbits = circuit.num_clbits
    for clbit in range(clbits):
        circuit.measure(rng.randrange(width), clbit)
    if seed % 3 == 0:  # a mid-circuit measurement, then more gates (both devices allow it)
        circuit.rz(rng.uniform(-math.pi, math.pi), 0)
        circuit.measure(0, 0)
    return circuit


CASES = [(seed, spec) for spec in (LUCY_SIMULATOR, TOSHIKO) for seed in range(10)]


def _programs() -> dict[str, Any]:
    programs: dict[str, Any] = {}
    for seed, spec in CASES:
        target = build_target(spec, reference_calibration(spec))
        circuit = _circuit(seed, spec)
        written = {
            "checked_wire": checked_wire(circuit, target, spec, seed),
            "checked_wire dropping idle delays": checked_wire(
                circuit, target, spec, seed, drop_idle_delays=True
            ),
            "to_wire": to_wire(circuit, spec.dt, seed),
        }
        programs[f"{spec.name} {seed}"] = {how: _as_json(wire) for how, wire in written.items()}
    return programs


def _as_json(wire: WireProgram) -> dict[str, Any]:
    return {
        "program": wire.program,
        "registers": [[name, list(indices)] for name, indices in wire.registers],
        "openqasm": wire.openqasm,
    }


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    return json.loads(PINNED.read_text())


@pytest.fixture(scope="module")
def written() -> dict[str, Any]:
    return _programs()


def test_the_sample_covers_what_it_claims(written: dict[str, Any]) -> None:
    programs = [wire["program"] for case in written.values() for wire in case.values()]
    assert {wire["openqasm"] for case in written.values() for wire in case.values()} == {2, 3}
    for needle in (
        "rz(-0.0)",
        "rz(1.0e-20)",
        "e-324",
        "barrier q[",
        "reset q[",
        "ecr q[",
        "creg meas",
        "loose_bits",
    ):
        assert any(needle in program for program in programs), needle
    assert any("ns] q[" in program for program in programs)


@pytest.mark.parametrize("case", [f"{spec.name} {seed}" for seed, spec in CASES])
def test_programs_are_byte_identical_to_the_pinned_ones(
    case: str, pinned: dict[str, Any], written: dict[str, Any]
) -> None:
    assert written[case] == pinned[case]


if __name__ == "__main__":
    PINNED.write_text(json.dumps(_programs(), indent=1, sort_keys=True) + "\n")
