"""QAT 3.5's pipeline path, as ``qat-rpc`` 1.0.0 (the QCaaS service wrapper) calls it, on our devices.

Runs only under an interpreter with ``qat-compiler==3.5.0`` (e.g. ``/work/qat-venv/bin/python``);
imports nothing from ``oqc_provider``. Device couplings come from ``tests/fixtures/qat/devices.json``.

How qat-rpc runs a program (``qat_rpc/handler.py``, ``QATServiceHandler.run_program``): it holds one
``QAT(qat_config_path)`` and, per request, calls ``QAT().compile(program, config, pipeline)`` then
``QAT().execute(package, config, pipeline)`` with the configured default pipelines (it never calls the
legacy ``execute_qasm_with_metrics``). Without a config file ``QAT()`` has the full pipelines
``echo8``/``echo16``/``echo32`` (``qat/pipelines/__init__.py``): ``EchoPipeline`` =
``AutoFrontend.default_for_purr`` + ``DefaultMiddleend`` + ``WaveformV1Backend`` + ``SimpleRuntime``
(``EchoEngine``). The service's real model is calibrated and unknown to us; we build the same
pipelines on a model with the device's couplings:

* ``"shapes"``: ``EchoPipeline`` over ``EchoModelLoader(qubit_count, connectivity=couplings)`` -- the
  pipeline qat-rpc serves by default; its readout is always 0, so it gives result *shapes*.
* ``"counts"``: ``LegacyQiskitPipeline`` over ``QiskitModelLoader(qubit_count,
  connectivity=couplings)`` -- QAT 3.5's only pipeline that simulates (noiseless Aer); binary counts.

API (small and stable; other scripts read it)::

    from pipeline_models import qat_core, run, DEVICES
    core = qat_core("lucy", "counts")          # a QAT() whose default pipeline is that model
    outcome = run(program, config, "toshiko", model="shapes")
    outcome["accepted"]          # bool
    outcome["error"]             # {"type", "message"} when refused (compile or execute)
    outcome["stage"]             # "compile" or "execute": where it was refused
    outcome["value"]             # QAT's results when accepted
    outcome["optimized_circuit"] # the OpenQASM QAT ran (metrics), or None
    outcome["physical_qubits"]   # QAT's PhysicalQubitIndices metric, or None
    outcome["measures"]          # [physical qubit, register, bit] per measure (from the ran program)
    outcome["warnings"]          # QAT's log warnings of this run (e.g. "Tket ... Skipping")

``config`` is a ``CompilerConfig`` or its JSON; ``device`` is ``"lucy"`` or ``"toshiko"``.
Run ``python scripts/qat_fixtures/pipeline_models.py FILE.qasm [lucy|toshiko]`` to see one program.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from compiler_config.config import CompilerConfig, MetricsType
from qat import QAT
from qat.model.loaders.purr import EchoModelLoader
from qat.model.loaders.purr.qiskit import QiskitModelLoader
from qat.pipelines.legacy.qiskit import LegacyQiskitPipeline
from qat.pipelines.purr.waveform_v1 import EchoPipeline
from qat.pipelines.updateable import PipelineConfig

ROOT = Path(__file__).resolve().parents[2]
DEVICES: dict[str, dict[str, Any]] = json.loads((ROOT / "tests/fixtures/qat/devices.json").read_text())
MODELS = ("counts", "shapes")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


class _Capture(logging.Handler):
    """QAT's warnings of the current run (QAT logs every compilation at INFO otherwise)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "deprecated" not in message and "Compilation completed" not in message:
            self.messages.append(_ADDRESS.sub("", message))


CAPTURE = _Capture()


@cache
def _quiet_qat() -> None:
    from qat.purr.utils.logger import get_default_logger

    composite = get_default_logger()  # creates QAT's loggers and their console/file handlers
    targets = [logging.getLogger("purr"), logging.getLogger("qat"), *getattr(composite, "loggers", [])]
    for target in targets:
        for handler in list(getattr(target, "handlers", [])):
            target.removeHandler(handler)
        target.addHandler(CAPTURE)
        target.setLevel(logging.WARNING)
        target.propagate = False


@cache
def qat_core(device: str, model: str = "counts") -> QAT:
    """A ``QAT()`` whose default pipeline runs ``model`` ("counts"/"shapes") on ``device``'s couplings."""
    _quiet_qat()
    spec = DEVICES[device]
    couplings = [tuple(edge) for edge in spec["couplings"]]
    name = f"{device}_{model}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "counts":
            loader = QiskitModelLoader(qubit_count=spec["qubit_count"], connectivity=couplings)
            pipeline = LegacyQiskitPipeline(config=PipelineConfig(name=name), loader=loader).pipeline
        elif model == "shapes":
            loader = EchoModelLoader(qubit_count=spec["qubit_count"], connectivity=couplings)
            pipeline = EchoPipeline(config=PipelineConfig(name=name), loader=loader).pipeline
        else:
            raise ValueError(f"model must be one of {MODELS}, not {model!r}")
        core = QAT()
        core.pipelines.add(pipeline, default=True)
    return core


def _error(error: BaseException) -> dict[str, str]:
    return {"type": type(error).__name__, "message": _ADDRESS.sub("", str(error))}


def run(program: str, config: CompilerConfig | str, device: str, model: str = "counts") -> dict[str, Any]:
    """Compile then execute ``program`` as qat-rpc does; the outcome, never an exception."""
    from circuit_facts import circuit_facts

    core = qat_core(device, model)
    if isinstance(config, str):
        config = CompilerConfig.create_from_json(config)
    if config.metrics is None:
        config.metrics = MetricsType.Default | MetricsType.PhysicalQubitIndices
    CAPTURE.messages.clear()
    out: dict[str, Any] = {"accepted": False, "optimized_circuit": None, "physical_qubits": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            package, compile_metrics = core.compile(program, config)
        except Exception as error:  # QAT raises anything from ValueError to KeyError: record it all.
            out.update(stage="compile", error=_error(error))
        else:
            out["optimized_circuit"] = compile_metrics.optimized_circuit
            out["physical_qubits"] = compile_metrics.physical_qubit_indices
            try:
                value, _ = core.execute(package, config)
            except Exception as error:
                out.update(stage="execute", error=_error(error))
            else:
                out.update(accepted=True, value=value)
    if out["optimized_circuit"]:
        facts = circuit_facts(out["optimized_circuit"])
        out["measures"] = facts.measures
        out["ran_qubits"] = facts.physical_qubits
    out["warnings"] = sorted(set(CAPTURE.messages))
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    text = Path(sys.argv[1]).read_text()
    for dev in sys.argv[2:] or ["lucy", "toshiko"]:
        for kind in MODELS:
            result = run(text, CompilerConfig(repeats=5), dev, kind)
            print(dev, kind, json.dumps(result, default=str, indent=1))
