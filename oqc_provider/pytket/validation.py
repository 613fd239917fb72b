"""Checking circuits against the backend's predicates, with messages that say what to do.

pytket's own check names only the failed predicate; here the message also names the offending
gates, symbols or qubits and the fix.

Example:
    >>> from pytket import Circuit
    >>> from sympy import Symbol
    >>> from oqc_provider.devices import LUCY_SIMULATOR
    >>> from oqc_provider.pytket.passes import required_predicates
    >>> circuit = Circuit(1).Rz(Symbol("theta"), 0).measure_all()
    >>> try:
    ...     check_circuit(circuit, 0, required_predicates(LUCY_SIMULATOR), LUCY_SIMULATOR)
    ... except InvalidCircuitError as exc:
    ...     print(exc.predicate, "|", str(exc).split(":")[0])
    NoSymbolsPredicate | Circuit 0 has unbound symbols ['theta']
"""

from __future__ import annotations

from collections.abc import Sequence

from pytket.circuit import Circuit
from pytket.predicates import GateSetPredicate, Predicate

from oqc_provider.devices import DeviceSpec
from oqc_provider.pytket.errors import InvalidCircuitError
from oqc_provider.pytket.passes import gate_set

_COMPILE = "compile it with backend.get_compiled_circuit(circuit) first"


def check_circuit(circuit: Circuit, index: int, predicates: Sequence[Predicate], spec: DeviceSpec) -> None:
    """Raise :class:`InvalidCircuitError` for the first predicate ``circuit`` fails.

    Raises:
        InvalidCircuitError: with the circuit's index, the predicate's name and a fix.
    """
    for predicate in predicates:
        if not predicate.verify(circuit):
            name = type(predicate).__name__
            raise InvalidCircuitError(_explain(circuit, index, name, spec), index, name)


def _explain(circuit: Circuit, index: int, name: str, spec: DeviceSpec) -> str:
    label = f"Circuit {index}" + (f" ({circuit.name!r})" if circuit.name else "")
    if name == "NoSymbolsPredicate":
        symbols = sorted(str(symbol) for symbol in circuit.free_symbols())
        return (
            f"{label} has unbound symbols {symbols}: bind them with "
            "circuit.symbol_substitution({...}) before running."
        )
    if name == GateSetPredicate.__name__:
        allowed = gate_set(spec)
        bad = sorted({cmd.op.type.name for cmd in circuit if cmd.op.type not in allowed})
        return (
            f"{label} uses gates {spec.name} does not run natively: {bad} (allowed: "
            f"{sorted(t.name for t in allowed)}); {_COMPILE}."
        )
    if name == "MaxNQubitsPredicate":
        return f"{label} has {circuit.n_qubits} qubits but {spec.name} has {spec.qubit_count}."
    if name == "ConnectivityPredicate":
        return (
            f"{label} is not placed on {spec.name}'s qubits (node[i]), or has 2-qubit gates on "
            f"qubits that are not coupled; {_COMPILE}."
        )
    if name == "DirectednessPredicate":
        return (
            f"{label} has ECR gates against the direction of {spec.name}'s couplings (ECR is "
            f"directed: {list(spec.couplings)}); {_COMPILE}."
        )
    if name == "NoClassicalControlPredicate":
        return (
            f"{label} uses classically controlled operations, which OQC QPUs do not run; remove them "
            "(measure at the end and post-process the results instead)."
        )
    if name == "NoMidMeasurePredicate":
        return (
            f"{label} acts on qubits after measuring them, but {spec.name} has no mid-circuit "
            "measurement: move every measurement to the end (pytket's DelayMeasures), or pick a "
            "QPU that supports it."
        )
    return f"{label} does not satisfy {name}; {_COMPILE}."


__all__ = ["check_circuit"]
