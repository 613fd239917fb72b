"""Record what OQC's compiler QAT does with every program of the fixtures corpus.

Run it under an interpreter that has ``qat-compiler==3.5.0`` (never the project's venv: QAT is not a
dependency of ``oqc_provider``), from the repository root::

    /tmp/qat/bin/python scripts/qat_fixtures/record.py            # everything
    /tmp/qat/bin/python scripts/qat_fixtures/record.py --only 'ghz_*' --merge

For each program x optimisation setting x device it records: accepted or refused (QAT's exception
type and message), counts from QAT's Qiskit-simulator hardware model (noiseless), the program QAT
ran (``MetricsType.OptimizedCircuit``) with the physical qubits and measure map derived from it,
and, from QAT's echo hardware model, the value QAT returns for each results format (a few shots:
the test compares its shape). See README.md beside this file for the facts behind the choices.

It imports nothing from ``oqc_provider``: device couplings come from tests/fixtures/qat/devices.json.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import re
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from circuit_facts import circuit_facts
from compiler_config.config import (
    CompilerConfig,
    MetricsType,
    Qasm2Optimizations,
    Qasm3Optimizations,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)
from qat import execute_qasm_with_metrics
from qat.purr.backends.echo import get_default_echo_hardware
from qat.purr.backends.qiskit_simulator import get_default_qiskit_hardware
from qat.purr.compiler.devices import QubitCoupling

logger = logging.getLogger("qat_fixtures")

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "qat"

#: Optimisation settings by fixture name: what ``CompilerConfig.optimizations`` is set to.
SETTINGS: dict[str, Callable[[], Any]] = {
    "default": lambda: None,
    "tket_one": lambda: Tket(TketOptimizations.One),
    "tket_two": lambda: Tket(TketOptimizations.Two),
    "tket_empty": lambda: Tket(TketOptimizations.Empty),
    "qasm2_default": lambda: Qasm2Optimizations(),
    "qasm3_default": lambda: Qasm3Optimizations(),
}
SETTING_DOCS = {
    "default": "CompilerConfig() default: optimizations null (QAT substitutes the language default)",
    "tket_one": "Tket(TketOptimizations.One)",
    "tket_two": "Tket(TketOptimizations.Two)",
    "tket_empty": "Tket(TketOptimizations.Empty)",
    "qasm2_default": "Qasm2Optimizations()",
    "qasm3_default": "Qasm3Optimizations()",
    "given": "the config the front-end fixture file gives",
}
FORMATS: dict[str, Callable[[], QuantumResultsFormat]] = {
    "binary_count": lambda: QuantumResultsFormat().binary_count(),
    "binary": lambda: QuantumResultsFormat().binary(),
    "raw": lambda: QuantumResultsFormat().raw(),
}
#: The metrics every fixture config asks for: the program that ran, and (for the emulator, which
#: reports it; QAT 3.5's legacy path returns None) the physical qubits.
METRICS = MetricsType.Default | MetricsType.PhysicalQubitIndices
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


class _Capture(logging.Handler):
    """Keeps QAT's warnings (e.g. "Tket could not compile ... Skipping") for the current run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "deprecated" not in message and "Compilation completed" not in message:
            self.messages.append(_ADDRESS.sub("", message))


CAPTURE = _Capture()


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


#: Every config a fixture used, by a short key; fixtures name their config by key (keeps the file small).
CONFIGS: dict[str, dict[str, Any]] = {}


def config_key(config_json: str, label: str) -> str:
    """The key of ``config_json`` in :data:`CONFIGS` (added under ``label`` on first use)."""
    parsed = json.loads(config_json)
    for key, known in CONFIGS.items():
        if known == parsed:
            return key
    key = label
    while key in CONFIGS:
        key += "+"
    CONFIGS[key] = parsed
    return key


def make_config(setting: str, fmt: str, shots: int) -> CompilerConfig:
    config = CompilerConfig(repeats=shots, results_format=FORMATS[fmt](), optimizations=SETTINGS[setting]())
    config.metrics = METRICS
    return config


class Hardware:
    """QAT hardware models for one device: Qiskit simulator (counts) and echo (result shapes).

    Couplings get one quality level (QubitCoupling's default, 1): QAT places on the best-quality
    couplings first, and the device's real qualities are not known here. The echo model is built
    with the device's connectivity so its cross-resonance channels exist on exactly those pairs.
    """

    def __init__(self, qubit_count: int, couplings: list[list[int]]) -> None:
        edges = [tuple(edge) for edge in couplings]
        self.qiskit = get_default_qiskit_hardware(qubit_count, connectivity=edges)
        self.qiskit.qubit_direction_couplings = [QubitCoupling(edge) for edge in edges]
        self.echo = get_default_echo_hardware(qubit_count, connectivity=edges)
        self.echo.qubit_direction_couplings = [QubitCoupling(edge) for edge in edges]


