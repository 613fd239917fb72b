"""What preflight costs per circuit: the checks against the writing of each circuit's program.

    python benchmarks/preflight_cost.py [--repeats 200]

For circuits the Qiskit front end sends (a Bell pair, a 130-gate random circuit transpiled for Toshiko,
an ALAP-scheduled Bell pair written as OpenQASM 3), it times ``check_program`` (catalogue classes and
qubit count, reading the program text) and ``check_request_sizes`` (the engine's own request packing, per
circuit of a 100-circuit batch), and, for scale, ``checked_wire`` (checking the circuit against the
Target and writing its program). Medians in microseconds, and preflight as a fraction of the write.
Goal: at most a few milliseconds per circuit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qiskit import QuantumCircuit, transpile
from qiskit.circuit.random import random_circuit

from oqc_provider.engine import OqcSdk
from oqc_provider.preflight import check_program, check_request_sizes
from oqc_provider.qiskit import OQCBackend, OQCProvider
from oqc_provider.qiskit.translate import checked_wire
from oqc_provider.run_options import RunOptions

GOAL_MS = 3.0


def median_us(action: Callable[[], object], repeats: int) -> float:
    """The median of ``repeats`` timings of ``action``, in microseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def circuits(provider: OQCProvider) -> dict[str, tuple[object, QuantumCircuit]]:
    """Name -> (backend, transpiled circuit)."""
    toshiko, lucy = provider.get_backend("Toshiko"), provider.get_backend("Lucy Simulator")
    bell = QuantumCircuit(2, 2, name="bell")
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    wide = random_circuit(6, 12, max_operands=2, measure=True, seed=3)
    return {
        "bell (Lucy, OpenQASM 2)": (lucy, transpile(bell, lucy, seed_transpiler=1)),
        "random 6q (Toshiko, OpenQASM 2)": (toshiko, transpile(wide, toshiko, seed_transpiler=1)),
        "ALAP bell (Lucy, OpenQASM 3)": (
            lucy,
            transpile(bell, lucy, scheduling_method="alap", seed_transpiler=1),
        ),
    }


def measure(
    sdk: OqcSdk, backend: OQCBackend, circuit: QuantumCircuit, repeats: int
) -> tuple[float, float, float]:
    """Microseconds to write ``circuit``, to check its program, and to size it (per circuit of 100)."""
    target, device = backend.target, backend.device
    wire = checked_wire(circuit, target, device)
    write = median_us(partial(checked_wire, circuit, target, device), repeats)
    check = median_us(partial(check_program, wire.program, device), repeats)
    config = RunOptions().compiler_config()
    batch = [sdk.new_job(wire.program, backend.qpu_id, config) for _ in range(100)]
    labels = [f"circuit {i}" for i in range(100)]
    size = median_us(partial(check_request_sizes, batch, labels), max(repeats // 10, 5)) / 100
    return write, check, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    worst_ms = 0.0
    with OQCProvider() as provider:
        print(f"{'circuit':34} {'gates':>6} {'write us':>9} {'check us':>9} {'size us':>8} {'ratio':>6}")
        for name, (backend, circuit) in circuits(provider).items():
            write, check, size = measure(provider.session.sdk, backend, circuit, args.repeats)
            worst_ms = max(worst_ms, (check + size) / 1000)
            ratio = (check + size) / write
            print(f"{name:34} {len(circuit.data):>6} {write:>9.1f} {check:>9.1f} {size:>8.1f} {ratio:>6.2f}")
    print(f"preflight per circuit, worst: {worst_ms:.3f} ms (goal <= {GOAL_MS} ms)")


if __name__ == "__main__":
    main()
