"""Run options, validated once and usable from every entry point (Qiskit, pytket, the CLI).

A :class:`RunOptions` turns what a user asked for (shots, per-shot memory, a seed, compiler
settings) into the engine's ``CompilerConfig`` and the simulators' ``external_config``, after
checking it against the QPU (shots within its maximum).

Two facts about QCaaS shape the defaults (see docs/service-compilation.md):

* The service compiles every program with OQC's QAT. With ``optimizations`` null it *places and
  routes* the program (tket ``DefaultMappingPass``), so qubits move. The front ends compile for the
  device's Target themselves, so by default they send ``Tket(TketOptimizations.Empty)``
  (:data:`KEEP_LAYOUT`): the program's qubits are the physical qubits. ``oqc-provider run`` sends
  raw programs, which expect the service's placement, so it passes ``optimizations="service"``.
* A seed is a simulator setting: it goes in ``external_config`` only for QPUs whose feature set
  says ``simulator``; hardware is sent nothing it does not document.

Example:
    >>> from oqc_provider.devices import LUCY, LUCY_SIMULATOR
    >>> options = RunOptions(shots=200, memory=True, seed=7)
    >>> config = options.compiler_config()
    >>> config.shots, config.is_binary_count, config.optimizations == KEEP_LAYOUT
    (200, False, True)
    >>> options.external_config(LUCY_SIMULATOR), options.external_config(LUCY)
    ({'seed': 7}, None)
    >>> RunOptions(optimizations="service").compiler_config().optimizations is None
    True
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oqc_provider.devices import SHOT_SELECTION_DEFAULTS, DeviceSpec
from oqc_provider.engine.cost import as_amount
from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    ErrorMitigationConfig,
    MetricsType,
    Optimizations,
    Qasm2Optimizations,
    Qasm3Optimizations,
    QIROptimizations,
    Qiskit,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)
from oqc_provider.qcaas.errors import ConfigurationError

DEFAULT_SHOTS = 1000
DEFAULT_TIMEOUT_S = 3600.0

#: What the front ends send by default: no tket pass on the service, so the program's qubit ``i``
#: is the device's qubit ``i`` (the layout the user, or the front end's compiler, chose).
KEEP_LAYOUT = Tket(tket_optimizations=TketOptimizations.Empty)

#: The named optimisation settings every entry point accepts (``optimizations="two"``,
#: ``oqc-provider run --optimizations two``) and what each sends.
OPTIMIZATION_CHOICES: dict[str, Optimizations | None] = {
    "service": None,  # null: the service's default, tket One (places and routes)
    "empty": KEEP_LAYOUT,  # no tket pass: qubits stay where they are
    "one": Tket(tket_optimizations=TketOptimizations.One),  # placement, routing, CX direction
    "two": Tket(tket_optimizations=TketOptimizations.Two),  # One + FullPeepholeOptimise + ContextSimp
}


def parse_optimizations(value: Any) -> Optimizations | None:
    """``value`` as the ``optimizations`` the config carries.

    Accepts a codec object (``Tket(...)``, ``Qasm2Optimizations(...)``...), ``None`` (the service's
    default), a ``TketOptimizations`` flag (sent as ``Tket(flag)``), or a name of
    :data:`OPTIMIZATION_CHOICES`.

    Raises:
        ValueError: anything else (the message lists the names).
    """
    if value is None or isinstance(value, (Tket, *_OTHER_OPTIMIZATIONS)):
        return value
    if isinstance(value, TketOptimizations):
        return Tket(tket_optimizations=value)
    if isinstance(value, str) and value.strip().lower() in OPTIMIZATION_CHOICES:
        return OPTIMIZATION_CHOICES[value.strip().lower()]
    raise ValueError(
        f"optimizations must be one of {sorted(OPTIMIZATION_CHOICES)}, a TketOptimizations flag or a "
        f"compiler-config object such as Tket(...); got {value!r}"
    )


class RunOptions(BaseModel):
    """What a run asks for. Every field has a safe default.

    Attributes:
        shots: repetitions of each circuit (1 to the QPU's "Maximum Shots").
        memory: also return each shot's outcome (sent as the raw results format).
        seed: makes simulator results reproducible; sent only to simulators.
        timeout: seconds to wait for results before giving up (the job stays resumable).
        tag: a label stored with each task on the server.
        optimizations: what the service's compiler may do to the program. Default
            :data:`KEEP_LAYOUT` (nothing: qubits stay put); ``"service"``/``None`` for the service's
            own default (places and routes), ``"one"``, ``"two"``, a ``TketOptimizations`` flag or
            any codec object (``Tket(...)`` and friends).
        error_mitigation: readout error mitigation (needs one classical register).
        fetch_diagnostics: also fetch timings, metrics (including the physical qubits the
            program ran on) and metadata for each task.
        max_cost: the most this run may cost, in credits as the registry prices them (a Decimal,
            str or int); a run whose estimate is above it, or whose QPU has no published price, is
            refused with ``BudgetExceededError`` before anything is sent. ``None``: no limit.
        pre_selection: measure each qubit the program uses before it starts, and drop the shots
            where one reads a state the QPU disallows (1 by default): results can hold fewer
            shots than asked for. See :mod:`oqc_provider.emulator.selection`.
        post_selection: drop the shots whose measurements the QPU's discriminator classifies as
            a disallowed (leakage) state: results can hold fewer shots than asked for.
        driven_reset: reset qubits with calibrated drive pulses (DDROP) instead of waiting;
            ``passive_reset_time`` is then ignored. Only QPUs with DDROP-calibrated reset accept it.
        passive_reset_time: seconds each qubit idles after a shot to relax (the QPU's own value
            when None).
        preflight: check each program against what the service is known to refuse, and the
            QPU's published limits, before sending it (:mod:`oqc_provider.preflight`); ``False``
            sends it anyway.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)
    shots: int = Field(default=DEFAULT_SHOTS)
    memory: bool = False
    seed: int | None = None
    timeout: float | None = Field(default=DEFAULT_TIMEOUT_S)
    tag: str | None = None
    optimizations: Optimizations | None = KEEP_LAYOUT
    error_mitigation: ErrorMitigationConfig | None = None
    fetch_diagnostics: bool = False
    max_cost: Decimal | None = None
    pre_selection: bool = False
    post_selection: bool = False
    driven_reset: bool = False
    passive_reset_time: float | None = Field(default=None, ge=0.0)
    preflight: bool = True

    @field_validator("shots", mode="before")
    @classmethod
    def _whole_shots(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError(f"shots must be a whole number, got {value!r}")
        if value < 1:
            raise ValueError(f"shots must be at least 1, got {value}")
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _whole_seed(cls, value: Any) -> Any:
        # Pydantic alone would take True as seed 1; the front ends' int() took 1.5 as 1.
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"seed must be a whole number (or None), got {value!r}")
        return int(value) if isinstance(value, float) else value

    @field_validator("optimizations", mode="before")
    @classmethod
    def _named_optimizations(cls, value: Any) -> Any:
        return parse_optimizations(value)

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"timeout must be positive (or None to wait forever), got {value}")
        return value

    @field_validator("max_cost", mode="before")
    @classmethod
    def _exact_max_cost(cls, value: Any) -> Any:
        return None if value is None else as_amount(value, "max_cost")

    @classmethod
    def build(cls, **values: Any) -> RunOptions:
        """Validate options, raising :class:`ConfigurationError` with every problem named.

        Raises:
            ConfigurationError: an option has a bad value, or is unknown.
        """
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {_plain(err['msg'])}"
                for err in exc.errors()
            )
            raise ConfigurationError(f"Invalid run options: {problems}") from None

    def merged(self, **overrides: Any) -> RunOptions:
        """A copy with ``overrides`` applied and validated (the original is untouched)."""
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return RunOptions.build(**{**current, **overrides})

    def check_device(self, device: DeviceSpec) -> None:
        """Raise :class:`ConfigurationError` if the QPU cannot honour these options."""
        if self.shots > device.max_shots:
            raise ConfigurationError(
                f"shots={self.shots} is above {device.name}'s maximum of {device.max_shots}; "
                "ask for fewer shots, or split the run."
            )
        for name in SHOT_SELECTION_DEFAULTS:  # options a QPU's feature set may say it lacks
            if getattr(self, name) and getattr(device, name) is False:
                raise ConfigurationError(
                    f"{name}=True is not accepted by {device.name}: its feature set says "
                    f"'{name}': false. {_REFUSED_BECAUSE[name]}"
                )

    def compiler_config(self) -> CompilerConfig:
        """The engine config these options describe."""
        return CompilerConfig(
            repeats=self.shots,
            results_format=QuantumResultsFormat.raw() if self.memory else QuantumResultsFormat.binary_count(),
            # The physical qubits too when metrics are fetched: with server-side placement they say
            # where the program ran.
            metrics=MetricsType.Experimental if self.fetch_diagnostics else MetricsType.Default,
            optimizations=self.optimizations,
            error_mitigation=self.error_mitigation,
            pre_selection=self.pre_selection,
            post_selection=self.post_selection,
            driven_reset=self.driven_reset,
            passive_reset_time=self.passive_reset_time,
        )

    @property
    def selects_shots(self) -> bool:
        """Whether results may hold fewer shots than asked for (pre- or post-selection is on)."""
        return self.pre_selection or self.post_selection

    def external_config(self, device: DeviceSpec, seed_offset: int = 0) -> dict[str, Any] | None:
        """Settings for simulators beside the config: ``{"seed": seed + seed_offset}`` on a QPU
        whose feature set says ``simulator``; ``None`` otherwise (hardware gets no seed)."""
        if self.seed is None or not device.simulator:
            return None
        return {"seed": self.seed + seed_offset}

    def seed_ignored_on(self, device: DeviceSpec) -> bool:
        """Whether a seed was asked for but will not be sent (``device`` is not a simulator)."""
        return self.seed is not None and not device.simulator