def run(program: str, hardware: Any, config: CompilerConfig) -> dict[str, Any]:
    """One QAT execution: the outcome, never an exception."""
    CAPTURE.messages.clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, metrics = execute_qasm_with_metrics(program, hardware, config)
    except Exception as error:  # QAT raises anything from ValueError to KeyError: record it all.
        out: dict[str, Any] = {
            "accepted": False,
            "error": {"type": type(error).__name__, "message": _ADDRESS.sub("", str(error))},
        }
    else:
        out = {"accepted": True, "value": value, "metrics": metrics}
    if CAPTURE.messages:
        out["qat_warnings"] = sorted(set(CAPTURE.messages))
    return out


def describe(value: Any) -> Any:
    """A readable shape: type, nesting and lengths (counts dicts: their bitstring widths)."""
    if isinstance(value, dict):
        counts = all(isinstance(k, str) and isinstance(v, int) for k, v in value.items())
        if value and counts and all(set(k) <= {"0", "1"} for k in value):
            return {"counts_widths": sorted({len(k) for k in value})}
        return {"dict": {str(k): describe(v) for k, v in value.items()}}
    if isinstance(value, list):
        items = [describe(v) for v in value]
        if items and all(item == items[0] for item in items):
            return {"list": len(items), "each": items[0]}
        return {"list": len(items), "items": items}
    return type(value).__name__


