"""Submit now, collect later: pytket result handles survive the process that made them.

    python examples/pytket_handles.py submit handles.txt   # submits a batch, writes the handles
    python examples/pytket_handles.py collect handles.txt  # any later process: reads the results

With no arguments it does both in turn. The batch is recorded in the local job store before it is
sent, and each handle also names its task, so ``collect`` works from a new process (or, with the
same OQC_URL, another machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pytket import Circuit, Qubit
from pytket.backends import ResultHandle

from oqc_provider import OQCTketBackend


def circuits() -> list[Circuit]:
    """A GHZ state over two registers, and a 3-qubit Toffoli test."""
    ghz = Circuit(3, name="ghz").H(0).CX(0, 1).CX(1, 2)
    left, right = ghz.add_c_register("left", 1), ghz.add_c_register("right", 2)
    ghz.Measure(Qubit(0), left[0]).Measure(Qubit(1), right[0]).Measure(Qubit(2), right[1])
    toffoli = Circuit(3, name="toffoli").X(0).X(1).CCX(0, 1, 2).measure_all()
    return [ghz, toffoli]


def submit(path: Path) -> None:
    with OQCTketBackend("Lucy Simulator") as backend:
        compiled = backend.get_compiled_circuits(circuits(), optimisation_level=2)
        handles = backend.process_circuits(compiled, n_shots=[500, 100], seed=7)
    path.write_text("\n".join(str(handle) for handle in handles) + "\n")
    print(f"submitted {len(handles)} circuits; handles in {path}")


def collect(path: Path) -> None:
    handles = [ResultHandle.from_str(line) for line in path.read_text().splitlines() if line]
    with OQCTketBackend("Lucy Simulator") as backend:
        for circuit, handle in zip(circuits(), handles, strict=True):
            print(circuit.name, backend.circuit_status(handle).status.name)
            counts = backend.get_result(handle, timeout=120).get_counts(circuit.bits)
            print("  counts over", circuit.bits, "->", dict(counts))


def main(argv: list[str]) -> None:
    path = Path(argv[2] if len(argv) > 2 else "pytket_handles.txt")
    if len(argv) < 2 or argv[1] == "submit":
        submit(path)
    if len(argv) < 2 or argv[1] == "collect":
        collect(path)


if __name__ == "__main__":
    main(sys.argv)