#: What to do instead, per option a QPU refuses.
_REFUSED_BECAUSE = {
    "pre_selection": "Run without it (its compiler has no pre-selection measurement), or use another QPU.",
    "post_selection": "Run without it: the QPU's compiler model cannot discriminate disallowed states.",
    "driven_reset": (
        "Its reset channels are not DDROP-calibrated (QAT: 'Qubit ddrop not calibrated, please use "
        "passive reset.'): run without driven_reset, and set passive_reset_time to wait longer "
        "between shots if you need to."
    ),
}

#: Optimisation settings that are codec objects other than ``Tket``.
_OTHER_OPTIMIZATIONS = (Qiskit, Qasm2Optimizations, Qasm3Optimizations, QIROptimizations)


def plain_int(value: Any) -> Any:
    """``value`` as a Python ``int`` when it is an integer of another type (NumPy's), else unchanged,
    for :class:`RunOptions` to judge: ``int()`` would quietly make ``True`` 1 and ``1.5`` 1.

    >>> import numpy
    >>> plain_int(numpy.int64(7)), plain_int(True), plain_int(1.5), plain_int(None)
    (7, True, 1.5, None)
    """
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        return value
    return int(value)


def _plain(message: str) -> str:
    """Pydantic's message without its ``Value error, `` prefix."""
    return message.removeprefix("Value error, ")