def record_one(
    program: str,
    setting: str,
    device: str,
    hw: Hardware,
    shots: int,
    shape_shots: int,
    given: CompilerConfig | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Everything QAT does with ``program`` under one setting on one device."""
    config = given if given is not None else make_config(setting, "binary_count", shots)
    config_json = config.to_json()  # before QAT fills in a None ``optimizations``
    counted = run(program, hw.qiskit, config)
    entry: dict[str, Any] = {
        "setting": setting,
        "device": device,
        "config": config_key(config_json, f"{label or setting}/binary_count/{config.repeats}"),
    }
    counts: dict[str, Any] = {"accepted": counted["accepted"], "shots": config.repeats}
    if counted["accepted"]:
        counts["counts"] = counted["value"]
        optimized = counted["metrics"].get("optimized_circuit")
        entry["optimized_circuit"] = optimized
        entry["optimized_instruction_count"] = counted["metrics"].get("optimized_instruction_count")
        if optimized:
            facts = circuit_facts(optimized)
            entry["physical_qubits"] = facts.physical_qubits
            entry["measures"] = facts.measures
    else:
        counts["error"] = counted["error"]
    if "qat_warnings" in counted:
        counts["qat_warnings"] = counted["qat_warnings"]
    entry["counts"] = counts
    shapes: dict[str, Any] = {}
    formats = list(FORMATS) if given is None else ["given"]
    for fmt in formats:
        if given is None:
            shape_config = make_config(setting, fmt, shape_shots)
        else:
            shape_config = CompilerConfig.create_from_json(config_json)
            shape_config.repeats = shape_shots
        shape_json = shape_config.to_json()
        echoed = run(program, hw.echo, shape_config)
        shape: dict[str, Any] = {
            "accepted": echoed["accepted"],
            "config": config_key(shape_json, f"{label or setting}/{fmt}/{shape_shots}"),
        }
        if echoed["accepted"]:
            shape["value"] = echoed["value"]
            shape["shape"] = describe(echoed["value"])
            optimized = echoed["metrics"].get("optimized_circuit")
            if optimized != entry.get("optimized_circuit"):
                shape["optimized_circuit"] = optimized
        else:
            shape["error"] = echoed["error"]
        shapes[fmt] = shape
    entry["shapes"] = shapes
    if "physical_qubits" not in entry:
        # The Qiskit model refused (e.g. an OpenQASM 3 fractional delay) but the echo model ran it:
        # its program says where it ran (a front end's raw() T1 program has only this record).
        for shape in shapes.values():
            if shape["accepted"] and shape.get("optimized_circuit"):
                facts = circuit_facts(shape["optimized_circuit"])
                entry["physical_qubits"] = facts.physical_qubits
                entry["measures"] = facts.measures
                break
    echo_same_format = shapes.get("binary_count", shapes.get("given", {})).get("accepted")
    if echo_same_format == counts["accepted"]:
        entry["verdict"] = "accepted" if counts["accepted"] else "refused"
    else:
        # QAT's two simulators disagree (e.g. the echo model cannot allocate an 800 s delay, the
        # Qiskit model has no counts without a measurement): a limit of a model, not a decision
        # of the compiler, so the replay does not hold the emulator to either.
        entry["verdict"] = "models_disagree"
    return entry


def load_programs(
    corpus: Path, frontend: Path
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Corpus programs by name, and front-end programs (program + config + device) by name."""
    programs = {
        path.stem: {"source": str(path.relative_to(ROOT)), "program": path.read_text()}
        for path in sorted(corpus.glob("*.qasm"))
    }
    extras = {}
    for path in sorted(frontend.glob("*.json")):
        doc = json.loads(path.read_text())
        name = f"frontend_{path.stem}"
        programs[name] = {"source": str(path.relative_to(ROOT)), "program": doc["program"]}
        extras[name] = doc
    return programs, extras


#: Address-space cap for the recorder: the echo model samples every delay at 1 ns, so `delay(1)`
#: (one second in QAT) asks for 16 GB. With the cap that is a MemoryError recorded as the echo
#: model's refusal, instead of the kernel's OOM killer on a shared machine.
MEMORY_LIMIT_BYTES = 8 * 1024**3


def limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to cap with
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(hard, MEMORY_LIMIT_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="*", help="comma-separated globs over program names (default: all)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated setting names")
    parser.add_argument("--devices", default="lucy,toshiko", help="comma-separated device names")
    parser.add_argument("--shots", type=int, default=1000, help="shots for counts (Qiskit model)")
    parser.add_argument("--shape-shots", type=int, default=5, help="shots for result shapes (echo model)")
    parser.add_argument("--out", type=Path, default=FIXTURES / "fixtures.json")
    parser.add_argument("--merge", action="store_true", help="keep fixtures of the output not re-recorded")
    args = parser.parse_args(argv)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(console)
    logger.setLevel(logging.INFO)
    quiet_qat()
    limit_memory()

    devices_doc = json.loads((FIXTURES / "devices.json").read_text())
    devices = {name: devices_doc[name] for name in args.devices.split(",")}
    hardware = {name: Hardware(d["qubit_count"], d["couplings"]) for name, d in devices.items()}
    programs, extras = load_programs(FIXTURES / "corpus", FIXTURES / "frontend")
    patterns = args.only.split(",")
    chosen = [name for name in programs if any(fnmatch.fnmatch(name, p) for p in patterns)]
    settings = args.settings.split(",")

    fixtures: dict[tuple[str, str, str], dict[str, Any]] = {}
    if args.merge and args.out.exists():
        previous = json.loads(args.out.read_text())
        CONFIGS.update(previous["configs"])
        for entry in previous["fixtures"]:
            if entry["program"] not in programs:
                continue  # no longer in the corpus
            fixtures[(entry["program"], entry["setting"], entry["device"])] = entry
    started = time.monotonic()
    for index, name in enumerate(chosen):
        text = programs[name]["program"]
        for device in devices:
            runs = [(setting, None) for setting in settings]
            if name in extras and extras[name].get("device", "lucy") == device:
                runs.append(("given", CompilerConfig.create_from_json(extras[name]["config"])))
            for setting, given in runs:
                entry = record_one(
                    text,
                    setting,
                    device,
                    hardware[device],
                    args.shots,
                    args.shape_shots,
                    given,
                    label=f"given:{name}" if given is not None else None,
                )
                entry["program"] = name
                fixtures[(name, setting, device)] = entry
        logger.info("%3d/%d %s (%.0f s)", index + 1, len(chosen), name, time.monotonic() - started)

    doc = {
        "about": "What qat-compiler does with each corpus program (scripts/qat_fixtures/record.py).",
        "versions": {
            pkg: version(pkg) for pkg in ("qat-compiler", "pytket", "qiskit", "qiskit-aer", "compiler-config")
        },
        "python": sys.version.split()[0],
        "devices": devices_doc,
        "settings": SETTING_DOCS,
        "formats": list(FORMATS),
        "programs": {name: programs[name] for name in sorted({key[0] for key in fixtures})},
        "configs": CONFIGS,
        "fixtures": [fixtures[key] for key in sorted(fixtures)],
    }
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    logger.info("wrote %d fixtures for %d programs to %s", len(fixtures), len(doc["programs"]), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
