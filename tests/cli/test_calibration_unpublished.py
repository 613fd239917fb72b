"""``oqc-provider calibration`` and ``qpus`` against a service whose calibration the provider cannot
read: it says the figures were not published and prints no figure and no date.

The service is the emulator behind :class:`tests.qiskit.test_calibration.ForeignCalibration`,
served by uvicorn on a loopback port (the CLI speaks HTTP to a URL, as to QCaaS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.testing import bound_port
from tests.qiskit.test_calibration import ForeignCalibration


@pytest.fixture(scope="module")
def foreign_url() -> Iterator[str]:
    import uvicorn

    app = create_app(EmulatorSettings(seed=4))
    server = uvicorn.Server(
        uvicorn.Config(ForeignCalibration(app), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.01)  # polling uvicorn's flag; the deadline bounds the wait
    try:
        yield f"http://127.0.0.1:{bound_port(server)}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_calibration_says_not_published(cli, foreign_url: str) -> None:
    table = cli("--url", foreign_url, "calibration", "Toshiko")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "did not publish calibration figures" in text and "Toshiko" in text
    assert "T1 (µs)" not in text and "calibrated" not in text
    record = cli.json("--url", foreign_url, "calibration", "Toshiko")
    assert record == {
        "published": False,
        "qpu_id": "qpu:jp:3:673b1ad43c",
        "date": None,
        "qubits": {},
        "edges": [],
    }


def test_qpus_says_not_published_and_labels_the_emulator_only_device(cli, foreign_url: str) -> None:
    table = cli("--url", foreign_url, "qpus")
    assert table.exit_code == 0, table.output
    lucy = next(line for line in table.stdout.splitlines() if "1a2b3c4d5e" in line)
    assert "emulator only" in lucy and "not published" in lucy
    records = {r["name"]: r for r in cli.json("--url", foreign_url, "qpus")}
    assert records["Toshiko"]["calibration_published"] is False and records["Toshiko"]["calibrated"] is None
