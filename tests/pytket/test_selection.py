"""Pre-selection, post-selection and driven reset through the pytket front end, over HTTP.

QAT 3.5's pipeline path (tests/fixtures/qat/selection.json, imitated by the emulator): pre-selection
drops the shots whose heralding measurement reads 1, post-selection drops none on two-level qubits,
driven reset is refused without DDROP calibration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qcaas.errors import ConfigurationError
from tests.pytket.conftest import bell_circuit, make_backend


@pytest.fixture(scope="module")
def lucy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCTketBackend]:
    """The noisy emulated Lucy: readout errors make some heralding measurements read 1."""
    backend, app = make_backend(tmp_path_factory.mktemp("pytket-selection"), device="Lucy")
    yield backend
    backend.close()
    app.state.emulator.close()


@pytest.mark.slow
def test_pre_selected_counts_sum_to_the_kept_shots(lucy):
    circuit = lucy.get_compiled_circuit(bell_circuit())
    (handle,) = lucy.process_circuits([circuit], n_shots=3000, pre_selection=True)
    result = lucy.get_result(handle)
    kept = sum(result.get_counts().values())
    assert kept == len(result.get_shots())
    # Two qubits with 2-5 % readout error each: between ~4 % and ~10 % of the shots fail.
    assert 0.85 * 3000 < kept < 0.98 * 3000, kept


@pytest.mark.slow
def test_without_pre_selection_every_shot_comes_back(lucy):
    circuit = lucy.get_compiled_circuit(bell_circuit())
    (handle,) = lucy.process_circuits([circuit], n_shots=500)
    assert sum(lucy.get_result(handle).get_counts().values()) == 500


def test_post_selection_keeps_every_shot_of_two_level_qubits(lucy_sim):
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    (handle,) = lucy_sim.process_circuits([circuit], n_shots=200, post_selection=True, seed=4)
    counts = lucy_sim.get_result(handle).get_counts()
    assert sum(counts.values()) == 200 and set(counts) <= {(0, 0), (1, 1)}


def test_driven_reset_is_refused_before_sending(lucy_sim):
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    with pytest.raises(ConfigurationError, match="DDROP"):
        lucy_sim.process_circuits([circuit], n_shots=10, driven_reset=True)


def test_a_bad_passive_reset_time_is_refused(lucy_sim):
    circuit = lucy_sim.get_compiled_circuit(bell_circuit())
    with pytest.raises(ConfigurationError, match="passive_reset_time"):
        lucy_sim.process_circuits([circuit], n_shots=10, passive_reset_time=-1e-3)


def test_no_kept_shot_is_an_empty_result_of_the_right_width():
    """QAT's raw results when selection keeps no shot (tests/fixtures/qat/selection.json): empty lists."""
    from pytket import Bit

    from oqc_provider.pytket.results import backend_result

    result = backend_result({"c": [[], []]}, [Bit(0), Bit(1)], shots=5)
    assert result.get_shots().shape == (0, 2) and sum(result.get_counts().values()) == 0
