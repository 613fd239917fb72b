"""Every noise channel is valid and accepted by Aer, on every device: Toshiko runs wide GHZ and reset
circuits without crashing.

Aer once crashed the whole process here (SIGSEGV) when the noise model composed depolarizing after
relaxation: it converts each non-unitary error to canonical Kraus form with LAPACK's ``zheevx``,
which failed on some of those two-qubit channels, and an exception thrown inside its parallel
conversion kills the process. So each check runs in a SUBPROCESS: a crash fails the test with the
signal, it does not take pytest down. The runs go through the Qiskit front end, the engine and the
in-process emulator over HTTP (httpx ASGI transport).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest

#: Runs in a fresh interpreter; prints one JSON line of findings.
SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile

    import httpx
    from qiskit import QuantumCircuit, transpile
    from qiskit_aer import AerSimulator

    from oqc_provider.devices import CATALOGUE, reference_calibration
    from oqc_provider.emulator import EmulatorSettings, create_app
    from oqc_provider.emulator.noise import build_noise_model
    from oqc_provider.qiskit import OQCProvider

    check = sys.argv[1]
    found = {}
    if check == "channels":
        # Every error of every noisy device: CPTP, and accepted by Aer's statevector method, which
        # converts each non-unitary error to canonical Kraus form. Each error becomes one instruction
        # of a small circuit (which qubits it acts on does not matter to the conversion).
        for spec in CATALOGUE.values():
            model = build_noise_model(spec, reference_calibration(spec))
            if model is None:
                found[spec.name] = "noiseless"
                continue
            circuit = QuantumCircuit(2, 2)
            checked = 0
            for name, errors in model._local_quantum_errors.items():
                for qubits, error in errors.items():
                    assert error.to_quantumchannel().is_cptp(), (spec.name, name, qubits)
                    circuit.append(error.to_instruction(), list(range(len(qubits))))
                    checked += 1
            circuit.measure([0, 1], [0, 1])
            assert AerSimulator(method="statevector").run(circuit, shots=8).result().success
            found[spec.name] = checked
    else:
        app = create_app(EmulatorSettings(seed=5))
        provider = OQCProvider(
            url="http://emulator.test", transport=httpx.ASGITransport(app=app), job_store=tempfile.mkdtemp()
        )
        toshiko = provider.get_backend("Toshiko")
        if check == "ghz":
            for width, shots in ((10, 400), (20, 4)):
                ghz = QuantumCircuit(width, width)
                ghz.h(0)
                for q in range(width - 1):
                    ghz.cx(q, q + 1)
                ghz.measure(range(width), range(width))
                compiled = transpile(ghz, toshiko, optimization_level=1, seed_transpiler=3)
                counts = toshiko.run(compiled, shots=shots).result().get_counts()
                ghz_shots = counts.get("0" * width, 0) + counts.get("1" * width, 0)
                widths = sorted({len(key) for key in counts})
                found[width] = {"shots": sum(counts.values()), "ghz": ghz_shots, "widths": widths}
        else:
            reset = QuantumCircuit(toshiko.num_qubits, 3)
            for q in (0, 1, 8):
                reset.x(q)
                reset.reset(q)
            reset.ecr(0, 1)
            reset.measure(0, 0)
            reset.reset(0)
            reset.measure([0, 1, 8], [0, 1, 2])
            counts = toshiko.run(reset, shots=2000).result().get_counts()
            found["counts"] = counts
        provider.close()
        app.state.emulator.close()
    print(json.dumps(found))
    """
)


def _run(check: str, timeout: float = 600) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, check], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"exit {done.returncode} (negative: killed by that signal)\n{done.stderr[-3000:]}"
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_channel_is_cptp_and_accepted_by_aer() -> None:
    found = _run("channels")
    assert found["Lucy Simulator"] == "noiseless"
    # sx and x per qubit, measure is a readout error (not here), ECR per coupling, reset on Toshiko.
    assert found["Lucy"] == 2 * 8 + 8
    assert found["Toshiko"] == 3 * 32 + 52


@pytest.mark.parametrize("check", ["ghz", "reset"])
@pytest.mark.slow
def test_toshiko_runs_wide_ghz_and_resets(check: str) -> None:
    found = _run(check)
    if check == "ghz":
        ten, twenty = found["10"], found["20"]
        assert ten["shots"] == 400 and ten["widths"] == [10]
        # 9 noisy CNOTs and 10 readouts keep well over a third of the shots on 0...0 or 1...1.
        assert ten["ghz"] > 0.35 * 400, ten
        assert twenty["shots"] == 4 and twenty["widths"] == [20]
    else:
        counts = found["counts"]
        assert sum(counts.values()) == 2000
        # Every qubit was reset to |0> (then ECR on 0 -> 1, and 0 reset again): qubit 8 and the
        # final qubit 0 read 0 but for readout error and the reset's relaxation.
        zeros_8 = sum(n for key, n in counts.items() if key[0] == "0") / 2000
        assert zeros_8 > 0.9, counts


@pytest.mark.parametrize("unit", ["s", "us", "dt"])
def test_delays_relax_over_their_duration_in_any_unit(unit: str) -> None:
    """A delay relaxes its qubit by exp(-t/T1), whether written in seconds (as QAT reads it), an SI
    prefix or the device's dt (the executor hands circuits over in-process, so this seam is direct)."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import DensityMatrix

    from oqc_provider.devices import LUCY, reference_calibration
    from oqc_provider.emulator.noise import add_idle_relaxation

    calibration = reference_calibration(LUCY)
    t1 = calibration.qubit(2).t1
    assert t1 is not None
    seconds = 30e-6
    duration = {"s": seconds, "us": seconds * 1e6, "dt": round(seconds / LUCY.dt)}[unit]
    circuit = QuantumCircuit(3)
    circuit.x(2)
    circuit.delay(duration, 2, unit=unit)
    relaxed = add_idle_relaxation(circuit, LUCY, calibration)
    assert relaxed is not circuit
    excited = DensityMatrix(relaxed.decompose()).probabilities([2])[1]
    assert excited == pytest.approx(math.exp(-seconds / t1), rel=1e-6)
