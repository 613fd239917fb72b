"""The device catalogue: what each OQC QPU is, and its calibration figures.

QCaaS does not say which gates or couplings a QPU has, so the provider carries this catalogue.
Keys the service publishes in a QPU's ``feature_set`` override it (the emulator publishes them
all), so a new device needs data, not code. Calibration figures (T1, T2, readout error, 1q error,
per-edge ECR error) feed the Qiskit Target, pytket's BackendInfo and the emulator's noise model:
one set of numbers, three readers. This module imports neither Qiskit nor pytket.

Example:
    >>> from oqc_provider.devices import CATALOGUE, device_for
    >>> lucy = device_for("qpu:uk:2:d865b5a184")
    >>> lucy.name, lucy.qubit_count, (0, 1) in lucy.couplings
    ('Lucy Simulator', 8, True)
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Gates every OQC QPU runs natively; ``rz`` is virtual (a frame change: no error, no time).
NATIVE_GATES: tuple[str, ...] = ("rz", "sx", "x", "ecr")


class GateDurations(BaseModel):
    """How long each physical operation takes, in seconds."""

    model_config = ConfigDict(frozen=True)
    sx: float = 80e-9
    x: float = 80e-9
    ecr: float = 560e-9
    measure: float = 4e-6
    reset: float = 4e-6


class QubitCalibration(BaseModel):
    """Figures for one qubit; ``None`` means unknown (not published).

    A noiseless simulator publishes ``0.0`` errors and ``None`` T1/T2 (it does not decohere).
    """

    t1: float | None = Field(default=None, description="Energy relaxation time, seconds.")
    t2: float | None = Field(default=None, description="Dephasing time, seconds.")
    readout_error: float | None = Field(default=None, ge=0.0, le=1.0)
    one_qubit_error: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Average gate infidelity of sx/x."
    )
    frequency: float | None = Field(default=None, description="Qubit frequency, Hz.")


_UNCALIBRATED = QubitCalibration()


def _mean(values: Iterable[float | None]) -> float | None:
    """The mean of the known figures, or None when none is known (never an invented 0)."""
    items = [value for value in values if value is not None]
    return sum(items) / len(items) if items else None


class EdgeCalibration(BaseModel):
    """Figures for one directed ECR coupling (control, target); ``None`` error means unknown."""

    control: int
    target: int
    ecr_error: float | None = Field(default=None, ge=0.0, le=1.0)


def calibration_timestamp() -> str:
    """Now, in UTC, as the ISO 8601 ``date`` a freshly made calibration carries."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Calibration(BaseModel):
    """A QPU's calibration as the emulator serves it (``/monitoring/calibrations``, v4 ``benchmarks``).

    ``date`` is when the figures were taken (ISO 8601), or None when the service did not say.
    A calibration with no qubit figures (:meth:`unpublished`) stands for a QPU whose service
    published nothing the provider can read: every figure is unknown, none is invented.
    """

    qpu_id: str
    date: str | None = None
    qubits: dict[int, QubitCalibration]
    edges: list[EdgeCalibration] = Field(default_factory=list)

    @classmethod
    def unpublished(cls, qpu_id: str) -> Calibration:
        """The calibration of a QPU whose figures the service did not publish (all unknown)."""
        return cls(qpu_id=qpu_id, qubits={})

    @property
    def published(self) -> bool:
        """Whether the service published any figures (False for :meth:`unpublished`)."""
        return bool(self.qubits) or bool(self.edges)

    def qubit(self, index: int) -> QubitCalibration:
        """The figures of qubit ``index`` (all unknown when it was not calibrated)."""
        return self.qubits.get(index) or _UNCALIBRATED

    def edge_error(self, control: int, target: int) -> float | None:
        """The ECR error of the coupling ``control -> target`` (None when not calibrated)."""
        return self._edge_errors.get((control, target))

    @property
    def _edge_errors(self) -> dict[tuple[int, int], float | None]:
        # Built on first use: Target and BackendInfo construction look every edge up.
        cached = self.__dict__.get("_edge_error_cache")
        if cached is None:
            cached = {(edge.control, edge.target): edge.ecr_error for edge in self.edges}
            self.__dict__["_edge_error_cache"] = cached
        return cached

    def average_one_qubit_error(self) -> float | None:
        """Mean ``sx``/``x`` error over the calibrated qubits (None when none is known)."""
        return _mean(q.one_qubit_error for q in self.qubits.values())

    def average_readout_error(self) -> float | None:
        """Mean readout error over the calibrated qubits (None when none is known)."""
        return _mean(q.readout_error for q in self.qubits.values())

    def average_ecr_error(self) -> float | None:
        """Mean ECR error over the calibrated couplings (None when none is known)."""
        return _mean(edge.ecr_error for edge in self.edges)

    @property
    def is_noiseless(self) -> bool:
        """Whether the figures are published and all perfect (no decoherence, no gate or readout error)."""
        return (
            self.published
            and all(
                q.t1 is None and q.t2 is None and q.readout_error == 0 and q.one_qubit_error == 0
                for q in self.qubits.values()
            )
            and all(edge.ecr_error == 0 for edge in self.edges)
        )


