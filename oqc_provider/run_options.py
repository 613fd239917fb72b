"""Run options, validated once and usable from every entry point (Qiskit, pytket, the CLI).

A :class:`RunOptions` turns what a user asked for (shots, per-shot memory, a seed, compiler
settings) into the engine's ``CompilerConfig`` and the emulator's ``external_config``, after
checking it against the QPU (shots within its maximum).

Example:
    >>> options = RunOptions(shots=200, memory=True, seed=7)
    >>> config = options.compiler_config()
    >>> config.shots, config.is_binary_count, options.external_config()
    (200, False, {'seed': 7})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oqc_provider.devices import DeviceSpec
from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    ErrorMitigationConfig,
    MetricsType,
    Optimizations,
    QuantumResultsFormat,
)
from oqc_provider.qcaas.errors import ConfigurationError

DEFAULT_SHOTS = 1000
DEFAULT_TIMEOUT_S = 3600.0


class RunOptions(BaseModel):
    """What a run asks for. Every field has a safe default.

    Attributes:
        shots: repetitions of each circuit (1 to the QPU's "Maximum Shots").
        memory: also return each shot's outcome (sent as the raw results format).
        seed: makes simulator results reproducible; hardware ignores it.
        timeout: seconds to wait for results before giving up (the job stays resumable).
        tag: a label stored with each task on the server.
        optimizations: QCaaS compiler optimisations (``Tket(...)`` and friends).
        error_mitigation: readout error mitigation (needs one classical register).
        fetch_diagnostics: also fetch timings, metrics and metadata for each task.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)
    shots: int = Field(default=DEFAULT_SHOTS)
    memory: bool = False
    seed: int | None = None
    timeout: float | None = Field(default=DEFAULT_TIMEOUT_S)
    tag: str | None = None
    optimizations: Optimizations | None = None
    error_mitigation: ErrorMitigationConfig | None = None
    fetch_diagnostics: bool = False

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

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"timeout must be positive (or None to wait forever), got {value}")
        return value

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
        return RunOptions.build(**{**self.model_dump(), **overrides})

    def check_device(self, device: DeviceSpec) -> None:
        """Raise :class:`ConfigurationError` if the QPU cannot honour these options."""
        if self.shots > device.max_shots:
            raise ConfigurationError(
                f"shots={self.shots} is above {device.name}'s maximum of {device.max_shots}; "
                "ask for fewer shots, or split the run."
            )

    def compiler_config(self) -> CompilerConfig:
        """The engine config these options describe."""
        return CompilerConfig(
            repeats=self.shots,
            results_format=QuantumResultsFormat.raw() if self.memory else QuantumResultsFormat.binary_count(),
            metrics=MetricsType.Default,
            optimizations=self.optimizations,
            error_mitigation=self.error_mitigation,
        )

    def external_config(self) -> dict[str, Any] | None:
        """Settings for simulators beside the config (the seed), or ``None``."""
        return {"seed": self.seed} if self.seed is not None else None


def _plain(message: str) -> str:
    """Pydantic's message without its ``Value error, `` prefix."""
    return message.removeprefix("Value error, ")
