"""The CompilerConfig codec against OQC's own ``compiler-config`` library (0.3.x).

The wire carries ``CompilerConfig.to_json()`` text, so our writer must produce the same bytes
and our reader must accept whatever the real library (and its older module paths) writes.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import warnings
from typing import Any

import pytest

from oqc_provider.qcaas import compiler_config as ours
from oqc_provider.qcaas.errors import ConfigDecodeError

cc = pytest.importorskip("compiler_config.config")

# --- one setting, built both ways -----------------------------------------------------------------

# Each entry: (our value, a factory of the library's value). Factories, because the library's
# objects are mutable and its builders mutate in place.
RESULTS_FORMATS: dict[str, tuple[Any, Any]] = {
    "bare": (lambda: ours.QuantumResultsFormat(), lambda: cc.QuantumResultsFormat()),
    "raw": (ours.QuantumResultsFormat.raw, lambda: cc.QuantumResultsFormat().raw()),
    "binary": (ours.QuantumResultsFormat.binary, lambda: cc.QuantumResultsFormat().binary()),
    "binary_count": (
        ours.QuantumResultsFormat.binary_count,
        lambda: cc.QuantumResultsFormat().binary_count(),
    ),
    "squash": (
        ours.QuantumResultsFormat.squash_binary_result_arrays,
        lambda: cc.QuantumResultsFormat().squash_binary_result_arrays(),
    ),
}

METRICS = [
    "Empty",
    "OptimizedCircuit",
    "OptimizedInstructionCount",
    "PhysicalQubitIndices",
    "Default",
    "Experimental",
]


def _tket(name: str) -> tuple[Any, Any]:
    return (
        lambda: ours.Tket(tket_optimizations=ours.TketOptimizations[name]),
        lambda: cc.Tket(cc.TketOptimizations[name]),
    )


OPTIMIZATIONS: dict[str, tuple[Any, Any]] = {
    "none": (lambda: None, lambda: None),
    "tket_empty": _tket("Empty"),
    "tket_one": _tket("One"),
    "tket_two": _tket("Two"),
    "tket_kak_simplify": (
        lambda: ours.Tket(
            tket_optimizations=ours.TketOptimizations.KAKDecomposition
            | ours.TketOptimizations.SimplifyMeasured
        ),
        lambda: cc.Tket(cc.TketOptimizations.KAKDecomposition | cc.TketOptimizations.SimplifyMeasured),
    ),
    "qiskit": (ours.Qiskit, cc.Qiskit),
    "qasm2": (ours.Qasm2Optimizations, cc.Qasm2Optimizations),
    "qasm3": (ours.Qasm3Optimizations, cc.Qasm3Optimizations),
    "qir": (ours.QIROptimizations, cc.QIROptimizations),
}

MITIGATIONS = [None, "Empty", "MatrixMitigation", "LinearMitigation", "MatrixMitigation|LinearMitigation"]


def _flag(module: Any, enum: str, spec: str | None) -> Any:
    if spec is None:
        return None
    value = None
    for name in spec.split("|"):
        member = getattr(module, enum)[name]
        value = member if value is None else value | member
    return value


def build_pair(
    *,
    repeats: int | None = None,
    repetition_period: float | None = None,
    passive_reset_time: float | None = None,
    results: str = "bare",
    metrics: str = "Default",
    optimizations: str = "none",
    mitigation: str | None = None,
    pre_selection: bool = False,
    post_selection: bool = False,
    driven_reset: bool = False,
    enable_debug_info: bool = False,
) -> tuple[ours.CompilerConfig, Any]:
    """The same settings as our CompilerConfig and as compiler-config's."""
    flags = {
        "pre_selection": pre_selection,
        "post_selection": post_selection,
        "driven_reset": driven_reset,
        "enable_debug_info": enable_debug_info,
    }
    our_config = ours.CompilerConfig(
        repeats=repeats,
        repetition_period=repetition_period,
        passive_reset_time=passive_reset_time,
        results_format=RESULTS_FORMATS[results][0](),
        metrics=ours.MetricsType[metrics],
        optimizations=OPTIMIZATIONS[optimizations][0](),
        error_mitigation=_flag(ours, "ErrorMitigationConfig", mitigation),
        **flags,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repetition_period / driven_reset notices
        their_config = cc.CompilerConfig(
            repeats=repeats,
            repetition_period=repetition_period,
            passive_reset_time=passive_reset_time,
            results_format=RESULTS_FORMATS[results][1](),
            metrics=cc.MetricsType[metrics],
            optimizations=OPTIMIZATIONS[optimizations][1](),
            error_mitigation=_flag(cc, "ErrorMitigationConfig", mitigation),
            **flags,
        )
    return our_config, their_config


AXES: dict[str, list[Any]] = {
    "repeats": [None, 1, 1000, 100_000],
    "repetition_period": [None, 2e-4],
    "passive_reset_time": [None, 0.0, 1e-4, 0.0005],
    "results": list(RESULTS_FORMATS),
    "metrics": METRICS,
    "optimizations": list(OPTIMIZATIONS),
    "mitigation": MITIGATIONS,
    "pre_selection": [False, True],
    "post_selection": [False, True],
    "driven_reset": [False, True],
    "enable_debug_info": [False, True],
}


def _grid() -> list[dict[str, Any]]:
    """Every value of every axis on its own, plus a seeded sample of the full product."""
    cases: list[dict[str, Any]] = [{}]
    for axis, values in AXES.items():
        cases += [{axis: value} for value in values]
    rng = random.Random(20240612)
    product = list(itertools.product(*AXES.values()))
    cases += [dict(zip(AXES, combo, strict=True)) for combo in rng.sample(product, 300)]
    return cases


GRID = _grid()


def _ids(case: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items()) or "defaults"


# --- writing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", GRID, ids=[_ids(c) for c in GRID])
@pytest.mark.slow
def test_to_json_is_byte_identical_to_compiler_config(case: dict[str, Any]) -> None:
    our_config, their_config = build_pair(**case)
    assert our_config.to_json() == their_config.to_json()


@pytest.mark.parametrize("case", GRID[:: max(1, len(GRID) // 60)], ids=_ids)
def test_compiler_config_reads_ours_back(case: dict[str, Any]) -> None:
    our_config, their_config = build_pair(**case)
    read = cc.CompilerConfig.create_from_json(our_config.to_json())
    assert read.to_json() == their_config.to_json()
    assert read.results_format == their_config.results_format


def test_sdk_default_matches_the_documented_default() -> None:
    their = cc.CompilerConfig(repeats=1000, results_format=cc.QuantumResultsFormat().binary_count())
    assert ours.CompilerConfig.sdk_default().to_json() == their.to_json()
    data = json.loads(ours.CompilerConfig.sdk_default().to_json())["$data"]
    assert data["results_format"]["$data"]["format"]["$value"] == 1
    assert data["results_format"]["$data"]["transforms"]["$value"] == 3
    assert data["metrics"]["$value"] == 6


@pytest.mark.parametrize(
    ("ours_factory", "theirs_factory"),
    [
        (lambda: ours.CompilerConfig(), lambda: cc.CompilerConfig()),
        (
            lambda: ours.CompilerConfig(results_format=ours.QuantumResultsFormat()),
            lambda: cc.CompilerConfig(results_format=cc.QuantumResultsFormat()),
        ),
        (
            lambda: ours.CompilerConfig(optimizations=ours.Tket()),
            lambda: cc.CompilerConfig(optimizations=cc.Tket()),
        ),
        (
            lambda: ours.CompilerConfig(optimizations=ours.Qiskit()),
            lambda: cc.CompilerConfig(optimizations=cc.Qiskit()),
        ),
        (
            lambda: ours.CompilerConfig(optimizations=ours.Qasm2Optimizations()),
            lambda: cc.CompilerConfig(optimizations=cc.Qasm2Optimizations()),
        ),
    ],
    ids=["CompilerConfig", "QuantumResultsFormat", "Tket", "Qiskit", "Qasm2Optimizations"],
)
def test_constructor_defaults_match_compiler_config(ours_factory: Any, theirs_factory: Any) -> None:
    """Building an object with no arguments means the same thing in both libraries."""
    assert ours_factory().to_json() == theirs_factory().to_json()


# --- reading ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", GRID, ids=[_ids(c) for c in GRID])
@pytest.mark.slow
def test_from_json_of_compiler_config_output_equals_ours(case: dict[str, Any]) -> None:
    our_config, their_config = build_pair(**case)
    decoded = ours.CompilerConfig.from_json(their_config.to_json())
    assert decoded == our_config
    assert decoded.to_json() == their_config.to_json()


def test_from_json_accepts_a_dict_and_the_library_alias() -> None:
    config, _ = build_pair(repeats=7, results="binary_count")
    assert ours.CompilerConfig.from_json(json.loads(config.to_json())) == config
    assert ours.CompilerConfig.create_from_json(config.to_json()) == config


@pytest.mark.parametrize("old_module", ["scc.compiler.config", "qat.purr.compiler.config"])
def test_old_type_module_paths_are_accepted(old_module: str) -> None:
    config, their = build_pair(
        repeats=250, results="binary_count", optimizations="qasm2", mitigation="LinearMitigation"
    )
    old_text = config.to_json().replace("compiler_config.config", old_module)
    assert old_module in old_text
    assert ours.CompilerConfig.from_json(old_text) == config
    # ... as the real library does.
    assert cc.CompilerConfig.create_from_json(old_text).to_json() == their.to_json()


def test_a_02_document_without_the_03_fields_reads_with_defaults() -> None:
    document = json.loads(ours.CompilerConfig.sdk_default().to_json())
    for field in (
        "pre_selection",
        "post_selection",
        "driven_reset",
        "enable_debug_info",
        "passive_reset_time",
    ):
        del document["$data"][field]
    config = ours.CompilerConfig.from_json(json.dumps(document))
    assert config == ours.CompilerConfig.sdk_default()
    assert (config.pre_selection, config.post_selection, config.driven_reset, config.enable_debug_info) == (
        False,
        False,
        False,
        False,
    )
    assert config.passive_reset_time is None


def test_a_minimal_document_keeps_every_default() -> None:
    text = json.dumps({"$type": "<class 'compiler_config.config.CompilerConfig'>", "$data": {"repeats": 5}})
    config = ours.CompilerConfig.from_json(text)
    assert config == ours.CompilerConfig(repeats=5)
    assert config.shots == 5
    assert (
        ours.CompilerConfig.from_json(
            json.dumps({"$type": "<class 'compiler_config.config.CompilerConfig'>", "$data": {}})
        ).shots
        == ours.DEFAULT_SHOTS
    )


def test_unknown_data_keys_are_ignored() -> None:
    """OQC's SDK leaks ExperimentalConfig's extras into ``$data``."""
    document = json.loads(ours.CompilerConfig.sdk_default().to_json())
    document["$data"].update({"noise": True, "bond_dimension": 50, "noise_model": {"p": 0.01}})
    document["$data"]["results_format"]["$data"]["future_field"] = 1
    config = ours.CompilerConfig.from_json(json.dumps(document))
    assert config == ours.CompilerConfig.sdk_default()
    assert "noise" not in config.to_json()


def test_unknown_flag_bits_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # 128 was TketOptimizations.GlobalisePhasedX, removed in 0.3; 1 << 20 never existed.
    document = json.loads(ours.CompilerConfig(optimizations=ours.Tket()).to_json())
    document["$data"]["optimizations"]["$data"]["tket_optimizations"]["$value"] = 18 | 128
    document["$data"]["metrics"]["$value"] = 6 | (1 << 20)
    with caplog.at_level(logging.WARNING, logger="oqc_provider"):
        config = ours.CompilerConfig.from_json(json.dumps(document))
    assert config.optimizations == ours.Tket(tket_optimizations=ours.TketOptimizations.One)
    assert config.metrics == ours.MetricsType.Default
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("TketOptimizations" in r.getMessage() for r in warned)
    assert any("MetricsType" in r.getMessage() for r in warned)
    # compiler-config drops the same bits.
    with pytest.warns(UserWarning):
        theirs = cc.CompilerConfig.create_from_json(json.dumps(document))
    assert theirs.optimizations.tket_optimizations == cc.TketOptimizations.One


def test_flags_written_by_member_name_are_read() -> None:
    document = json.loads(ours.CompilerConfig().to_json())
    document["$data"]["metrics"]["$value"] = "Experimental"
    assert ours.CompilerConfig.from_json(json.dumps(document)).metrics == ours.MetricsType.Experimental


def test_properties() -> None:
    assert ours.CompilerConfig().shots == 1000
    assert not ours.CompilerConfig().is_binary_count
    assert ours.CompilerConfig.sdk_default().is_binary_count
    squash = ours.CompilerConfig(results_format=ours.QuantumResultsFormat.squash_binary_result_arrays())
    assert not squash.is_binary_count


# --- errors -----------------------------------------------------------------------------------------

TYPE_TAG = "<class 'compiler_config.config.CompilerConfig'>"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json at all", "not valid JSON"),
        ('{"$type": ', "not valid JSON"),
        ("[1, 2]", "Expected a tagged CompilerConfig"),
        ("42", "Expected a tagged CompilerConfig"),
        ('{"repeats": 5}', "Expected a tagged CompilerConfig"),
        (
            json.dumps({"$type": "<class 'compiler_config.config.QuantumResultsFormat'>", "$data": {}}),
            "Expected a tagged CompilerConfig",
        ),
        (json.dumps({"$type": "CompilerConfig", "$data": {}}), "Malformed '$type'"),
        (json.dumps({"$type": 5, "$data": {}}), "Malformed '$type'"),
        (
            json.dumps({"$type": "<class 'evil.module.CompilerConfig'>", "$data": {}}),
            "Unknown compiler-config module",
        ),
        (
            json.dumps({"$type": "<class 'compiler_config.config.Nope'>", "$data": {}}),
            "Unsupported compiler-config type",
        ),
        (json.dumps({"$type": TYPE_TAG, "$data": [1]}), "must be an object"),
        (json.dumps({"$type": TYPE_TAG, "$data": {"repeats": "many"}}), "Invalid CompilerConfig"),
        (json.dumps({"$type": TYPE_TAG, "$data": {"repeats": 0}}), "Invalid CompilerConfig"),
        (
            json.dumps(
                {
                    "$type": TYPE_TAG,
                    "$data": {"metrics": {"$type": "<enum 'compiler_config.config.Nope'>", "$value": 1}},
                }
            ),
            "Unsupported compiler-config enum",
        ),
        (
            json.dumps(
                {
                    "$type": TYPE_TAG,
                    "$data": {
                        "metrics": {"$type": "<enum 'compiler_config.config.MetricsType'>", "$value": 1.5}
                    },
                }
            ),
            "must be an integer",
        ),
        (
            json.dumps(
                {
                    "$type": TYPE_TAG,
                    "$data": {
                        "metrics": {"$type": "<enum 'compiler_config.config.MetricsType'>", "$value": "Bogus"}
                    },
                }
            ),
            "not a member",
        ),
    ],
)
def test_bad_documents_raise_a_clear_config_decode_error(text: str, words: str) -> None:
    with pytest.raises(ConfigDecodeError, match=words.replace("$", r"\$")) as info:
        ours.CompilerConfig.from_json(text)
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work


def test_non_string_input_is_a_config_decode_error() -> None:
    with pytest.raises(ConfigDecodeError):
        ours.CompilerConfig.from_json(None)  # type: ignore[arg-type]
