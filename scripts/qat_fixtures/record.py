"""Record what OQC's compiler QAT does with every program of the fixtures corpus, as the service runs it.

Run it under an interpreter that has ``qat-compiler==3.5.0`` (never the project's venv: QAT is not a
dependency of ``oqc_provider``), from the repository root::

    /work/qat-venv/bin/python scripts/qat_fixtures/record.py            # everything
    /work/qat-venv/bin/python scripts/qat_fixtures/record.py --only 'ghz_*' --merge

The oracle is QAT's pipeline path, ``QAT().compile`` then ``QAT().execute``, which is what
``qat-rpc`` 1.0.0 (the QCaaS service wrapper) calls; ``pipeline_models.py`` beside this file builds
the pipelines on each device's couplings. For each program x optimisation setting x device it
records: accepted or refused (QAT's exception type and message), counts from the simulating pipeline
(``LegacyQiskitPipeline``, noiseless Aer), the program QAT ran (``MetricsType.OptimizedCircuit``) with
the physical qubits and measure map derived from it, and, from the echo pipeline (qat-rpc's default
``EchoPipeline``), the value QAT returns for each results format (a few shots: the test compares its
shape). See README.md beside this file for the facts behind the choices.

It imports nothing from ``oqc_provider``: device couplings come from tests/fixtures/qat/devices.json.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import sys
import time
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
from pipeline_models import quiet_qat
from pipeline_models import run as run_pipeline

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


#: Formats recorded under every setting; the others only under SHAPE_SETTINGS (the replay's): QAT's
#: result shape does not depend on the optimisation setting, and the echo pipeline costs ~1 s a run.
ALL_SETTINGS_FORMATS = {"binary_count"}
SHAPE_SETTINGS = {"default", "tket_empty"}
#: One shot of raw(), under ``default`` only: QAT shapes a one-shot raw result its own way.
ONE_SHOT_FORMAT = "raw_one_shot"


#: (program, device, model) runs that timed out: the program's other runs on that model are recorded
#: with the same error without running (every setting reaches the same delay; each would take the
#: whole timeout).
TIMED_OUT: dict[tuple[str, str, str], dict[str, Any]] = {}


def run(program: str, device: str, model: str, config: CompilerConfig) -> dict[str, Any]:
    """One pipeline-path run (compile then execute): the outcome, never an exception."""
    if (program, device, model) in TIMED_OUT:
        return {"accepted": False, "error": TIMED_OUT[(program, device, model)], "optimized_circuit": None}
    outcome = run_pipeline(program, config, device, model)
    if not outcome["accepted"] and outcome["error"]["type"] == "TimeoutError":
        TIMED_OUT[(program, device, model)] = outcome["error"]
    out: dict[str, Any] = {"accepted": outcome["accepted"]}
    if outcome["accepted"]:
        out["value"] = outcome["value"]
    else:
        out["error"] = outcome["error"]
    out["optimized_circuit"] = outcome["optimized_circuit"]
    if outcome["warnings"]:
        out["qat_warnings"] = outcome["warnings"]
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
    shots: int,
    shape_shots: int,
    given: CompilerConfig | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Everything QAT does with ``program`` under one setting on one device."""
    config = given if given is not None else make_config(setting, "binary_count", shots)
    config_json = config.to_json()  # before QAT fills in a None ``optimizations``
    counted = run(program, device, "counts", config)
    entry: dict[str, Any] = {
        "setting": setting,
        "device": device,
        "config": config_key(config_json, f"{label or setting}/binary_count/{config.repeats}"),
    }
    counts: dict[str, Any] = {"accepted": counted["accepted"], "shots": config.repeats}
    if counted["accepted"]:
        counts["counts"] = counted["value"]
        optimized = counted["optimized_circuit"]
        entry["optimized_circuit"] = optimized
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
    if given is not None:
        formats = ["given"]
    elif setting in SHAPE_SETTINGS:
        formats = [*FORMATS, *([ONE_SHOT_FORMAT] if setting == "default" else [])]
    else:
        formats = sorted(ALL_SETTINGS_FORMATS)
    for fmt in formats:
        if fmt == ONE_SHOT_FORMAT:
            shape_config = make_config(setting, "raw", 1)
        elif given is None:
            shape_config = make_config(setting, fmt, shape_shots)
        else:
            shape_config = CompilerConfig.create_from_json(config_json)
            shape_config.repeats = shape_shots
        shape_json = shape_config.to_json()
        echoed = run(program, device, "shapes", shape_config)
        shape: dict[str, Any] = {
            "accepted": echoed["accepted"],
            "config": config_key(shape_json, f"{label or setting}/{fmt}/{shape_config.repeats}"),
        }
        if echoed["accepted"]:
            shape["value"] = echoed["value"]
            shape["shape"] = describe(echoed["value"])
            optimized = echoed["optimized_circuit"]
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


def combine(parts: list[Path], out: Path) -> int:
    """One fixtures file from several recordings of the same recorder (e.g. one per device, run apart)."""
    docs = [json.loads(part.read_text()) for part in parts]
    doc = docs[0]
    fixtures = {}
    for part in docs:
        CONFIGS.clear()
        CONFIGS.update(doc["configs"])
        renamed = {key: config_key(json.dumps(config), key) for key, config in part["configs"].items()}
        doc["configs"] = dict(CONFIGS)
        doc["programs"].update(part["programs"])
        for entry in part["fixtures"]:
            entry["config"] = renamed[entry["config"]]
            for shape in entry["shapes"].values():
                shape["config"] = renamed[shape["config"]]
            fixtures[(entry["program"], entry["setting"], entry["device"])] = entry
    doc["fixtures"] = [fixtures[key] for key in sorted(fixtures)]
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    logger.info("wrote %d fixtures for %d programs to %s", len(fixtures), len(doc["programs"]), out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="*", help="comma-separated globs over program names (default: all)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated setting names")
    parser.add_argument("--devices", default="lucy,toshiko", help="comma-separated device names")
    parser.add_argument("--shots", type=int, default=1000, help="shots for counts (Qiskit model)")
    parser.add_argument("--shape-shots", type=int, default=5, help="shots for result shapes (echo model)")
    parser.add_argument("--out", type=Path, default=FIXTURES / "fixtures.json")
    parser.add_argument("--merge", action="store_true", help="keep fixtures of the output not re-recorded")
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        help="write --out from these recordings (e.g. one per device) and stop",
    )
    args = parser.parse_args(argv)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(console)
    logger.setLevel(logging.INFO)
    if args.combine:
        return combine(args.combine, args.out)
    quiet_qat()
    limit_memory()

    devices_doc = json.loads((FIXTURES / "devices.json").read_text())
    devices = {name: devices_doc[name] for name in args.devices.split(",")}
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
                    args.shots,
                    args.shape_shots,
                    given,
                    label=f"given:{name}" if given is not None else None,
                )
                entry["program"] = name
                fixtures[(name, setting, device)] = entry
        logger.info("%3d/%d %s (%.0f s)", index + 1, len(chosen), name, time.monotonic() - started)

    doc = {
        "about": (
            "What qat-compiler's pipeline path (QAT().compile/execute, as qat-rpc calls it) does with "
            "each corpus program (scripts/qat_fixtures/record.py)."
        ),
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
