"""Record what QAT 3.5's pipeline path does with pre-selection, post-selection and driven reset.

Run it under an interpreter that has ``qat-compiler==3.5.0`` (never the project's venv), from the
repository root::

    /work/qat-venv/bin/python scripts/qat_fixtures/record_selection.py   # ~1 minute

It runs a few programs through ``QAT().run`` (``compile`` then ``execute``) on the pipeline path's
echo pipeline (``qat.pipelines.waveform.EchoPipeline``, a pydantic ``PhysicalHardwareModel`` from
``LucyModelLoader``, as QAT's own ``echo8``/``echo32`` pipelines are built), with each of the
compiler-config 0.3 booleans on, in each results format, on these hardware models:

* ``as_loaded``: the model as the loader builds it (threshold discrimination, pre-selection
  disallows state 1, reset channels not DDROP-calibrated);
* ``disallow_ground``: every qubit's ``preselect_disallowed_states`` is ``{0}``, so the echo
  engine's constant readout fails pre-selection on every shot (what an empty result looks like);
* ``leakage_state``: a maximum-likelihood discriminator whose *disallowed* state (key -2) sits on
  the echo engine's readout, so post-selection drops every shot;
* ``ddrop_calibrated``: reset channels marked DDROP-calibrated (driven reset can be built);
* ``legacy``: the legacy ``QuantumHardwareModel`` echo pipeline (``qat.pipelines.purr``).

The echo engine reads the same value on every shot, so a run keeps all shots or none; the models
above show both ends. It writes ``tests/fixtures/qat/selection.json``. It imports nothing from
``oqc_provider``.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from compiler_config.config import CompilerConfig, QuantumResultsFormat, Tket, TketOptimizations
from qat import QAT
from qat.model.loaders.lucy import LucyModelLoader
from qat.model.loaders.purr import EchoModelLoader
from qat.model.post_processing import MaxLikelihoodMethod, MLDiscriminateParams
from qat.pipelines.purr.waveform_v1 import EchoPipeline as LegacyEchoPipeline
from qat.pipelines.waveform import EchoPipeline, PipelineConfig

logger = logging.getLogger("qat_fixtures.selection")

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "qat" / "selection.json"
SHOTS = 5
#: The complex IQ value the pydantic echo engine reads on every shot (seen in its raw results).
ECHO_READOUT = 2239411.56903125 + 0j

PROGRAMS = {
    "bell_qasm2": (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
        "h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n"
    ),
    "bell_qasm3": (
        'OPENQASM 3;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\n'
        "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
    ),
    "reset_qasm2": (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
        "x q[0];\nreset q[0];\nmeasure q -> c;\n"
    ),
}
FORMATS: dict[str, Callable[[], QuantumResultsFormat]] = {
    "binary_count": lambda: QuantumResultsFormat().binary_count(),
    "binary": lambda: QuantumResultsFormat().binary(),
    "raw": lambda: QuantumResultsFormat().raw(),
}
#: Config variants: the compiler-config fields each sets.
OPTIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "pre_selection": {"pre_selection": True},
    "post_selection": {"post_selection": True},
    "driven_reset": {"driven_reset": True},
    "passive_reset_time": {"passive_reset_time": 1e-4},
    "driven_reset_and_passive_reset_time": {"driven_reset": True, "passive_reset_time": 1e-4},
}


def _disallow_ground(model: Any) -> None:
    for qubit in model.qubits.values():
        qubit.preselect_disallowed_states = {0}


def _leakage_state(model: Any) -> None:
    for qubit in model.qubits.values():
        qubit.post_process_method = MaxLikelihoodMethod(
            states={
                0: MLDiscriminateParams(location=-5e6 + 0j),
                1: MLDiscriminateParams(location=5e6 + 5e6j),
                -2: MLDiscriminateParams(location=ECHO_READOUT, label="|2> (leakage)"),
            }
        )


def _ddrop_calibrated(model: Any) -> None:
    for qubit in model.qubits.values():
        for channel in qubit.reset_pulse_channels:
            channel.is_ddrop_calibrated = True


#: Model name -> (how it is changed, which option variants are recorded on it).
MODELS: dict[str, tuple[Callable[[Any], None] | None, list[str]]] = {
    # Not "default": QAT's pipeline manager reads that name as its own default (legacy) pipeline.
    "as_loaded": (None, list(OPTIONS)),
    "disallow_ground": (_disallow_ground, ["none", "pre_selection"]),
    "leakage_state": (_leakage_state, ["none", "post_selection"]),
    "ddrop_calibrated": (_ddrop_calibrated, ["none", "driven_reset", "driven_reset_and_passive_reset_time"]),
    "legacy": (None, ["pre_selection", "post_selection", "driven_reset"]),
}


def build_pipelines(qat: QAT) -> None:
    """Add one pipeline per entry of :data:`MODELS` to ``qat``, named after it."""
    for name, (change, _) in MODELS.items():
        if name == "legacy":
            loader = EchoModelLoader(qubit_count=8)
            pipeline = LegacyEchoPipeline(config=PipelineConfig(name=name), loader=loader).pipeline
        else:
            model = LucyModelLoader(qubit_count=8).load()
            if change is not None:
                change(model)
            pipeline = EchoPipeline(config=PipelineConfig(name=name), model=model).pipeline
        qat.pipelines.add(pipeline)


def describe(value: Any) -> Any:
    """A JSON-able account of one register's result: counts and bits as they are; raw readouts
    (complex IQ values on this model) as the number of values each bit kept."""
    if isinstance(value, dict):
        return {"counts": {str(k): int(v) for k, v in value.items()}}
    if isinstance(value, list) and value and all(isinstance(bit, list) for bit in value):
        return {"raw_lengths": [len(bit) for bit in value]}
    if isinstance(value, list) and all(isinstance(bit, list) or hasattr(bit, "tolist") for bit in value):
        # Maximum-likelihood discrimination gives each bit its per-shot state keys (numpy arrays).
        return {"per_shot_keys": [[int(key) for key in list(bit)] for bit in value]}
    if isinstance(value, list):
        return {"bits": [int(bit) for bit in value]}
    return {"other": repr(value)}


def run_case(qat: QAT, model: str, program: str, option: str, fmt: str) -> dict[str, Any]:
    config = CompilerConfig(
        repeats=SHOTS, results_format=FORMATS[fmt](), optimizations=Tket(TketOptimizations.Empty)
    )
    for field, value in OPTIONS[option].items():
        setattr(config, field, value)
    case: dict[str, Any] = {"model": model, "program": program, "option": option, "format": fmt}
    try:
        results, _ = qat.run(PROGRAMS[program], compiler_config=config, pipeline=model)
    except Exception as exc:  # QAT's refusals are the fixture
        case["error"] = {"type": type(exc).__name__, "message": str(exc)}
        return case
    case["results"] = {register: describe(value) for register, value in sorted(results.items())}
    return case


def main() -> int:
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # QAT logs every compilation; the fixture is the result
    qat = QAT()
    build_pipelines(qat)
    cases = [
        run_case(qat, model, program, option, fmt)
        for model, (_, options) in MODELS.items()
        for program in PROGRAMS
        for option in options
        for fmt in FORMATS
    ]
    document = {
        "_comment": "QAT pipeline-path runs (QAT().run) with pre_selection, post_selection, driven_reset "
        "and passive_reset_time; recorded by scripts/qat_fixtures/record_selection.py (see its docstring "
        "and scripts/qat_fixtures/README.md).",
        "versions": {name: version(name) for name in ("qat-compiler", "compiler-config")},
        "shots": SHOTS,
        "programs": PROGRAMS,
        "options": OPTIONS,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
