"""OQC's PennyLane device (``pennylane-oqcqcaas``), unchanged, against ``oqc-provider emulator serve``.

The plugin speaks through the legacy client: ``schedule_tasks`` (ids allocated first for a batch of
circuits), then ``GET {qpu}/tasks/{id}/status`` until COMPLETED and ``GET {qpu}/tasks/{id}/results``,
reading the ``c`` register's counts. Every circuit goes with ``Tket(TketOptimizations.Two)``, under
which QCaaS places and routes, so a CNOT between uncoupled wires runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.clients.client_venv import run_client_program
from tests.clients.programs import assert_ghz_counts, uncoupled

pytestmark = [pytest.mark.external, pytest.mark.slow]

SHOTS = 2000
#: Expectation values from SHOTS shots of a noiseless simulator: the standard error is at most
#: 1/sqrt(SHOTS) = 0.022, and the tolerance is five of those.
TOLERANCE = 5 / math.sqrt(SHOTS)


def qnodes(python: Path, scenario: str, payload: object) -> Any:
    return run_client_program(python, "pennylane_plugin", scenario, payload)


def test_bell_counts(oqc_clients_python, client_env, requests_made):
    answer = qnodes(oqc_clients_python, "bell", {"shots": SHOTS})
    made = requests_made()
    assert made["POST /{qpu_hex}/tasks/submit"] == 1 and not made["GET <unmatched>"], made
    counts = answer["counts"]
    assert set(counts) == {"00", "11"} and sum(counts.values()) == SHOTS


def test_ghz_fanned_out_from_one_wire_is_routed(oqc_clients_python, client_env):
    """CNOTs from wire 0 to wires 1-3: two of them on uncoupled qubits of Lucy's ring."""
    assert uncoupled(0, 2) and uncoupled(0, 3)
    answer = qnodes(oqc_clients_python, "ghz", {"wires": 4, "shots": SHOTS})
    assert_ghz_counts(answer["counts"], 4, SHOTS)
    # Noiseless, so exactly 1 but for the plugin's float sum over outcomes (one wrong shot costs 0.001).
    assert answer["zz"] == pytest.approx(1.0, abs=1e-9)  # Z0 and Z3 always agree
    assert answer["parity"] == pytest.approx(
        1.0, abs=1e-9
    )  # <XXXX> of a GHZ, read after a Hadamard on each wire


def test_rotations_expectations_and_a_parameter_shift_gradient(oqc_clients_python, client_env, requests_made):
    """RY(theta), X on wire 1, then CRY(phi) on the uncoupled pair (0, 2).

    <Z0> = cos(theta) and <X0> = sin(theta)cos(phi/2), whatever the routing did to the qubits.
    """
    assert uncoupled(0, 2)
    theta, phi = 0.9, 1.3
    answer = qnodes(oqc_clients_python, "rotation", {"shots": SHOTS, "theta": theta, "phi": phi})
    assert answer["z0"] == pytest.approx(math.cos(theta), abs=TOLERANCE)
    z0, x0 = answer["z0_x0"]
    assert z0 == pytest.approx(math.cos(theta), abs=TOLERANCE)
    assert x0 == pytest.approx(math.sin(theta) * math.cos(phi / 2), abs=TOLERANCE)
    # Parameter shift: (f(theta + pi/2) - f(theta - pi/2)) / 2, each term from SHOTS shots.
    assert answer["grad"] == pytest.approx(-math.sin(theta), abs=TOLERANCE)
    made = requests_made()
    assert made["POST /{qpu_hex}/tasks"] >= 1, made  # a batch: ids allocated, then one submit
    assert made["GET /{qpu_hex}/tasks/{task_id}/status"] and made["GET /{qpu_hex}/tasks/{task_id}/results"]
    assert not made["GET <unmatched>"] and not made["POST <unmatched>"], made
