"""The emulator's noise is the noise the Target advertises, measured over HTTP through the front end.

Each noisy device runs long ``sx`` and ``ecr`` sequences (both are the identity: ``sx``^4 = ECR^2 = I)
and readout calibration circuits through the Qiskit front end, the engine and the in-process
emulator. The measured probabilities are compared with

* what the Target's figures predict, computed in this file from T1, T2, durations and errors
  alone: each gate is followed by depolarizing then T1/T2 relaxation over its duration, the
  depolarizing strength chosen so the whole error's average gate infidelity is the advertised error,
  and readout flips a bit with the advertised probability (a pure depolarizing reading of the
  figures would be wrong by 0.05 for the ECR sequence: relaxation damps some Pauli components
  much more than others); and
* ``AerSimulator.from_backend(backend)``, Qiskit Aer's own noise model of the same Target.

Tolerances are statistical: ``Z`` standard errors of a binomial proportion over the shots behind
each figure (two independent samples for the Aer comparison).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import ECRGate, SXGate, XGate
from qiskit.quantum_info import PTM, DensityMatrix, Kraus, Operator, SuperOp
from qiskit_aer import AerSimulator

from oqc_provider.qiskit import OQCBackend, OQCProvider

#: Standard errors allowed between a measured proportion and its expectation.
Z = 5.0
SHOTS = 10_000
SX_COUNT = 400
ECR_COUNT = 40
#: One qubit and one directed coupling per device.
PROBES = {"Lucy": (0, (0, 1)), "Toshiko": (0, (0, 1))}


def _circuits(backend: OQCBackend, qubit: int, edge: tuple[int, int]) -> dict[str, QuantumCircuit]:
    """Each sequence from every basis state (averaging cancels relaxation's pull to |0> to first
    order), and the readout calibration circuits (prepare 0 or 1, measure)."""
    width = backend.num_qubits
    circuits = {}
    for start in (0, 1):
        sx = QuantumCircuit(width, 1, name=f"sx-from-{start}")
        if start:
            sx.x(qubit)
        for _ in range(SX_COUNT):
            sx.sx(qubit)
        sx.measure(qubit, 0)
        circuits[sx.name] = sx
        ready = QuantumCircuit(width, 1, name=f"prepare-{start}")
        if start:
            ready.x(qubit)
        ready.measure(qubit, 0)
        circuits[ready.name] = ready
    for bits in ("00", "01", "10", "11"):
        ecr = QuantumCircuit(width, 2, name=f"ecr-from-{bits}")
        for clbit, bit in enumerate(reversed(bits)):  # clbit 0 (edge[0]) is the rightmost character
            if bit == "1":
                ecr.x(edge[clbit])
        for _ in range(ECR_COUNT):
            ecr.ecr(*edge)
        ecr.measure(list(edge), [0, 1])
        circuits[ecr.name] = ecr
    return circuits


def _probabilities(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {key: value / total for key, value in counts.items()}


def _sigma(p: float, shots: int) -> float:
    return math.sqrt(max(p * (1 - p), 1 / shots) / shots)


def _relaxation(t1: float | None, t2: float | None, duration: float) -> Kraus:
    """T1/T2 relaxation over ``duration``: amplitude damping, then the dephasing that makes up T2."""
    if t1 is None or t2 is None:
        return Kraus(np.eye(2))
    damping = 1 - math.exp(-duration / t1)
    coherence = math.exp(-duration / min(t2, 2 * t1)) / math.sqrt(1 - damping)
    amplitude = Kraus(
        [np.array([[1, 0], [0, math.sqrt(1 - damping)]]), np.array([[0, math.sqrt(damping)], [0, 0]])]
    )
    dephasing = Kraus(
        [math.sqrt((1 + coherence) / 2) * np.eye(2), math.sqrt((1 - coherence) / 2) * np.diag([1, -1])]
    )
    return amplitude.compose(dephasing)


def _noisy(gate: Operator, relaxation: SuperOp, error: float) -> SuperOp:
    """``gate`` followed by depolarizing then ``relaxation``, the depolarizing strength chosen so the
    whole error's average gate infidelity is the advertised ``error``.

    With PTM traces: F_e = (1 + (1 - lam) (Tr R - 1)) / d^2 and F = (d F_e + 1) / (d + 1).
    """
    dim = 2**gate.num_qubits
    trace = float(np.real(PTM(relaxation).data.trace()))
    wanted = ((1 - error) * (dim + 1) - 1) / dim * dim**2  # Tr of the whole error's PTM
    lam = max(0.0, 1 - (wanted - 1) / (trace - 1))
    identity = SuperOp(np.eye(dim**2))
    depolarize = SuperOp((1 - lam) * identity.data + lam * SuperOp(_full_depolarizing(dim)).data)
    return SuperOp(gate).compose(depolarize).compose(relaxation)


def _full_depolarizing(dim: int) -> Kraus:
    """rho -> Tr(rho) I / dim, as Kraus operators |i><j| / sqrt(dim)."""
    ops = []
    for i in range(dim):
        for j in range(dim):
            op = np.zeros((dim, dim))
            op[i, j] = 1 / math.sqrt(dim)
            ops.append(op)
    return Kraus(ops)


def _predicted(backend: OQCBackend, qubit: int, edge: tuple[int, int]) -> dict[str, float]:
    """What the Target's figures predict for each probe, computed here from T1, T2, durations and
    errors alone (qiskit.quantum_info algebra, not Aer's or the emulator's noise code)."""
    target = backend.target

    def relax(q: int, duration: float) -> SuperOp:
        props = target.qubit_properties[q]
        return SuperOp(_relaxation(props.t1, props.t2, duration))

    def one(name: str, q: int) -> SuperOp:
        props = target[name][(q,)]
        gate = Operator(SXGate() if name == "sx" else XGate())
        return _noisy(gate, relax(q, props.duration), props.error)

    ecr_props = target["ecr"][edge]
    # quantum_info orders qubits right to left: relax(target) ⊗ relax(control) acts on (control, target).
    ecr = _noisy(
        Operator(ECRGate()),
        relax(edge[1], ecr_props.duration).tensor(relax(edge[0], ecr_props.duration)),
        ecr_props.error,
    )
    readout = {q: target["measure"][(q,)].error for q in (qubit, *edge)}

    def read(state: DensityMatrix, qubits: tuple[int, ...], bits: str) -> float:
        flip = [readout[q] for q in qubits]
        total = 0.0
        for outcome, p in state.probabilities_dict().items():  # outcome: rightmost is the first qubit
            chance = p
            for index, bit in enumerate(reversed(outcome)):
                wanted = bits[len(bits) - 1 - index]
                chance *= 1 - flip[index] if bit == wanted else flip[index]
            total += chance
        return total

    x_gate = {q: one("x", q) for q in (qubit, *edge)}
    sx_gate = one("sx", qubit)
    survival_sx = []
    for start in (0, 1):
        state = DensityMatrix.from_label("0")
        if start:
            state = state.evolve(x_gate[qubit])
        for _ in range(SX_COUNT):
            state = state.evolve(sx_gate)
        survival_sx.append(read(state, (qubit,), str(start)))
    survival_ecr = []
    for bits in ("00", "01", "10", "11"):
        state = DensityMatrix.from_label("00")
        for clbit, bit in enumerate(reversed(bits)):
            if bit == "1":
                state = state.evolve(x_gate[edge[clbit]], [clbit])
        for _ in range(ECR_COUNT):
            state = state.evolve(ecr)
        survival_ecr.append(read(state, edge, bits))
    flip1 = 1 - read(DensityMatrix.from_label("0").evolve(x_gate[qubit]), (qubit,), "1")
    return {
        "sx": sum(survival_sx) / 2,
        "ecr": sum(survival_ecr) / 4,
        "flip0": readout[qubit],
        "flip1": flip1,
    }


def _measured(counts: dict[str, dict[str, int]]) -> tuple[dict[str, float], dict[str, int]]:
    """Survivals and readout flips, with how many shots each proportion rests on."""
    p = {name: _probabilities(c) for name, c in counts.items()}
    sx = sum(p[f"sx-from-{s}"].get(str(s), 0.0) for s in (0, 1)) / 2
    ecr = sum(p[f"ecr-from-{b}"].get(b, 0.0) for b in ("00", "01", "10", "11")) / 4
    values = {
        "sx": sx,
        "ecr": ecr,
        "flip0": p["prepare-0"].get("1", 0.0),
        "flip1": p["prepare-1"].get("0", 0.0),
    }
    return values, {"sx": 2 * SHOTS, "ecr": 4 * SHOTS, "flip0": SHOTS, "flip1": SHOTS}


def _run(runner: object, circuits: dict[str, QuantumCircuit], seed: int) -> dict[str, dict[str, int]]:
    result = runner.run(list(circuits.values()), shots=SHOTS, seed_simulator=seed).result()  # type: ignore[attr-defined]
    return {name: result.get_counts(i) for i, name in enumerate(circuits)}


@pytest.mark.parametrize("name", sorted(PROBES))
@pytest.mark.slow
def test_noise_matches_the_target_and_aer_from_backend(provider: OQCProvider, name: str) -> None:
    backend = provider.get_backend(name)
    qubit, edge = PROBES[name]
    circuits = _circuits(backend, qubit, edge)
    emulator, shots = _measured(_run(backend, circuits, seed=11))
    reference, _ = _measured(_run(AerSimulator.from_backend(backend), circuits, seed=12))
    predicted = _predicted(backend, qubit, edge)
    for key, expected in predicted.items():
        got = emulator[key]
        assert abs(got - expected) <= Z * _sigma(expected, shots[key]), (name, key, got, expected)
        spread = Z * math.sqrt(2) * _sigma(reference[key], shots[key])
        assert abs(got - reference[key]) <= spread, (name, key, got, reference[key])
    # The sequences really are noisy: well away from the ideal survival of 1 (no vacuous pass).
    assert emulator["sx"] < 0.95 and emulator["ecr"] < 0.85


def test_noiseless_simulator_is_exact(provider: OQCProvider) -> None:
    backend = provider.get_backend("Lucy Simulator")
    measured, _ = _measured(_run(backend, _circuits(backend, 0, (0, 1)), seed=3))
    assert measured == {"sx": 1.0, "ecr": 1.0, "flip0": 0.0, "flip1": 0.0}