#: What QAT 3.5's pipeline path does with each compiler-config 0.3 option on its default (pydantic)
#: hardware models, as recorded in tests/fixtures/qat/selection.json: pre- and post-selection are
#: accepted; driven reset is refused ("Qubit ddrop not calibrated, please use passive reset."), as
#: no default model has DDROP-calibrated reset channels. The emulator publishes these for QPUs whose
#: catalogue entry says nothing.
SHOT_SELECTION_DEFAULTS: dict[str, bool] = {
    "pre_selection": True,
    "post_selection": True,
    "driven_reset": False,
}


class DeviceSpec(BaseModel):
    """What a QPU is: size, directed couplings, native gates, limits and timings."""

    model_config = ConfigDict(frozen=True)
    qpu_id: str
    name: str
    qubit_count: int = Field(ge=1)
    couplings: tuple[tuple[int, int], ...]
    native_gates: tuple[str, ...] = NATIVE_GATES
    supports_reset: bool = False
    supports_mid_circuit_measurement: bool = False
    max_shots: int = 100_000
    simulator: bool = False
    noisy: bool = True
    #: A device the built-in emulator offers that QCaaS does not (its id is not a real QPU's).
    emulator_only: bool = False
    region: str = "uk"
    generation: int = 2
    dt: float = 0.5e-9
    durations: GateDurations = GateDurations()
    #: Whether the QPU's compiler accepts ``pre_selection`` / ``post_selection`` / ``driven_reset``
    #: (compiler-config 0.3). None: unknown, the service decides. The emulator publishes QAT 3.5's
    #: pipeline-path answer for its default hardware models (see :data:`SHOT_SELECTION_DEFAULTS`).
    pre_selection: bool | None = None
    post_selection: bool | None = None
    driven_reset: bool | None = None

    def feature_set(self) -> dict[str, Any]:
        """The ``feature_set`` the emulator publishes: QCaaS's own keys plus the catalogue's."""
        return {
            "always_on": True,
            "qubit_count": self.qubit_count,
            "simulator": self.simulator,
            "Maximum Shots": self.max_shots,
            "native_gates": list(self.native_gates),
            "coupling_map": [list(edge) for edge in self.couplings],
            "reset": self.supports_reset,
            "mid_circuit_measurement": self.supports_mid_circuit_measurement,
            "dt": self.dt,
            "emulator_only": self.emulator_only,
            **{
                name: default if getattr(self, name) is None else getattr(self, name)
                for name, default in SHOT_SELECTION_DEFAULTS.items()
            },
        }

    def with_features(self, features: dict[str, Any]) -> DeviceSpec:
        """This spec with any catalogue keys the service published in ``feature_set`` applied."""
        updates: dict[str, Any] = {}
        if isinstance(features.get("qubit_count"), int):
            updates["qubit_count"] = features["qubit_count"]
        if isinstance(features.get("Maximum Shots"), int):
            updates["max_shots"] = features["Maximum Shots"]
        if isinstance(features.get("simulator"), bool):
            updates["simulator"] = features["simulator"]
        if isinstance(features.get("native_gates"), list):
            updates["native_gates"] = tuple(str(g) for g in features["native_gates"])
        if isinstance(features.get("coupling_map"), list):
            updates["couplings"] = tuple((int(a), int(b)) for a, b in features["coupling_map"])
        if isinstance(features.get("reset"), bool):
            updates["supports_reset"] = features["reset"]
        if isinstance(features.get("mid_circuit_measurement"), bool):
            updates["supports_mid_circuit_measurement"] = features["mid_circuit_measurement"]
        if isinstance(features.get("dt"), int | float):
            updates["dt"] = float(features["dt"])
        if isinstance(features.get("emulator_only"), bool):
            updates["emulator_only"] = features["emulator_only"]
        for name in SHOT_SELECTION_DEFAULTS:
            if isinstance(features.get(name), bool):
                updates[name] = features[name]
        return self.model_copy(update=updates)


