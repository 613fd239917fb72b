"""qiskit-experiments' T1 through the exact program text QAT would receive.

QAT (QCaaS's compiler) reads every duration in seconds, and its OpenQASM 2 reader takes only a whole
number in ``delay(x)``; its OpenQASM 3 reader takes ``delay[400.0ns] q[5];``. So the backend writes a
circuit with delays as OpenQASM 3, each delay in nanoseconds (never dt), and runs it with the per-shot
``raw()`` format (QAT's counts runtime refuses fractional OpenQASM 3 delays). The programs a T1
experiment sends must say exactly that, on the qubit the experiment chose, and the fit of what the
emulator returns for them must find the Target's T1 (the emulator relaxes during delays from T1/T2).
The same program text, fed to QAT itself, is accepted and keeps its qubit: see the
``frontend_qiskit_t1_delay_5`` fixture and tests/emulator/test_frontend_fixtures.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from oqc_provider.qcaas.compiler_config import QuantumResultsFormat
from oqc_provider.qiskit import OQCBackend, OQCProvider
from oqc_provider.run_options import KEEP_LAYOUT

_DELAY = re.compile(r"^delay\[([0-9.]+)ns\] q\[(\d+)\];$", re.MULTILINE)


@pytest.mark.slow
def test_t1_programs_are_openqasm3_in_ns_on_the_chosen_qubit(provider: OQCProvider) -> None:
    T1 = pytest.importorskip("qiskit_experiments.library").T1
    backend = provider.get_backend("Toshiko")
    delays = [1e-6, 2.5e-5, 1e-4]
    experiment = T1(physical_qubits=(5,), delays=delays, backend=backend)
    experiment.set_run_options(shots=50)
    data = experiment.run(backend_run=True, analysis=None).block_for_results(timeout=120)
    sent = [child for job in data.jobs() for child in job.composite.jobs]
    assert len(sent) == len(delays)
    seen = []
    for child in sent:
        assert child.program.startswith("OPENQASM 3.0;\n"), child.program
        assert "dt]" not in child.program and "opaque" not in child.program
        waits = [(float(ns) * 1e-9, int(qubit)) for ns, qubit in _DELAY.findall(child.program)]
        assert waits and {qubit for _, qubit in waits} == {5}, child.program
        seen.append(sum(seconds for seconds, _ in waits))
        config = child.config_to_send()
        assert config.optimizations == KEEP_LAYOUT  # the service must not move q[5]
        assert config.results_format == QuantumResultsFormat.raw()  # per shot: QAT runs its fractional delays
    # qiskit-experiments rounds each delay to a whole number of dt (0.5 ns): seconds, not dt.
    assert sorted(seen) == pytest.approx(delays, rel=1e-6)


@pytest.mark.parametrize("backend_run", [True, False], ids=["backend_run", "sampler"])
@pytest.mark.slow
def test_t1_experiment_fits_the_advertised_t1(provider: OQCProvider, backend_run: bool) -> None:
    T1 = pytest.importorskip("qiskit_experiments.library").T1
    backend = provider.get_backend("Toshiko")
    advertised = backend.target.qubit_properties[0].t1
    experiment = T1(physical_qubits=(0,), delays=np.linspace(0, 4 * advertised, 9), backend=backend)
    experiment.set_run_options(shots=600)
    data = experiment.run(backend_run=backend_run).block_for_results()
    fit = data.analysis_results("T1", dataframe=True).iloc[0]
    assert abs(fit["value"].nominal_value - advertised) / advertised < 0.15, (fit["value"], advertised)


def test_circuits_with_delays_give_counts_and_memory_like_any_circuit(lucy_sim: OQCBackend) -> None:
    """Sent as OpenQASM 3 with raw() results, decoded into counts and memory: several registers and
    an unmeasured bit (QAT writes it as the integer 0, as in OpenQASM 2) map back as usual."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    circuit = QuantumCircuit(QuantumRegister(8, "q"), ClassicalRegister(3, "c"), ClassicalRegister(1, "b"))
    circuit.x(5)
    circuit.delay(800, 5, unit="dt")
    circuit.delay(1.5, 4, unit="us")
    circuit.measure(5, 2)
    circuit.measure(4, 3)
    result = lucy_sim.run(circuit, shots=20, memory=True).result(timeout=60)
    assert result.get_counts() == {"0 100": 20}
    assert result.get_memory() == ["0 100"] * 20
    job = lucy_sim.run(circuit, shots=20)
    assert job.result(timeout=60).get_counts() == {"0 100": 20}
    (child,) = job.composite.jobs
    assert child.program.startswith("OPENQASM 3.0;") and "delay[1500.0ns] q[4];" in child.program
    assert child.config_to_send().results_format == QuantumResultsFormat.raw()
