"""What a circuit must satisfy to run on an OQC QPU, and the pytket passes that get it there.

OQC QPUs run ``rz`` (virtual), ``sx``, ``x`` and a *directed* ``ecr``: each coupling has one
direction. Every compilation level therefore does the same skeleton, with more optimisation at
higher levels:

1. decompose boxes and rebase everything (CCX, CSWAP, 3-qubit gates...) to CX + TK1, so routing
   only ever sees 1- and 2-qubit gates;
2. (levels 1-3) optimise the logical circuit;
3. place and route onto the device graph with CX gates in the *allowed* direction only
   (``directed_cx=True``), delaying measurements where the device has no mid-circuit measurement.
   A circuit whose qubits are all device nodes already (the user placed it, e.g. with
   ``Placement.place_with_map``) keeps them: only routing may add swaps. pytket's placers would
   otherwise place it again (a Bell pair placed on nodes 6, 5 of Lucy ends up on 1, 2);
4. rebase to ``{ECR, Rz, SX, X}`` (a directed CX becomes an ECR in the same direction) and squash
   single-qubit runs, which never touches connectivity or direction.

Example:
    >>> from pytket import Circuit
    >>> from oqc_provider.devices import LUCY_SIMULATOR
    >>> compiled = Circuit(3).CCX(0, 1, 2).CX(2, 0).measure_all()
    >>> default_compilation_pass(LUCY_SIMULATOR, 1).apply(compiled)
    True
    >>> all(p.verify(compiled) for p in required_predicates(LUCY_SIMULATOR))
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from pytket.architecture import Architecture
from pytket.circuit import Circuit, Node, OpType
from pytket.passes import (
    AutoRebase,
    AutoSquash,
    BasePass,
    CustomPassMap,
    CXMappingPass,
    DecomposeBoxes,
    FullPeepholeOptimise,
    RemoveRedundancies,
    SequencePass,
    SynthesiseTket,
)
from pytket.placement import GraphPlacement, NoiseAwarePlacement, Placement
from pytket.predicates import (
    CompilationUnit,
    ConnectivityPredicate,
    DirectednessPredicate,
    GateSetPredicate,
    MaxNQubitsPredicate,
    NoClassicalControlPredicate,
    NoMidMeasurePredicate,
    NoSymbolsPredicate,
    Predicate,
)
from pytket.unit_id import UnitID

from oqc_provider.devices import DeviceSpec

#: The one table from the device catalogue's native gate names to pytket OpTypes.
OPTYPE_OF_GATE: dict[str, OpType] = {"rz": OpType.Rz, "sx": OpType.SX, "x": OpType.X, "ecr": OpType.ECR}

#: A map between a circuit's units (qubits and bits), as CompilationUnit maps are.
UnitMap = dict[UnitID, UnitID]

#: The gates every level squashes single-qubit runs into (``x`` is kept only where rebase emits it).
_SQUASH_GATES = frozenset({OpType.Rz, OpType.SX})

#: The highest optimisation level :func:`default_compilation_pass` accepts.
MAX_OPTIMISATION_LEVEL = 3


def architecture(spec: DeviceSpec) -> Architecture:
    """The device's directed ECR couplings as a pytket Architecture of ``Node(i)``."""
    return Architecture([(Node(control), Node(target)) for control, target in spec.couplings])


def native_gate_types(spec: DeviceSpec) -> set[OpType]:
    """The device's native gates as OpTypes (gates pytket does not know are left out)."""
    return {OPTYPE_OF_GATE[name] for name in spec.native_gates if name in OPTYPE_OF_GATE}


def gate_set(spec: DeviceSpec) -> set[OpType]:
    """Every OpType a circuit may contain: native gates, measure, barrier, and reset where supported."""
    gates = native_gate_types(spec) | {OpType.Measure, OpType.Barrier}
    if spec.supports_reset:
        gates.add(OpType.Reset)
    return gates


def required_predicates(spec: DeviceSpec) -> list[Predicate]:
    """What the device (and the emulator, which checks the same) requires of a circuit.

    Native gates only; 2-qubit gates on coupled qubits and in the coupling's direction; no free
    symbols; no classical control (QCaaS runs no conditional gates or classical operations);
    measurements only at the end where the device has no mid-circuit measurement.
    """
    arch = architecture(spec)
    predicates: list[Predicate] = [  # what compilation cannot fix first, for clearer errors
        NoSymbolsPredicate(),
        NoClassicalControlPredicate(),
        MaxNQubitsPredicate(spec.qubit_count),
        GateSetPredicate(gate_set(spec)),
        ConnectivityPredicate(arch),
        DirectednessPredicate(arch),
    ]
    if not spec.supports_mid_circuit_measurement:
        predicates.append(NoMidMeasurePredicate())
    return predicates