# Lucy's directed ECR couplings: an 8-qubit ring, one direction per coupling.
_LUCY_COUPLINGS: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 7), (1, 2), (2, 3), (4, 3), (4, 5), (6, 5), (7, 6),
)  # fmt: skip


def _kagome_couplings() -> tuple[int, tuple[tuple[int, int], ...]]:
    """A 35-node Kagome-like lattice with 3 unusable nodes, re-indexed to 32 usable qubits.

    Three chain rows of 9 nodes alternate with two bridge rows of 4 nodes; each bridge node
    closes a triangle with the chain above and another with the chain below (corner-sharing
    triangles, as in a Kagome lattice). ECR direction alternates with the node parity, as
    fixed-frequency transmon pairs do.
    """
    chain, bridge = 9, 4
    nodes: dict[tuple[str, int, int], int] = {}
    for row in range(3):
        for col in range(chain):
            nodes[("a", row, col)] = len(nodes)
        if row < 2:
            for col in range(bridge):
                nodes[("b", row, col)] = len(nodes)
    edges: set[tuple[int, int]] = set()
    for row in range(3):
        for col in range(chain - 1):
            edges.add((nodes[("a", row, col)], nodes[("a", row, col + 1)]))
        if row < 2:
            for col in range(bridge):
                b = nodes[("b", row, col)]
                for above in (2 * col, 2 * col + 1):
                    edges.add((nodes[("a", row, above)], b))
                for below in (2 * col + 1, 2 * col + 2):
                    edges.add((b, nodes[("a", row + 1, below)]))
    unusable = {nodes[("a", 0, 8)], nodes[("a", 2, 0)], nodes[("a", 2, 8)]}
    usable = sorted(set(nodes.values()) - unusable)
    index = {node: i for i, node in enumerate(usable)}
    directed = []
    for a, b in sorted(edges):
        if a in unusable or b in unusable:
            continue
        low, high = sorted((index[a], index[b]))
        directed.append((low, high) if (low + high) % 2 else (high, low))
    return len(usable), tuple(sorted(directed))


_TOSHIKO_QUBITS, _TOSHIKO_COUPLINGS = _kagome_couplings()

LUCY_SIMULATOR = DeviceSpec(
    qpu_id="qpu:uk:2:d865b5a184",
    name="Lucy Simulator",
    qubit_count=8,
    couplings=_LUCY_COUPLINGS,
    simulator=True,
    noisy=False,
    supports_reset=True,
    supports_mid_circuit_measurement=True,
    max_shots=100_000,
)
LUCY = DeviceSpec(
    qpu_id="qpu:uk:2:1a2b3c4d5e",
    name="Lucy",
    qubit_count=8,
    couplings=_LUCY_COUPLINGS,
    simulator=False,
    noisy=True,
    emulator_only=True,  # a noisy 8-qubit ring to try things on; QCaaS lists no QPU with this id
    max_shots=10_000,
)
TOSHIKO = DeviceSpec(
    qpu_id="qpu:jp:3:673b1ad43c",
    name="Toshiko",
    qubit_count=_TOSHIKO_QUBITS,
    couplings=_TOSHIKO_COUPLINGS,
    simulator=False,
    noisy=True,
    supports_reset=True,
    supports_mid_circuit_measurement=True,
    max_shots=100_000,
    region="jp",
    generation=3,
)

#: Every QPU the provider knows, by QPU id.
CATALOGUE: dict[str, DeviceSpec] = {spec.qpu_id: spec for spec in (LUCY_SIMULATOR, LUCY, TOSHIKO)}


