"""``oqc-provider run --plot`` draws every register of every circuit, and says what it drew."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import BELL_QASM2

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TWO_REGISTERS = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[1];
creg flag[1];
x q[1];
measure q[0] -> c[0];
measure q[1] -> flag[0];
"""
UNDEFINED_GATE = "OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nfoo q[0];\n"


@pytest.mark.slow
def test_every_register_of_every_file_is_drawn(cli, qasm, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    files = [str(qasm("bell.qasm", BELL_QASM2)), str(qasm("two.qasm", TWO_REGISTERS))]
    picture = tmp_path / "counts.png"
    result = cli("run", *files, "--shots", "50", "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert f"Histograms of 3 register(s) of 2 circuit(s) written to {picture}." in result.stdout
    assert picture.read_bytes().startswith(PNG_MAGIC)
    report = cli.json("run", *files, "--shots", "50", "--plot", str(picture))
    assert report["plot"] == f"Histograms of 3 register(s) of 2 circuit(s) written to {picture}."


@pytest.mark.slow
def test_a_circuit_without_counts_is_named_as_not_drawn(cli, qasm, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    files = [str(qasm("bell.qasm", BELL_QASM2)), str(qasm("bad.qasm", UNDEFINED_GATE))]
    picture = tmp_path / "counts.png"
    result = cli("run", *files, "--shots", "50", "--plot", str(picture))
    assert result.exit_code != 0  # a circuit failed
    assert "Histograms of 1 register(s) of 1 circuit(s) written to" in result.stdout
    assert "no counts to draw for bad.qasm" in result.stdout
    only_bad = cli("run", files[1], "--plot", str(tmp_path / "none.png"))
    assert (
        "No histogram written: no circuit returned counts; no counts to draw for bad.qasm." in only_bad.stdout
    )
    assert not (tmp_path / "none.png").exists()


def test_the_grid_has_one_panel_per_register() -> None:
    pytest.importorskip("matplotlib")
    from oqc_provider.plots import plot_counts_grid

    panels = [(f"circuit {i}: register c", {"0": i + 1, "1": 3}) for i in range(5)]
    figure = plot_counts_grid(panels, columns=2)
    assert [axes.get_title() for axes in figure.axes] == [title for title, _ in panels]
    with pytest.raises(ValueError, match="at least one"):
        plot_counts_grid([])