def rebase_pass(spec: DeviceSpec) -> BasePass:
    """Convert every gate to the device's native gates (ignoring connectivity and direction)."""
    return AutoRebase(native_gate_types(spec))


def _finish(spec: DeviceSpec) -> list[BasePass]:
    """Rebase to native gates and squash single-qubit runs: keeps connectivity and direction."""
    squash = _SQUASH_GATES & native_gate_types(spec)
    return [rebase_pass(spec), AutoSquash(squash), RemoveRedundancies(), rebase_pass(spec)]


def default_compilation_pass(
    spec: DeviceSpec,
    optimisation_level: int = 2,
    *,
    node_errors: Mapping[Node, float] | None = None,
    link_errors: Mapping[tuple[Node, Node], float] | None = None,
    readout_errors: Mapping[Node, float] | None = None,
) -> BasePass:
    """A pass that turns any circuit of 1-, 2- and 3-qubit gates and boxes into one the device runs.

    Levels: 0 routes and rebases only; 1 adds light optimisation (``SynthesiseTket``) before and
    after routing; 2 uses ``FullPeepholeOptimise`` and noise-aware placement from the error figures;
    3 is level 2 plus a second optimisation round after routing.

    Raises:
        ValueError: ``optimisation_level`` is not 0-3.
    """
    if optimisation_level not in range(MAX_OPTIMISATION_LEVEL + 1):
        raise ValueError(f"optimisation_level must be 0, 1, 2 or 3, got {optimisation_level!r}.")
    arch = architecture(spec)
    placer: Placement
    if optimisation_level >= 2:
        placer = NoiseAwarePlacement(
            arch, dict(node_errors or {}), dict(link_errors or {}), dict(readout_errors or {})
        )
    else:
        placer = GraphPlacement(arch)
    passes: list[BasePass] = [DecomposeBoxes(), AutoRebase({OpType.CX, OpType.TK1})]
    if optimisation_level == 1:
        passes.append(SynthesiseTket())
    elif optimisation_level >= 2:
        passes.append(FullPeepholeOptimise())
    passes.append(_mapping_pass(spec, arch, placer))
    if optimisation_level >= 1:
        passes.append(SynthesiseTket())  # commutes and merges; CX stay on their (directed) pairs
    if optimisation_level >= 3:
        passes += [RemoveRedundancies(), SynthesiseTket()]
    passes += _finish(spec)
    return SequencePass(passes)


def _mapping_pass(spec: DeviceSpec, arch: Architecture, placer: Placement) -> BasePass:
    """Place (unless the circuit is placed already), route with directed CX, delay measures.

    The choice between placing and keeping a placement depends on the circuit, so it is made in
    a ``CustomPassMap`` that returns the maps the inner ``CXMappingPass`` recorded: a plain
    ``CustomPass`` would leave a CompilationUnit's ``initial_map``/``final_map`` at ``q[i] -> q[i]``
    while the circuit acts on ``node[...]``, and tools that follow the maps (qermit, observables)
    would measure the wrong qubits.
    """
    delay_measures = not spec.supports_mid_circuit_measurement
    place = CXMappingPass(arch, placer, directed_cx=True, delay_measures=delay_measures)
    # The base Placement maps qubits that are already device nodes to themselves.
    keep = CXMappingPass(arch, Placement(arch), directed_cx=True, delay_measures=delay_measures)
    nodes = set(arch.nodes)

    def transform(circuit: Circuit) -> tuple[Circuit, tuple[UnitMap, UnitMap]]:
        placed = bool(circuit.qubits) and all(qubit in nodes for qubit in circuit.qubits)
        unit = CompilationUnit(circuit)
        (keep if placed else place).apply(unit)
        return unit.circuit, (unit.initial_map, unit.final_map)

    return CustomPassMap(transform, label="OQCMapping")


__all__ = [
    "MAX_OPTIMISATION_LEVEL",
    "OPTYPE_OF_GATE",
    "architecture",
    "default_compilation_pass",
    "gate_set",
    "native_gate_types",
    "rebase_pass",
    "required_predicates",
]
