"""A Bell pair on OQC's Lucy Simulator through pytket: compile, run, read counts by the circuit's bits.

    python examples/pytket_bell.py

With nothing configured this runs on the built-in emulator (no account, no network). Set OQC_URL and
OQC_AUTHENTICATION_TOKEN and the same script runs on OQC's cloud.
"""

from __future__ import annotations

from collections import Counter

from pytket import Circuit

from oqc_provider import OQCTketBackend


def main() -> Counter:
    with OQCTketBackend("Lucy Simulator") as backend:
        print(backend)
        bell = Circuit(2, 2, name="bell").H(0).CX(0, 1).measure_all()
        compiled = backend.get_compiled_circuit(bell)  # rz, sx, x and ECR on Lucy's directed couplings
        print("valid for the device:", backend.valid_circuit(compiled))
        handle = backend.process_circuit(compiled, n_shots=1000, seed=42)
        print("handle:", handle)
        counts = backend.get_result(handle, timeout=120).get_counts(bell.bits)
        print("counts:", dict(counts))
        assert set(counts) <= {(0, 0), (1, 1)}, counts
        return counts


if __name__ == "__main__":
    main()
