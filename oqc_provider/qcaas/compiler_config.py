"""The QCaaS compiler configuration and its tagged JSON codec.

QCaaS carries a task's settings as a *string* holding the output of OQC's ``compiler-config``
library: objects are written as ``{"$type": "<class 'compiler_config.config.X'>", "$data": {...}}``
and flags as ``{"$type": "<enum 'compiler_config.config.Y'>", "$value": 3}``. This module writes
that format byte-compatibly and reads it as leniently as ``compiler-config`` 0.3 does:

* ``$type`` strings with the old module paths (``scc.compiler.config.``, ``qat.purr.compiler.config.``)
  are accepted;
* fields a peer did not send keep their defaults (older clients omit the 0.3 booleans);
* unknown ``$data`` keys are ignored (OQC's SDK leaks ``noise``/``bond_dimension`` into it);
* unknown flag bits are dropped with a warning.

Example:
    >>> from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
    >>> config = CompilerConfig(repeats=100, results_format=QuantumResultsFormat.binary_count())
    >>> CompilerConfig.from_json(config.to_json()) == config
    True
    >>> config.shots, config.is_binary_count
    (100, True)
"""

from __future__ import annotations

import json
import logging
import re
from enum import IntFlag
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from oqc_provider.qcaas.errors import ConfigDecodeError

logger = logging.getLogger(__name__)

#: The shot count QCaaS uses when a config leaves ``repeats`` unset (null).
DEFAULT_SHOTS = 1000

_MODULE = "compiler_config.config"
#: Module prefixes older peers write in ``$type``; all mean ``compiler_config.config``.
_KNOWN_MODULES = (_MODULE, "scc.compiler.config", "qat.purr.compiler.config")
_TYPE_PATTERN = re.compile(r"^<(class|enum) '([\w.]+)\.(\w+)'>$")


class InlineResultsProcessing(IntFlag):
    """How the runtime post-processes each register's readouts."""

    Raw = 1
    Binary = 2
    NumpyArrays = 4
    Experiment = Raw | NumpyArrays
    Program = Binary


class ResultsFormatting(IntFlag):
    """Transforms applied to the result structure; ``BinaryCount`` gives bitstring counts."""

    BinaryCount = 1
    DynamicStructureReturn = 2
    SquashBinaryResultArrays = 4


class MetricsType(IntFlag):
    """Which metrics the runtime reports in ``execution_metadata``."""

    Empty = 1
    OptimizedCircuit = 2
    OptimizedInstructionCount = 4
    PhysicalQubitIndices = 8
    Default = OptimizedCircuit | OptimizedInstructionCount
    Experimental = Default | PhysicalQubitIndices


class ErrorMitigationConfig(IntFlag):
    """Readout error mitigation; needs BinaryCount and a single classical register."""

    Empty = 1
    MatrixMitigation = 2
    LinearMitigation = 4


class TketOptimizations(IntFlag):
    """pytket passes the QCaaS compiler may run."""

    Empty = 1
    DefaultMappingPass = 2
    FullPeepholeOptimise = 4
    ContextSimp = 8
    DirectionalCXGates = 16
    CliffordSimp = 32
    DecomposeArbitrarilyControlledGates = 64
    KAKDecomposition = 256
    PeepholeOptimise2Q = 512
    RemoveDiscarded = 1024
    RemoveBarriers = 2048
    RemoveRedundancies = 4096
    ThreeQubitSquash = 8192
    SimplifyMeasured = 16384
    One = DefaultMappingPass | DirectionalCXGates
    Two = One | FullPeepholeOptimise | ContextSimp


class QiskitOptimizations(IntFlag):
    """Qiskit passes the QCaaS compiler may run (only ``Empty`` exists today)."""

    Empty = 1


class QatOptimizations(IntFlag):
    """QAT passes the QCaaS compiler may run (only ``Empty`` exists today)."""

    Empty = 1


_FLAGS: dict[str, type[IntFlag]] = {
    flag.__name__: flag
    for flag in (
        InlineResultsProcessing,
        ResultsFormatting,
        MetricsType,
        ErrorMitigationConfig,
        TketOptimizations,
        QiskitOptimizations,
        QatOptimizations,
    )
}


