"""Run options of the wrong type are refused, never rounded: ``shots=True`` is not 1 shot, and
``seed_simulator=1.5`` is not seed 1 (nor no seed). NumPy integers are still welcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy
import pytest
from pytket import Circuit
from qiskit import QuantumCircuit, transpile

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qiskit import OQCProvider
from oqc_provider.run_options import RunOptions


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    application = create_app(EmulatorSettings(seed=4))
    yield application
    application.state.emulator.close()


@pytest.mark.parametrize("shots", [True, False])
def test_shots_that_are_a_boolean_are_refused(shots):
    with pytest.raises(ConfigurationError, match="shots"):
        RunOptions.build(shots=shots)


@pytest.mark.parametrize("seed", [1.5, True, float("nan")])
def test_a_seed_that_is_not_a_whole_number_is_refused(seed):
    with pytest.raises(ConfigurationError, match="seed"):
        RunOptions.build(seed=seed)


def test_a_whole_seed_of_any_integer_type_is_taken():
    assert RunOptions.build(seed=2.0).seed == 2
    assert RunOptions.build(seed=7).seed == 7


def test_qiskit_refuses_shots_true_and_a_fractional_seed_and_takes_numpy_integers(app, tmp_path):
    provider = OQCProvider(url="http://emulator", transport=httpx.ASGITransport(app=app), job_store=tmp_path)
    try:
        backend = provider.get_backend("Lucy Simulator")
        flip = QuantumCircuit(1, 1)
        flip.x(0)
        flip.measure(0, 0)
        circuit = transpile(flip, backend)
        with pytest.raises(ConfigurationError, match="shots"):
            backend.run(circuit, shots=True)
        with pytest.raises(ConfigurationError, match="seed"):
            backend.run(circuit, shots=10, seed_simulator=1.5)
        job = backend.run(circuit, shots=numpy.int64(10), seed_simulator=numpy.int32(3))
        assert job.result().get_counts() == {"1": 10}
        assert list(provider.jobs()) and len(list(provider.jobs())) == 1  # the refused runs sent nothing
    finally:
        provider.close()


def test_pytket_refuses_a_fractional_seed(app, tmp_path):
    backend = OQCTketBackend(
        "Lucy Simulator", url="http://emulator", transport=httpx.ASGITransport(app=app), job_store=tmp_path
    )
    try:
        circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).Measure(0, 0))
        with pytest.raises(ConfigurationError, match="seed"):
            backend.process_circuits([circuit], n_shots=10, seed=1.5)
        with pytest.raises((ConfigurationError, ValueError), match="shots"):
            backend.process_circuits([circuit], n_shots=True)
        handle = backend.process_circuit(circuit, n_shots=10, seed=numpy.int64(5))
        assert backend.get_result(handle).get_counts() == {(1,): 10}
    finally:
        backend.close()
