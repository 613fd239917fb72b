"""No invented calibration: a service whose calibration document the provider cannot read gives a
Target, a BackendInfo and a plot with no error figures, never representative ones or a made-up date.

The "service" is the emulator behind a thin ASGI layer that answers the calibration routes with a
document in a shape the provider does not know (QCaaS does not document its own), as the live
service may. Everything else is the emulator, over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qiskit import QuantumCircuit, transpile

from oqc_provider.devices import Calibration, reference_calibration
from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qiskit import OQCProvider

#: A calibration document the provider does not read (field names of no documented format).
FOREIGN = {"Qubit 0": {"T1 (us)": 81.2, "Readout fidelity": 0.97}, "timestamp": "yesterday"}


class ForeignCalibration:
    """An ASGI app: the emulator, except that calibration routes answer with :data:`FOREIGN`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (
            path.endswith("/monitoring/calibrations") or path.endswith("/benchmarks")
        ):
            body = json.dumps(FOREIGN).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.ASGITransport, Path]]:
    app = create_app(EmulatorSettings(seed=9))
    yield httpx.ASGITransport(app=ForeignCalibration(app)), tmp_path_factory.mktemp("foreign-jobs")
    app.state.emulator.close()


@pytest.mark.slow
def test_qiskit_target_carries_no_invented_figures(foreign: tuple[httpx.ASGITransport, Path]) -> None:
    transport, store = foreign
    provider = OQCProvider(url="http://service.test", transport=transport, job_store=store)
    try:
        backend = provider.get_backend("Toshiko")
        assert not backend.calibration.published and backend.calibration.date is None
        target = backend.target
        for name in ("sx", "x", "measure"):
            assert all(props.error is None for props in target[name].values()), name
        assert all(props.error is None for props in target["ecr"].values())
        assert all(p.t1 is None and p.t2 is None for p in target.qubit_properties)
        # Durations are the device catalogue's (not calibration figures), so scheduling still works.
        assert target["ecr"][(0, 1)].duration > 0
        # The transpiler copes with unknown errors, and the circuit runs.
        lucy = provider.get_backend("Lucy")
        assert lucy.target["ecr"][(0, 1)].error is None
        bell = QuantumCircuit(2, 2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure([0, 1], [0, 1])
        counts = lucy.run(transpile(bell, lucy, seed_transpiler=1), shots=200).result().get_counts()
        assert sum(counts.values()) == 200
    finally:
        provider.close()


def test_pytket_backend_info_has_no_averages(foreign: tuple[httpx.ASGITransport, Path]) -> None:
    transport, store = foreign
    backend = OQCTketBackend("Toshiko", url="http://service.test", transport=transport, job_store=store)
    try:
        info = backend.backend_info
        assert info.averaged_node_gate_errors is None and info.averaged_edge_gate_errors is None
        assert info.averaged_readout_errors is None and info.all_node_gate_errors is None
        assert info.misc["calibration_date"] is None and info.misc["calibration_published"] is False
        assert "average_ecr_error" not in info.misc and "t1" not in info.misc
        assert backend.default_compilation_pass(2) is not None  # noise-aware placement without figures
    finally:
        backend.close()


def test_emulator_calibration_is_published_with_a_real_date(provider: OQCProvider) -> None:
    calibration = provider.get_backend("Lucy").calibration
    assert calibration.published and calibration.date is not None and calibration.date != "2026-11-01"
    # The date is when the emulator built the figures: ISO 8601, with a time of day.
    assert "T" in calibration.date


@pytest.mark.slow
def test_unpublished_calibration_draws_grey(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from oqc_provider.devices import TOSHIKO
    from oqc_provider.plots import plot_device_map

    figure = plot_device_map(Calibration.unpublished(TOSHIKO.qpu_id), TOSHIKO, path=tmp_path / "map.png")
    assert "calibration not published" in figure.axes[0].get_title()
    assert "2026-11-01" not in figure.axes[0].get_title()
    published = plot_device_map(reference_calibration(TOSHIKO, date="2026-12-01T09:00:00+00:00"), TOSHIKO)
    assert "2026-12-01T09:00:00+00:00" in published.axes[0].get_title()


def test_emulator_only_devices_say_so(provider: OQCProvider) -> None:
    lucy, toshiko = provider.get_backend("Lucy"), provider.get_backend("Toshiko")
    assert "emulator only" in repr(lucy) and "emulator only" in lucy.description
    assert "emulator only" in lucy.target.description
    assert "emulator only" not in repr(toshiko) and "emulator only" not in toshiko.target.description
    tket = OQCTketBackend("Lucy", session=provider.session)
    assert "emulator only" in repr(tket) and tket.backend_info.misc["emulator_only"] is True