class _Tagged(BaseModel):
    """Base of every object written as ``{"$type": ..., "$data": ...}``."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    #: The class name ``compiler-config`` uses for this object.
    wire_name: ClassVar[str]


class QuantumResultsFormat(_Tagged):
    """The shape of a task's results.

    The builders mirror ``compiler-config``: ``binary_count()`` (the default QCaaS clients send)
    gives ``{register: {bitstring: count}}``; ``raw()`` gives per-shot readouts.
    """

    wire_name: ClassVar[str] = "QuantumResultsFormat"
    format: InlineResultsProcessing | None = None
    transforms: ResultsFormatting = ResultsFormatting.DynamicStructureReturn

    @classmethod
    def raw(cls) -> QuantumResultsFormat:
        """Per-shot readouts for every bit of every register."""
        return cls(format=InlineResultsProcessing.Raw)

    @classmethod
    def binary(cls) -> QuantumResultsFormat:
        """The most likely value of each bit."""
        return cls(format=InlineResultsProcessing.Binary)

    @classmethod
    def binary_count(cls) -> QuantumResultsFormat:
        """Bitstring counts per register, ``c[0]`` leftmost."""
        return cls(
            format=InlineResultsProcessing.Raw,
            transforms=ResultsFormatting.BinaryCount | ResultsFormatting.DynamicStructureReturn,
        )

    @classmethod
    def squash_binary_result_arrays(cls) -> QuantumResultsFormat:
        """Most likely bit values squashed into one string per register."""
        return cls(
            format=InlineResultsProcessing.Binary,
            transforms=ResultsFormatting.SquashBinaryResultArrays | ResultsFormatting.DynamicStructureReturn,
        )


class Tket(_Tagged):
    """Run these pytket optimisations in the QCaaS compiler.

    ``Tket()`` means ``Empty``, as in ``compiler-config``; pass ``TketOptimizations.One`` for its
    ``.default()`` set.
    """

    wire_name: ClassVar[str] = "Tket"
    tket_optimizations: TketOptimizations = TketOptimizations.Empty


class Qiskit(_Tagged):
    """Run these Qiskit optimisations in the QCaaS compiler."""

    wire_name: ClassVar[str] = "Qiskit"
    qiskit_optimizations: QiskitOptimizations = QiskitOptimizations.Empty


class Qasm2Optimizations(_Tagged):
    """Optimisations for OpenQASM 2 programs (``compiler-config``'s default pairing)."""

    wire_name: ClassVar[str] = "Qasm2Optimizations"
    qiskit_optimizations: QiskitOptimizations = QiskitOptimizations.Empty
    tket_optimizations: TketOptimizations = TketOptimizations.One


class Qasm3Optimizations(_Tagged):
    """Optimisations for OpenQASM 3 programs (none configurable)."""

    wire_name: ClassVar[str] = "Qasm3Optimizations"


class QIROptimizations(_Tagged):
    """Optimisations for QIR programs (none configurable)."""

    wire_name: ClassVar[str] = "QIROptimizations"


Optimizations = Tket | Qiskit | Qasm2Optimizations | Qasm3Optimizations | QIROptimizations


class CompilerConfig(_Tagged):
    """Settings for one QCaaS task: shots, result format, metrics, optimisations, mitigation.

    ``repeats`` is the shot count; ``None`` means the server default of 1000.
    """

    wire_name: ClassVar[str] = "CompilerConfig"
    repeats: int | None = Field(default=None, ge=1)
    repetition_period: float | None = None
    passive_reset_time: float | None = None
    results_format: QuantumResultsFormat = Field(default_factory=QuantumResultsFormat)
    metrics: MetricsType = MetricsType.Default
    active_calibrations: list[Any] = Field(default_factory=list)
    optimizations: Optimizations | None = None
    error_mitigation: ErrorMitigationConfig | None = None
    pre_selection: bool = False
    post_selection: bool = False
    driven_reset: bool = False
    enable_debug_info: bool = False

    @classmethod
    def sdk_default(cls) -> CompilerConfig:
        """The config OQC's clients send when the user gives none: 1000 shots, BinaryCount."""
        return cls(repeats=DEFAULT_SHOTS, results_format=QuantumResultsFormat.binary_count())

    @property
    def shots(self) -> int:
        """The number of shots this config asks for (the server default when unset)."""
        return DEFAULT_SHOTS if self.repeats is None else self.repeats

    @property
    def is_binary_count(self) -> bool:
        """Whether results come back as bitstring counts (tested on the transform bit, as QAT does)."""
        return bool(self.results_format.transforms & ResultsFormatting.BinaryCount)

    def to_json(self) -> str:
        """The tagged JSON text ``compiler-config``'s ``to_json`` writes for the same settings."""
        return json.dumps(_encode(self))

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> CompilerConfig:
        """Read tagged JSON written by any version of ``compiler-config`` (or by :meth:`to_json`).

        Raises:
            ConfigDecodeError: the text is not JSON, or not a tagged CompilerConfig.
        """
        try:
            document = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError as exc:
            raise ConfigDecodeError(f"The compiler config is not valid JSON: {exc}") from exc
        decoded = _decode(document)
        if not isinstance(decoded, CompilerConfig):
            raise ConfigDecodeError(
                f"Expected a tagged CompilerConfig, got {type(decoded).__name__}: "
                "build the config with oqc_provider.qcaas.CompilerConfig."
            )
        return decoded

    create_from_json = from_json  # The name compiler-config uses.


_CLASSES: dict[str, type[_Tagged]] = {
    model.wire_name: model
    for model in (
        CompilerConfig,
        QuantumResultsFormat,
        Tket,
        Qiskit,
        Qasm2Optimizations,
        Qasm3Optimizations,
        QIROptimizations,
    )
}


def _encode(value: Any) -> Any:
    if isinstance(value, _Tagged):
        fields = type(value).model_fields
        return {
            "$type": f"<class '{_MODULE}.{value.wire_name}'>",
            "$data": {name: _encode(getattr(value, name)) for name in fields},
        }
    if isinstance(value, IntFlag):
        return {"$type": f"<enum '{_MODULE}.{type(value).__name__}'>", "$value": int(value)}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$type" not in value:
        return {key: _decode(item) for key, item in value.items()}
    kind, name = _parse_type(value["$type"])
    if kind == "enum":
        return _decode_flag(name, value.get("$value"))
    model = _CLASSES.get(name)
    if model is None:
        raise ConfigDecodeError(
            f"Unsupported compiler-config type {name!r}: this provider understands {sorted(_CLASSES)}."
        )
    data = value.get("$data") or {}
    if not isinstance(data, dict):
        raise ConfigDecodeError(f"'$data' of {name} must be an object, got {type(data).__name__}.")
    known = {key: _decode(item) for key, item in data.items() if key in model.model_fields}
    ignored = sorted(set(data) - set(known))
    if ignored:
        logger.debug("Ignoring unknown %s fields %s", name, ignored)
    try:
        return model(**known)
    except ValueError as exc:
        raise ConfigDecodeError(f"Invalid {name} in compiler config: {exc}") from exc


def _parse_type(type_tag: Any) -> tuple[Literal["class", "enum"], str]:
    match = _TYPE_PATTERN.match(type_tag) if isinstance(type_tag, str) else None
    if match is None:
        raise ConfigDecodeError(f"Malformed '$type' tag {type_tag!r} in compiler config.")
    kind, module, name = match.groups()
    if module not in _KNOWN_MODULES and not module.endswith(".config"):
        raise ConfigDecodeError(f"Unknown compiler-config module {module!r} in '$type' {type_tag!r}.")
    return kind, name  # type: ignore[return-value]


def _decode_flag(name: str, raw: Any) -> IntFlag:
    flag = _FLAGS.get(name)
    if flag is None:
        raise ConfigDecodeError(f"Unsupported compiler-config enum {name!r}.")
    if isinstance(raw, str):  # enums are sometimes written by member name
        try:
            return flag[raw]
        except KeyError as exc:
            raise ConfigDecodeError(f"{raw!r} is not a member of {name}.") from exc
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise ConfigDecodeError(f"'$value' of {name} must be an integer, got {raw!r}.")
    known_bits = 0
    for member in flag:
        known_bits |= int(member)
    if raw & ~known_bits:
        logger.warning("Dropping unknown %s bits %#x from compiler config", name, raw & ~known_bits)
    return flag(raw & known_bits)
