"""Import time: ``import oqc_provider`` (and its front ends) against ``import qiskit``, fresh processes.

    python benchmarks/import_time.py [--repeats 7]

Each import runs in a new interpreter and is timed inside it (interpreter start-up excluded), so
the figures are what a user's ``import`` line costs; medians of ``--repeats`` processes, taken in
turns so a noisy neighbour hits all of them alike. Goal: ``import oqc_provider`` <= 1.2x
``import qiskit``; and what only some users need (pytket, Aer, the emulator) loads only when used,
which is checked from ``sys.modules`` after each import.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import print_table

GOAL = 1.2
#: (label, statement) pairs timed in fresh interpreters.
IMPORTS = [
    ("import qiskit", "import qiskit"),
    ("import oqc_provider", "import oqc_provider"),
    ("from oqc_provider.qiskit import OQCProvider", "from oqc_provider.qiskit import OQCProvider"),
    ("import pytket", "import pytket"),
    # Any pytket Backend subclass needs pytket.backends, which loads scipy and sympy: the floor.
    ("from pytket.backends import Backend", "from pytket.backends import Backend"),
    ("from oqc_provider.pytket import OQCTketBackend", "from oqc_provider.pytket import OQCTketBackend"),
    ("from pytket.extensions.qiskit import AerBackend", "from pytket.extensions.qiskit import AerBackend"),
    ("from oqc_provider.engine import OqcSdk", "from oqc_provider.engine import OqcSdk"),
]
#: Modules that must stay unloaded until used, and the imports that must not load them.
HEAVY = ("qiskit_aer", "pytket", "qiskit", "oqc_provider.emulator", "starlette", "uvicorn")

_PROBE = """
import json, sys, time
started = time.perf_counter()
exec({statement!r})
elapsed = time.perf_counter() - started
loaded = [name for name in {heavy!r} if name in sys.modules]
print(json.dumps({{"seconds": elapsed, "loaded": loaded}}))
"""


def probe(statement: str) -> tuple[float, list[str]]:
    """Seconds ``statement`` takes in a fresh interpreter, and which heavy modules it loaded."""
    code = _PROBE.format(statement=statement, heavy=HEAVY)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if completed.returncode != 0:  # e.g. pytket-qiskit not installed: report it, measure the rest
        return float("nan"), ["(not importable)"]
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(answer["seconds"]), list(answer["loaded"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {label: [] for label, _ in IMPORTS}
    loaded: dict[str, list[str]] = {}
    for _ in range(args.repeats):
        for label, statement in IMPORTS:
            seconds, modules = probe(statement)
            times[label].append(seconds)
            loaded[label] = modules
    qiskit_s = statistics.median(times["import qiskit"])
    rows = [
        (
            label,
            f"{1000 * statistics.median(values):.0f}",
            f"{statistics.median(values) / qiskit_s:.2f}x",
            ", ".join(loaded[label]) or "-",
        )
        for label, values in times.items()
    ]
    print_table(
        f"Import time, fresh interpreters, median of {args.repeats}",
        ("import", "ms", "vs qiskit", "heavy modules loaded"),
        rows,
    )
    ours = statistics.median(times["import oqc_provider"]) / qiskit_s
    front = statistics.median(times["from oqc_provider.qiskit import OQCProvider"]) / qiskit_s
    lazy = not loaded["import oqc_provider"] and not any(
        name in loaded["from oqc_provider.qiskit import OQCProvider"]
        for name in ("qiskit_aer", "pytket", "oqc_provider.emulator")
    )
    print(
        f"ratio: import oqc_provider {ours:.2f}x import qiskit, the Qiskit front end {front:.2f}x "
        f"(goal <= {GOAL}); pytket, Aer and the emulator loaded only when used: {'yes' if lazy else 'NO'}"
    )


if __name__ == "__main__":
    main()