def device_for(qpu_id: str, features: dict[str, Any] | None = None, name: str | None = None) -> DeviceSpec:
    """The spec of ``qpu_id``: the catalogue's entry with the service's ``feature_set`` applied.

    A QPU missing from the catalogue is described from its features alone; without a
    ``coupling_map`` it is taken as fully connected in both directions, which the service's own
    compiler handles.
    """
    features = features or {}
    spec = CATALOGUE.get(qpu_id)
    if spec is None:
        count = int(features.get("qubit_count", 8))
        spec = DeviceSpec(
            qpu_id=qpu_id,
            name=name or qpu_id,
            qubit_count=count,
            couplings=tuple((a, b) for a in range(count) for b in range(count) if a != b),
        )
    return spec.with_features(features)


def reference_calibration(spec: DeviceSpec, seed: int = 2026, date: str | None = None) -> Calibration:
    """The emulator's calibration figures for ``spec``, fixed for a given seed.

    Noiseless simulators get perfect figures. Noisy devices get per-qubit and per-edge figures
    drawn around typical OQC values (T1 ~ 60-120 µs, readout ~ 2-5 %, 1q ~ 5e-4-1e-3, ECR ~ 1-2 %),
    each gate error above the relaxation limit of its duration (:func:`relaxation_infidelity`), so
    the Target, BackendInfo and emulator noise differ realistically from qubit to qubit. These are
    the emulator's own figures: the provider never shows them for a real QPU. ``date`` defaults to
    now (when the emulator built them), never to a made-up day.
    """
    date = date or calibration_timestamp()
    if not spec.noisy:
        return Calibration(
            qpu_id=spec.qpu_id,
            date=date,
            qubits={
                q: QubitCalibration(readout_error=0.0, one_qubit_error=0.0) for q in range(spec.qubit_count)
            },
            edges=[EdgeCalibration(control=c, target=t, ecr_error=0.0) for c, t in spec.couplings],
        )
    rng = random.Random(f"{spec.qpu_id}:{seed}")
    durations = spec.durations
    qubits = {}
    for q in range(spec.qubit_count):
        t1 = rng.uniform(60e-6, 120e-6)
        t2 = rng.uniform(0.5, 1.2) * t1
        qubits[q] = QubitCalibration(
            t1=t1,
            t2=t2,
            readout_error=rng.uniform(0.02, 0.05),
            # A gate's error is at least what relaxation over its duration costs (a figure below
            # that no device can show), plus control error: so the noise can match it exactly.
            one_qubit_error=relaxation_infidelity([(t1, t2)], durations.sx) + rng.uniform(1e-4, 4e-4),
            frequency=rng.uniform(3.8e9, 4.6e9),
        )
    edges = []
    for c, t in spec.couplings:
        pair = [(qubits[q].t1, qubits[q].t2) for q in (c, t)]
        limit = relaxation_infidelity(pair, durations.ecr)  # type: ignore[arg-type]
        edges.append(EdgeCalibration(control=c, target=t, ecr_error=limit + rng.uniform(0.002, 0.008)))
    return Calibration(qpu_id=spec.qpu_id, date=date, qubits=qubits, edges=edges)


def relaxation_infidelity(coherence: list[tuple[float, float]], duration: float) -> float:
    """The average gate infidelity that T1/T2 relaxation alone costs over ``duration`` seconds.

    ``coherence`` holds (T1, T2) per qubit of the gate (T2 capped at 2 T1, as physics demands).
    Per qubit, relaxation keeps a fraction ``(2 + 2 e^{-t/T2} - (1 - e^{-t/T1})) / 4`` of the
    entanglement fidelity; for independent qubits these multiply, and the average gate fidelity
    of a d-dimensional channel is ``(d F_e + 1) / (d + 1)``. An advertised gate error below this
    figure is unreachable with those T1/T2: Aer (and the emulator) then apply relaxation only.
    """
    entanglement = 1.0
    for t1, t2 in coherence:
        damping = 1 - math.exp(-duration / t1)
        coherent = math.exp(-duration / min(t2, 2 * t1))
        entanglement *= (2 + 2 * coherent - damping) / 4
    dim = 2 ** len(coherence)
    return dim * (1 - entanglement) / (dim + 1)
