"""QNodes on OQC's PennyLane device (``pennylane-oqcqcaas``), written as its users write them.

Run by the tests in the clients' venv, never imported by pytest: ``python pennylane_plugin.py
SCENARIO`` with ``OQC_URL``, ``OQC_AUTH_TOKEN`` and ``OQC_DEVICE`` set (the plugin reads nothing
else) and the scenario's input as JSON on stdin. The plugin sends every circuit with
``Tket(TketOptimizations.Two)``, which places and routes. The answer is one JSON line after
``OQC-CLIENT-ANSWER``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

ANSWER_PREFIX = "OQC-CLIENT-ANSWER "


def device(wires: int, shots: int) -> Any:
    import pennylane as qml

    return qml.device("oqc_qcaas", wires=wires, shots=shots)


def bell(spec: dict[str, Any]) -> dict[str, Any]:
    """A Bell pair on wires 0 and 1 (coupled on Lucy), read as counts."""
    import pennylane as qml

    @qml.qnode(device(2, spec["shots"]))
    def circuit() -> Any:
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return qml.counts()

    return {"counts": {str(k): int(v) for k, v in circuit().items()}}


def ghz(spec: dict[str, Any]) -> dict[str, Any]:
    """A GHZ state fanned out from wire 0 to every other wire: on a ring, wire 0 has two neighbours.

    Read three ways in three circuits: counts, <Z0 Z_last>, and the parity <X...X> (which the plugin
    measures by rotating every wire with a Hadamard before the readout).
    """
    import pennylane as qml

    wires = spec["wires"]
    dev = device(wires, spec["shots"])

    def prepare() -> None:
        qml.Hadamard(0)
        for target in range(1, wires):
            qml.CNOT([0, target])

    @qml.qnode(dev)
    def counts() -> Any:
        prepare()
        return qml.counts()

    @qml.qnode(dev)
    def zz() -> Any:
        prepare()
        return qml.expval(qml.PauliZ(0) @ qml.PauliZ(wires - 1))

    @qml.qnode(dev)
    def parity() -> Any:
        prepare()
        observable = qml.PauliX(0)
        for wire in range(1, wires):
            observable = observable @ qml.PauliX(wire)
        return qml.expval(observable)

    return {
        "counts": {str(k): int(v) for k, v in counts().items()},
        "zz": float(zz()),
        "parity": float(parity()),
    }


def rotation(spec: dict[str, Any]) -> dict[str, Any]:
    """RY(theta) on wire 0 entangled with wire 2 by CRY: <Z0>, <X0> and Z0's parameter-shift gradient.

    Wire 1 is flipped so that it is in the program: PennyLane writes only the wires a circuit uses,
    renumbered from 0, so without it the CRY would go out on the coupled pair q[0], q[1].
    Non-commuting observables are split into one circuit each, and the gradient needs two shifted
    circuits: the plugin submits those as batches (ids allocated first, then one submit).
    """
    import pennylane as qml
    from pennylane import numpy as pnp

    dev = device(3, spec["shots"])
    theta = pnp.array(spec["theta"], requires_grad=True)

    @qml.qnode(dev, diff_method="parameter-shift")
    def z0(angle: Any) -> Any:
        qml.RY(angle, wires=0)
        qml.PauliX(1)
        qml.CRY(spec["phi"], wires=[0, 2])
        return qml.expval(qml.PauliZ(0))

    @qml.qnode(dev)
    def z0_x0(angle: Any) -> Any:
        qml.RY(angle, wires=0)
        qml.PauliX(1)
        qml.CRY(spec["phi"], wires=[0, 2])
        return qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliX(0))

    z, x = z0_x0(theta)
    return {"z0": float(z0(theta)), "grad": float(qml.grad(z0)(theta)), "z0_x0": [float(z), float(x)]}


SCENARIOS = {"bell": bell, "ghz": ghz, "rotation": rotation}


def main() -> None:
    scenario = SCENARIOS[sys.argv[1]]
    answer = scenario(json.loads(sys.stdin.read() or "null"))
    print(ANSWER_PREFIX + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
