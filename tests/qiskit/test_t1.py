"""qiskit-experiments' T1 fits the T1 the Target advertises: the emulator relaxes during delays
with the same calibration figures the Target is built from."""

from __future__ import annotations

import numpy as np
import pytest

from oqc_provider.qiskit import OQCProvider


@pytest.mark.parametrize("backend_run", [True, False], ids=["backend_run", "sampler"])
def test_t1_experiment_fits_the_advertised_t1(provider: OQCProvider, backend_run: bool) -> None:
    T1 = pytest.importorskip("qiskit_experiments.library").T1
    backend = provider.get_backend("Toshiko")
    advertised = backend.target.qubit_properties[0].t1
    experiment = T1(physical_qubits=(0,), delays=np.linspace(0, 4 * advertised, 9), backend=backend)
    experiment.set_run_options(shots=600, seed_simulator=5)
    data = experiment.run(backend_run=backend_run).block_for_results()
    fit = data.analysis_results("T1", dataframe=True).iloc[0]
    assert abs(fit["value"].nominal_value - advertised) / advertised < 0.15, (fit["value"], advertised)
