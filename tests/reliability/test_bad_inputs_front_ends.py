"""The bad-input catalogue, front-end entries: Qiskit's and pytket's public API only.

Each mistake gets a clear typed error (or, where the ecosystem expects it, a warning), and an
earlier job stays retrievable, from the same object and from a fresh one on the same store.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.qcaas.errors import ConfigurationError, UnknownQpuError

qiskit = pytest.importorskip("qiskit")
pytket = pytest.importorskip("pytket")

from pytket import Circuit  # noqa: E402
from pytket.backends import ResultHandle  # noqa: E402
from qiskit import QuantumCircuit, transpile  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402

from oqc_provider.pytket import OQCTketBackend  # noqa: E402
from oqc_provider.pytket.errors import HandleError  # noqa: E402
from oqc_provider.qiskit import OQCProvider  # noqa: E402
from oqc_provider.qiskit.translate import CircuitValidationError  # noqa: E402


@dataclass
class Setup:
    app: Any
    store: Path

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    app = create_app(EmulatorSettings(seed=4))
    yield Setup(app, tmp_path_factory.mktemp("front-end-jobs"))
    app.state.emulator.close()


# --- Qiskit -------------------------------------------------------------------------------------


@dataclass
class QiskitWorld:
    provider: OQCProvider
    backend: Any
    circuit: QuantumCircuit
    job_id: str
    counts: dict[str, int]

    def assert_nothing_lost(self, setup: Setup) -> None:
        assert self.backend.retrieve_job(self.job_id).result().get_counts() == self.counts
        fresh = OQCProvider(url="http://emulator", transport=setup.transport(), job_store=setup.store)
        try:
            assert self.job_id in [entry.job_id for entry in fresh.jobs()]
            again = fresh.get_backend("Lucy Simulator").retrieve_job(self.job_id)
            assert again.result().get_counts() == self.counts
        finally:
            fresh.close()


@pytest.fixture(scope="module")
def qk(setup: Setup) -> Iterator[QiskitWorld]:
    provider = OQCProvider(url="http://emulator", transport=setup.transport(), job_store=setup.store)
    backend = provider.get_backend("Lucy Simulator")
    bell = QuantumCircuit(2, 2, name="bell")
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    circuit = transpile(bell, backend)
    job = backend.run(circuit, shots=100)
    counts = job.result().get_counts()
    yield QiskitWorld(provider, backend, circuit, job.job_id(), counts)
    provider.close()


def test_qiskit_asking_for_a_backend_that_does_not_exist(qk, setup):
    with pytest.raises(UnknownQpuError, match="Lucy Simulator"):
        qk.provider.get_backend("Lucie Simulator")
    qk.assert_nothing_lost(setup)


def test_qiskit_passing_an_unknown_run_option_warns_and_still_runs(qk, setup):
    with pytest.warns(UserWarning, match="shoots"):
        job = qk.backend.run(qk.circuit, shots=50, shoots=10)
    assert sum(job.result().get_counts().values()) == 50
    qk.assert_nothing_lost(setup)


def test_qiskit_asking_for_meas_level_1(qk, setup):
    with pytest.raises(ConfigurationError, match="meas_level=1"):
        qk.backend.run(qk.circuit, meas_level=1)
    qk.assert_nothing_lost(setup)


def test_qiskit_running_a_circuit_with_unbound_parameters(qk, setup):
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1)
    circuit.rz(theta, 0)
    circuit.measure(0, 0)
    with pytest.raises(CircuitValidationError, match="unbound parameters \\(theta\\)"):
        qk.backend.run(circuit)
    qk.assert_nothing_lost(setup)


def test_qiskit_running_an_empty_circuit_list(qk, setup):
    with pytest.raises(ConfigurationError, match="at least one circuit"):
        qk.backend.run([])
    qk.assert_nothing_lost(setup)


@pytest.mark.parametrize("shots", [0, -1, 2.5])
def test_qiskit_asking_for_impossible_shots(qk, setup, shots):
    with pytest.raises((ConfigurationError, ValueError), match="shots"):
        qk.backend.run(qk.circuit, shots=shots)
    qk.assert_nothing_lost(setup)


# --- pytket -------------------------------------------------------------------------------------


@dataclass
class TketWorld:
    backend: OQCTketBackend
    circuit: Circuit
    handle: ResultHandle
    counts: dict[tuple[int, ...], int]

    def assert_nothing_lost(self, setup: Setup) -> None:
        assert self.backend.get_result(self.handle).get_counts() == self.counts
        fresh = OQCTketBackend(
            "Lucy Simulator", url="http://emulator", transport=setup.transport(), job_store=setup.store
        )
        try:
            handle = ResultHandle.from_str(str(self.handle))
            assert fresh.get_result(handle).get_counts() == self.counts
        finally:
            fresh.close()


@pytest.fixture(scope="module")
def tk(setup: Setup) -> Iterator[TketWorld]:
    backend = OQCTketBackend(
        "Lucy Simulator", url="http://emulator", transport=setup.transport(), job_store=setup.store
    )
    circuit = backend.get_compiled_circuit(Circuit(2, 2).H(0).CX(0, 1).measure_all())
    handle = backend.process_circuit(circuit, n_shots=100)
    counts = backend.get_result(handle).get_counts()
    yield TketWorld(backend, circuit, handle, counts)
    backend.close()


def test_pytket_asking_for_a_backend_that_does_not_exist(tk, setup):
    with pytest.raises(UnknownQpuError, match="Available"):
        OQCTketBackend("Lucie", url="http://emulator", transport=setup.transport(), job_store=setup.store)
    tk.assert_nothing_lost(setup)


def test_pytket_reading_a_handle_with_another_backend(tk, setup):
    toshiko = OQCTketBackend(
        "Toshiko", url="http://emulator", transport=setup.transport(), job_store=setup.store
    )
    try:
        with pytest.raises(HandleError, match="use OQCTketBackend"):
            toshiko.get_result(tk.handle)
    finally:
        toshiko.close()
    tk.assert_nothing_lost(setup)


def test_pytket_passing_an_unknown_option_warns_and_still_runs(tk, setup):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [handle] = tk.backend.process_circuits([tk.circuit], n_shots=30, shoots=10)
    assert any("shoots" in str(w.message) for w in caught)
    assert sum(tk.backend.get_result(handle).get_counts().values()) == 30
    tk.assert_nothing_lost(setup)


def test_pytket_processing_an_empty_circuit_list_is_a_no_op(tk, setup):
    assert tk.backend.process_circuits([]) == []
    tk.assert_nothing_lost(setup)


@pytest.mark.parametrize("shots", [0, -3])
def test_pytket_asking_for_impossible_shots(tk, setup, shots):
    with pytest.raises(ConfigurationError, match="shots"):
        tk.backend.process_circuits([tk.circuit], n_shots=shots)
    tk.assert_nothing_lost(setup)
