"""Record what QAT 3.5's pipeline path does with the encodings preflight relies on (issue 20).

Runs under QAT's own venv and imports nothing from ``oqc_provider``; it uses the ``pipeline_models``
module beside it (QAT's pipeline path as ``qat-rpc`` calls it, on models with each device's couplings).
Programs:

* ``tests/fixtures/qat/preflight/*.qasm``: what the Qiskit front end writes for a Bell pair scheduled
  with ALAP padding and for a T1 point, on Lucy and Toshiko (``python -m tests.preflight.frontend_programs``
  rewrites them), and the OpenQASM 2 encoding of a sub-second delay that QAT refuses
  (``alt_qasm2_fractional_delay.qasm``: why the front ends keep OpenQASM 3 for delays);
* each catalogue entry's example (``oqc_provider/service_observations.json``, read as data).

Each runs on both devices with the front ends' config (``Tket(Empty)``), binary counts on the counts
model and ``raw()`` on the echo (shapes) model; the outcome (accepted, QAT's error type and message,
the stage) goes to ``tests/fixtures/qat/preflight.json``, replayed by
``tests/preflight/test_qat_evidence.py``.

    /work/qat-venv/bin/python scripts/qat_fixtures/record_preflight.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compiler_config.config import (
    CompilerConfig,
    MetricsType,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)
from pipeline_models import run

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests/fixtures/qat/preflight"
OUT = ROOT / "tests/fixtures/qat/preflight.json"
CATALOGUE = ROOT / "oqc_provider/service_observations.json"
SHOTS = 100


def _config(raw: bool) -> CompilerConfig:
    results = QuantumResultsFormat().raw() if raw else QuantumResultsFormat().binary_count()
    return CompilerConfig(
        repeats=SHOTS,
        results_format=results,
        optimizations=Tket(TketOptimizations.Empty),
        metrics=MetricsType.Default,
    )


def programs() -> dict[str, str]:
    """Name -> program text."""
    found = {path.stem: path.read_text() for path in sorted(PROGRAMS.glob("*.qasm"))}
    for entry in json.loads(CATALOGUE.read_text())["observations"]:
        found[f"catalogue_{entry['id']}"] = entry["example"]
    return found


def outcome(program: str, device: str, model: str) -> dict[str, object]:
    """What QAT did: accepted or not, its error, the stage, and counts (counts model only)."""
    result = run(program, _config(raw=model == "shapes"), device, model=model)
    recorded: dict[str, object] = {"accepted": bool(result["accepted"])}
    if not result["accepted"]:
        recorded["error"] = result["error"]
        recorded["stage"] = result.get("stage")
    elif model == "counts":
        recorded["counts"] = result["value"]
    return recorded


def main() -> None:
    fixtures = []
    for name, program in programs().items():
        for device in ("lucy", "toshiko"):
            for model in ("counts", "shapes"):
                fixtures.append(
                    {"program": name, "device": device, "model": model, **outcome(program, device, model)}
                )
                print(name, device, model, fixtures[-1].get("accepted"), flush=True)
    document = {
        "about": "QAT 3.5.0 pipeline path (pipeline_models.py) on the encodings preflight relies on; "
        f"config Tket(Empty), {SHOTS} shots; counts model binary_count, shapes model raw.",
        "programs": programs(),
        "fixtures": fixtures,
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
