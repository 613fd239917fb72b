"""What ``OQCTketBackend.process_circuits`` does before anything is sent: options, checks, programs, jobs.

Its keywords are merged into the backend's :class:`~oqc_provider.run_options.RunOptions` (unknown
ones warn), each circuit's options are checked against the QPU, circuits are checked against the
backend's predicates and turned into wire programs, and each program becomes an engine job. Nothing
here talks to the service or records anything: ``estimate_cost`` prepares the same way.

Example:
    >>> from pytket import Circuit
    >>> from oqc_provider.pytket import OQCTketBackend
    >>> backend = OQCTketBackend("Lucy Simulator")
    >>> circuit = backend.get_compiled_circuit(Circuit(1).X(0).measure_all())
    >>> options, base = run_options([10], {"seed": 3}, defaults=backend.options, qpu=backend.qpu)
    >>> [option.shots for option in options], base.seed
    ([10], 3)
    >>> [len(program.bits) for program in wire_programs([circuit], backend.qpu, backend.required_predicates)]
    [1]
    >>> backend.close()
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

from pytket.circuit import Circuit
from pytket.predicates import Predicate

from oqc_provider.engine.job import Job
from oqc_provider.engine.sdk import OqcSdk
from oqc_provider.pytket.errors import InvalidCircuitError
from oqc_provider.pytket.programs import WireProgram, to_program
from oqc_provider.pytket.validation import check_circuit
from oqc_provider.run_options import RunOptions, plain_int
from oqc_provider.session import QpuInfo

#: Keyword arguments of ``get_result`` that ``run_circuits`` also hands to ``process_circuits``.
RESULT_KWARGS = frozenset({"timeout", "wait"})
SUBMIT_KWARGS = frozenset(
    {"seed", "tag", "memory", "optimizations", "postprocess", "simplify_initial", "max_cost", "preflight"}
)
#: compiler-config 0.3 options ``process_circuits`` passes on (see :class:`RunOptions`).
SELECTION_KWARGS = frozenset({"pre_selection", "post_selection", "driven_reset", "passive_reset_time"})

# Warnings point at the caller of process_circuits (or estimate_cost): it calls the backend's
# _prepare, which calls here.
_USER_STACKLEVEL = 4


class Prepared(NamedTuple):
    """Each circuit's wire program and run options, and the options common to all of them."""

    programs: list[WireProgram]
    options: list[RunOptions]
    base: RunOptions


def run_options(
    shots: list[int],
    kwargs: dict[str, Any],
    *,
    defaults: RunOptions,
    qpu: QpuInfo,
    warn_seed: bool = True,
) -> tuple[list[RunOptions], RunOptions]:
    """Each circuit's run options, and those common to all: ``process_circuits``'s keywords over ``defaults``.

    Args:
        shots: each circuit's shots (already resolved from ``n_shots`` and the defaults).
        kwargs: ``process_circuits``'s keywords (unknown ones warn).
        defaults: the backend's run options.
        qpu: the QPU the circuits run on.
        warn_seed: warn when a seed is given for a QPU that is not a simulator (once per backend).

    Raises:
        ConfigurationError: bad options, e.g. more shots than the QPU's maximum.
    """
    for name in sorted(set(kwargs) - SUBMIT_KWARGS - RESULT_KWARGS - SELECTION_KWARGS):
        warnings.warn(
            f"OQCTketBackend ignores the unknown option {name}={kwargs[name]!r}.", stacklevel=_USER_STACKLEVEL
        )
    if kwargs.get("postprocess"):
        warnings.warn(
            "OQCTketBackend does not support contextual optimisation; ignored.", stacklevel=_USER_STACKLEVEL
        )
    spec = qpu.device
    seed = kwargs.get("seed", defaults.seed)
    base = defaults.merged(
        seed=plain_int(seed),  # True and 1.5 are refused, not rounded
        tag=kwargs.get("tag", defaults.tag),
        max_cost=kwargs.get("max_cost", defaults.max_cost),
        optimizations=kwargs.get("optimizations", defaults.optimizations),
        preflight=bool(kwargs.get("preflight", defaults.preflight)),
        # Every shot comes back (get_shots() works as on AerBackend) unless readout
        # mitigation asks for the counts format, the only one it applies to.
        memory=defaults.error_mitigation is None,
        **{name: kwargs[name] for name in SELECTION_KWARGS & set(kwargs)},
    )
    options = []
    for count in shots:
        option = base.merged(shots=count)
        option.check_device(spec)
        options.append(option)
    if warn_seed and base.seed_ignored_on(spec):
        warnings.warn(
            f"{qpu.name} is not a simulator: seed={base.seed} is not sent (QCaaS documents "
            "seeds for simulators only), so its counts are not reproducible.",
            stacklevel=_USER_STACKLEVEL,
        )
    return options, base


def wire_programs(
    circuits: list[Circuit], qpu: QpuInfo, predicates: list[Predicate] | None
) -> list[WireProgram]:
    """Each circuit's program, after checking it against ``predicates`` (``None``: no check).

    Raises:
        InvalidCircuitError: a circuit fails a predicate or cannot be written as a program (its
            index is in the message).
    """
    if predicates is not None:
        for index, circuit in enumerate(circuits):
            check_circuit(circuit, index, predicates, qpu.device)
    return [_program(circuit, index, qpu) for index, circuit in enumerate(circuits)]


def new_jobs(sdk: OqcSdk, qpu: QpuInfo, programs: list[WireProgram], options: list[RunOptions]) -> list[Job]:
    """One engine job per circuit (nothing is sent, nothing recorded)."""
    return [
        sdk.new_job(
            program.qasm,
            qpu.qpu_id,
            option.compiler_config(),
            tag=options[0].tag,
            fetch_diagnostics=options[0].fetch_diagnostics,
            external_config=option.external_config(qpu.device, seed_offset=index),
        )
        for index, (program, option) in enumerate(zip(programs, options, strict=True))
    ]


def _program(circuit: Circuit, index: int, qpu: QpuInfo) -> WireProgram:
    try:
        return to_program(circuit, qpu.device)
    except InvalidCircuitError as exc:
        raise InvalidCircuitError(f"Circuit {index}: {exc}", index, exc.predicate) from exc


__all__ = [
    "RESULT_KWARGS",
    "SELECTION_KWARGS",
    "SUBMIT_KWARGS",
    "Prepared",
    "new_jobs",
    "run_options",
    "wire_programs",
]
