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

Both loaders give each coupling a *random* quality (the echo one adds the reverse direction too), and
QAT places on the best-quality couplings first; the devices' real qualities are not known, so the
models here get the device's directed couplings with QAT's default quality (1), as the legacy-path
recorder did (placement then sees the whole graph, in the catalogue's order).

API (small and stable; other scripts read it)::

    from pipeline_models import qat_core, run, DEVICES
    core = qat_core("lucy", "counts")          # a QAT() whose default pipeline is that model
    outcome = run(program, config, "toshiko", model="shapes")
    outcome["accepted"]          # bool
    outcome["error"]             # {"type", "message"} when refused (compile or execute)
    outcome["stage"]             # "compile" or "execute": where it was refused (absent when accepted)
    outcome["value"]             # QAT's results when accepted
    outcome["optimized_circuit"] # the OpenQASM QAT ran (metrics), or None
    outcome["physical_qubits"]   # QAT's PhysicalQubitIndices metric (None in QAT 3.5: not filled in)
    outcome["ran_qubits"]        # physical qubits the ran program uses (circuit_facts.py), if compiled
    outcome["measures"]          # [physical qubit, register, bit] per measure (from the ran program)
    outcome["warnings"]          # QAT's log warnings of this run (e.g. "Tket ... Skipping")

``run(..., timeout=SECONDS)`` (default :data:`TIMEOUT_SECONDS`) ends a run that takes longer as refused
with ``TimeoutError``: the echo pipeline never finishes ``delay(800.0)`` (800 s to QAT, sampled at
1 ns; the legacy path failed at once with a ``MemoryError`` allocating the samples). A config without
``metrics`` is given ``Default | PhysicalQubitIndices`` (in place).

``config`` is a ``CompilerConfig`` or its JSON; ``device`` is ``"lucy"`` or ``"toshiko"``.
Run ``python scripts/qat_fixtures/pipeline_models.py FILE.qasm [lucy|toshiko]`` to see one program.
"""

from __future__ import annotations

import json
import logging
import re
import signal
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
from qat.purr.compiler.devices import QubitCoupling

ROOT = Path(__file__).resolve().parents[2]
DEVICES: dict[str, dict[str, Any]] = json.loads((ROOT / "tests/fixtures/qat/devices.json").read_text())
MODELS = ("counts", "shapes")
#: A run taking longer is ended and recorded as refused (normal runs take 0.1-3 s).
TIMEOUT_SECONDS = 30.0
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
def quiet_qat() -> None:
    """Send QAT's log to :data:`CAPTURE` only (it logs every compilation at INFO otherwise)."""
    from qat.purr.utils.logger import get_default_logger

    composite = get_default_logger()  # creates QAT's loggers and their console/file handlers
    targets = [logging.getLogger("purr"), logging.getLogger("qat"), *getattr(composite, "loggers", [])]
    for target in targets:
        for handler in list(getattr(target, "handlers", [])):
            target.removeHandler(handler)
        target.addHandler(CAPTURE)
        target.setLevel(logging.WARNING)
        target.propagate = False


class _DirectedCouplings:
    """A model loader's mixin: the device's directed couplings, each with QAT's default quality."""

    couplings: list[tuple[int, int]]

    def load(self) -> Any:
        model = super().load()  # type: ignore[misc]
        model.qubit_direction_couplings = [QubitCoupling(edge) for edge in self.couplings]
        return model


class _EchoLoader(_DirectedCouplings, EchoModelLoader):
    pass


class _QiskitLoader(_DirectedCouplings, QiskitModelLoader):
    pass


@cache
def qat_core(device: str, model: str = "counts") -> QAT:
    """A ``QAT()`` whose default pipeline runs ``model`` ("counts"/"shapes") on ``device``'s couplings."""
    quiet_qat()
    spec = DEVICES[device]
    couplings = [tuple(edge) for edge in spec["couplings"]]
    name = f"{device}_{model}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "counts":
            loader = _QiskitLoader(qubit_count=spec["qubit_count"], connectivity=couplings)
            loader.couplings = couplings
            pipeline = LegacyQiskitPipeline(config=PipelineConfig(name=name), loader=loader).pipeline
        elif model == "shapes":
            loader = _EchoLoader(qubit_count=spec["qubit_count"], connectivity=couplings)
            loader.couplings = couplings
            pipeline = EchoPipeline(config=PipelineConfig(name=name), loader=loader).pipeline
        else:
            raise ValueError(f"model must be one of {MODELS}, not {model!r}")
        core = QAT()
        core.pipelines.add(pipeline, default=True)
    return core


class _TimedOut(BaseException):
    """Raised in QAT by the alarm; a BaseException so that QAT's own ``except Exception`` lets it by."""


def _alarm(signum: int, frame: Any) -> None:
    raise _TimedOut


def _error(error: BaseException) -> dict[str, str]:
    return {"type": type(error).__name__, "message": _ADDRESS.sub("", str(error))}


def run(
    program: str,
    config: CompilerConfig | str,
    device: str,
    model: str = "counts",
    timeout: float = TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Compile then execute ``program`` as qat-rpc does; the outcome, never an exception."""
    from circuit_facts import circuit_facts

    core = qat_core(device, model)
    if isinstance(config, str):
        config = CompilerConfig.create_from_json(config)
    if config.metrics is None:
        config.metrics = MetricsType.Default | MetricsType.PhysicalQubitIndices
    CAPTURE.messages.clear()
    out: dict[str, Any] = {"accepted": False, "optimized_circuit": None, "physical_qubits": None}
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _compile_and_execute(core, program, config, out)
    except _TimedOut:
        message = f"QAT did not finish within {timeout:g} s (stopped by the recorder)"
        out.update(accepted=False, error={"type": "TimeoutError", "message": message})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if out["optimized_circuit"]:
        facts = circuit_facts(out["optimized_circuit"])
        out["measures"] = facts.measures
        out["ran_qubits"] = facts.physical_qubits
    out["warnings"] = sorted(set(CAPTURE.messages))
    return out


def _compile_and_execute(core: QAT, program: str, config: CompilerConfig, out: dict[str, Any]) -> None:
    out["stage"] = "compile"
    try:
        package, compile_metrics = core.compile(program, config)
    except Exception as error:  # QAT raises anything from ValueError to KeyError: record it all.
        out["error"] = _error(error)
        return
    out["optimized_circuit"] = compile_metrics.optimized_circuit
    out["physical_qubits"] = compile_metrics.physical_qubit_indices
    out["stage"] = "execute"
    try:
        value, _ = core.execute(package, config)
    except Exception as error:
        out["error"] = _error(error)
        return
    del out["stage"]
    out.update(accepted=True, value=value)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    text = Path(sys.argv[1]).read_text()
    for dev in sys.argv[2:] or ["lucy", "toshiko"]:
        for kind in MODELS:
            result = run(text, CompilerConfig(repeats=5), dev, kind)
            print(dev, kind, json.dumps(result, default=str, indent=1))
