"""The OpenQASM programs the clients send, what a service that routes must return, and the settings."""

from __future__ import annotations

import re

from oqc_provider.devices import CATALOGUE

LUCY_SIM = "qpu:uk:2:d865b5a184"
#: The token the served emulator requires (``--token``), which the clients send.
TOKEN = "clients-T0KEN"

#: Lucy's ring as the emulator serves it (control, target).
LUCY_COUPLINGS = {tuple(pair) for pair in CATALOGUE[LUCY_SIM].couplings}

BELL = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    "h q[0];\ncx q[0],q[1];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
)

#: |1> on q[0], |0> on q[1]: deterministic, and tells the bit order (c[0] is the leftmost character).
X0 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\n'
    "measure q[0] -> c[0];\nmeasure q[1] -> c[1];\n"
)

#: A 4-qubit GHZ fanned out from q[0]: cx q[0],q[2] and cx q[0],q[3] are uncoupled on the ring, and no
#: placement helps (on a ring every qubit has two neighbours, q[0] needs three): it runs only if the
#: service routes it (inserts swaps), which QCaaS does under its default and under tket One and Two.
GHZ4 = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[4];\ncreg c[4];\nh q[0];\n'
    "cx q[0],q[1];\ncx q[0],q[2];\ncx q[0],q[3];\nmeasure q -> c;\n"
)
GHZ4_OUTCOMES = {"0000", "1111"}


def assert_ghz_counts(counts: dict[str, int], width: int, shots: int) -> None:
    """Only all-zeros and all-ones (the Lucy Simulator is noiseless), both seen, every shot counted."""
    assert set(counts) == {"0" * width, "1" * width}, counts
    assert sum(counts.values()) == shots
    assert min(counts.values()) > shots / 4, counts  # 50/50 up to sampling noise


def uncoupled(first: int, second: int) -> bool:
    return (first, second) not in LUCY_COUPLINGS and (second, first) not in LUCY_COUPLINGS


#: A two-qubit gate in the program as it ran: QAT writes tket's output on ``node[i]``, i the physical qubit.
TWO_QUBIT_GATE = re.compile(r"^(?:cx|ecr|cz)\s+\w+\[(\d+)\]\s*,\s*\w+\[(\d+)\]\s*;", re.MULTILINE)


def assert_ran_on_couplings(metrics: dict, at_least: int) -> None:
    """``execution_metadata`` shows a routed program: every two-qubit gate on a coupling, in its direction.

    Also: ``physical_qubit_indices`` is ascending, without repeats, on the device, and names every qubit
    those gates act on.
    """
    used = metrics["physical_qubit_indices"]
    assert used == sorted(set(used)) and set(used) <= set(range(8)), used
    pairs = [(int(a), int(b)) for a, b in TWO_QUBIT_GATE.findall(metrics["optimized_circuit"])]
    assert len(pairs) >= at_least, metrics["optimized_circuit"]
    assert set(pairs) <= LUCY_COUPLINGS, (pairs, metrics["optimized_circuit"])
    assert {qubit for pair in pairs for qubit in pair} <= set(used), (pairs, used)
