"""Draw each QPU's device map (qubits by readout error, couplings by ECR error) and a counts histogram.

    pip install "oqc-provider[plots]"
    python examples/device_map.py [FOLDER]

Uses the calibration the service publishes (the built-in emulator's, with nothing configured).
"""

from __future__ import annotations

import sys
from pathlib import Path

from oqc_provider.plots import plot_counts, plot_device_map
from oqc_provider.session import ProviderSession


def main(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    session = ProviderSession()
    try:
        for qpu in session.qpus():
            path = folder / f"{qpu.name.lower().replace(' ', '-')}.png"
            plot_device_map(session.calibration(qpu), qpu.device, path=path)
            device = qpu.device
            print(f"{qpu.name}: {device.qubit_count} qubits, {len(device.couplings)} couplings -> {path}")
            written.append(path)
    finally:
        session.close()
    histogram = folder / "counts.png"
    plot_counts({"00": 489, "01": 12, "10": 9, "11": 490}, path=histogram, title="Bell pair")
    print(f"counts histogram -> {histogram}")
    return [*written, histogram]


if __name__ == "__main__":
    paths = main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("device-maps"))
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in paths)
