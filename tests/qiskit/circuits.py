"""Circuits that exercise bit order and result layout, shared by the Qiskit tests."""

from __future__ import annotations

from collections import Counter

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Clbit


def layout_circuits() -> list[QuantumCircuit]:
    """Named and unnamed circuits with several registers, unmeasured and partially measured bits,
    loose clbits, barriers, mid-circuit measurement with reset, and no clbits at all."""
    bell = QuantumCircuit(2, 2, name="bell")
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])

    two_registers = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(3, "b")
    )
    two_registers.name = "two_registers"
    two_registers.x(0)
    two_registers.h(1)
    two_registers.measure(0, 0)  # a[0] = 1
    two_registers.measure(1, 2)  # b[0] random
    two_registers.measure(0, 4)  # b[2] = 1

    deterministic = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    )
    deterministic.name = "one_then_zero"
    deterministic.x(0)
    deterministic.measure(0, 2)  # b[0] = 1, a = 00 -> '1 00'

    unmeasured = QuantumCircuit(3, 4, name="unmeasured_bits")
    unmeasured.h(0)
    unmeasured.x(1)
    unmeasured.measure(0, 2)
    unmeasured.measure(1, 3)

    partial = QuantumCircuit(3, 1, name="partially_measured")
    partial.h([0, 1, 2])
    partial.measure(1, 0)

    barriers = QuantumCircuit(3, name="barriers")
    barriers.h(0)
    barriers.barrier()
    barriers.cx(0, 1)
    barriers.barrier([1, 2])
    barriers.cx(1, 2)
    barriers.measure_all()

    unnamed = QuantumCircuit(2, 2)
    unnamed.x(1)
    unnamed.h(0)
    unnamed.measure([0, 1], [1, 0])

    loose = QuantumCircuit([*QuantumRegister(2, "q"), Clbit(), Clbit()], name="loose_clbits")
    loose.add_register(ClassicalRegister(1, "c"))
    loose.x(0)
    loose.h(1)
    loose.measure(0, 1)
    loose.measure(1, 2)

    extra_register = QuantumCircuit(2, 2, name="measure_all_added_bits")
    extra_register.h(0)
    extra_register.cx(0, 1)
    extra_register.measure_all()  # 'meas' after an unused 'c'

    mid_circuit = QuantumCircuit(2, 3, name="mid_circuit_and_reset")
    mid_circuit.h(0)
    mid_circuit.measure(0, 0)
    mid_circuit.reset(0)
    mid_circuit.x(0)
    mid_circuit.cx(0, 1)
    mid_circuit.measure([0, 1], [1, 2])  # c = '11r' with r random

    no_clbits = QuantumCircuit(2, name="no_clbits")
    no_clbits.h(0)

    for index, circuit in enumerate((bell, two_registers, unmeasured, partial, barriers)):
        circuit.metadata = {"index": index, "label": circuit.name, "xval": [0.5, 1]}
    return [
        bell,
        two_registers,
        deterministic,
        unmeasured,
        partial,
        barriers,
        unnamed,
        loose,
        extra_register,
        mid_circuit,
        no_clbits,
    ]


def total_variation(first: dict[str, int], second: dict[str, int]) -> float:
    """The total-variation distance between two count distributions."""
    n1, n2 = sum(first.values()) or 1, sum(second.values()) or 1
    keys = set(first) | set(second)
    return 0.5 * sum(abs(first.get(k, 0) / n1 - second.get(k, 0) / n2) for k in keys)


def counts_of(memory: list[str]) -> dict[str, int]:
    """Counts built from per-shot memory."""
    return dict(Counter(memory))
