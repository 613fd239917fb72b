"""Provider lookup, run options: validation, warnings, seeds, and no leaks into the backend."""

from __future__ import annotations

import warnings

import pytest
from qiskit import transpile

from oqc_provider.qcaas.errors import ConfigurationError, UnknownQpuError
from oqc_provider.qiskit import OQCBackend, OQCProvider

LUCY_SIMULATOR = "qpu:uk:2:d865b5a184"


def test_backends_by_name_id_and_filters(provider: OQCProvider) -> None:
    assert provider.get_backend(LUCY_SIMULATOR) is provider.get_backend("Lucy Simulator")
    assert {b.name for b in provider.backends()} == {"Lucy Simulator", "Lucy", "Toshiko"}
    assert [b.name for b in provider.backends(simulator=True)] == ["Lucy Simulator"]
    assert [b.name for b in provider.backends("toshiko")] == ["Toshiko"]
    with pytest.raises(ConfigurationError, match="filter"):
        provider.backends(colour="blue")


def test_unknown_backend_lists_the_names(provider: OQCProvider) -> None:
    with pytest.raises(UnknownQpuError) as info:
        provider.get_backend("Lucky")
    assert "'Lucy Simulator'" in str(info.value) and "'Toshiko'" in str(info.value)


def test_default_provider_uses_the_emulator_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="oqc_provider"), OQCProvider() as provider:
        assert "built-in emulator" in repr(provider)
        assert provider.get_backend("Lucy Simulator").num_qubits == 8
    assert any("built-in emulator" in record.getMessage() for record in caplog.records)


def test_shots_above_the_maximum_are_refused(lucy_sim: OQCBackend, bell) -> None:
    with pytest.raises(ConfigurationError, match="maximum of 100000"):
        lucy_sim.run(transpile(bell, lucy_sim), shots=100_001)
    with pytest.raises(ValueError):
        lucy_sim.set_options(shots=100_001)


def test_meas_level_other_than_2_is_a_clear_error(lucy_sim: OQCBackend, bell) -> None:
    with pytest.raises(ConfigurationError, match="meas_level=2"):
        lucy_sim.run(transpile(bell, lucy_sim), meas_level=1)


def test_unknown_options_warn_and_are_dropped(lucy_sim: OQCBackend, bell) -> None:
    circuit = transpile(bell, lucy_sim)
    with pytest.warns(UserWarning, match="rep_delay") as record:
        job = lucy_sim.run(
            circuit,
            shots=50,
            rep_delay=1e-4,
            init_qubits=True,
            parameter_binds=None,
            meas_level=2,
            meas_return="single",
            seed_simulator=None,
        )
    assert len(record) == 1
    assert "['init_qubits', 'parameter_binds', 'rep_delay']" in str(record[0].message)
    assert sum(job.result(timeout=60).get_counts().values()) == 50


def test_per_call_options_never_leak_into_the_backend(lucy_sim: OQCBackend, bell) -> None:
    before = dict(lucy_sim.options.items())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lucy_sim.run(transpile(bell, lucy_sim), shots=17, memory=True, seed_simulator=4, tag="x").result(60)
    assert dict(lucy_sim.options.items()) == before


def test_seed_simulator_makes_runs_reproducible(lucy_sim: OQCBackend, bell) -> None:
    circuit = transpile(bell, lucy_sim)
    first = lucy_sim.run(circuit, shots=200, memory=True, seed_simulator=99).result(60).get_memory()
    second = lucy_sim.run(circuit, shots=200, memory=True, seed_simulator=99).result(60).get_memory()
    assert first == second


def test_backend_options_apply_until_changed(provider: OQCProvider, bell) -> None:
    backend = OQCBackend(provider, provider.session.resolve("Lucy Simulator"))  # private copy
    backend.set_options(shots=33)
    result = backend.run(transpile(bell, backend)).result(60)
    assert sum(result.get_counts().values()) == 33
