"""Every ``oqc-provider`` command on the built-in emulator: tables, ``--json``, ``--plot`` and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.conftest import BELL_QASM2, BELL_QASM3, assert_one_line_error

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COMMANDS = [
    [],
    ["qpus"],
    ["calibration"],
    ["run"],
    ["demo"],
    ["jobs"],
    ["jobs", "list"],
    ["jobs", "show"],
    ["jobs", "result"],
    ["jobs", "cancel"],
    ["jobs", "export"],
    ["emulator"],
    ["emulator", "serve"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "oqc-provider")
def test_help_everywhere(cli, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_qpus_table_and_json(cli) -> None:
    table = cli("qpus")
    assert table.exit_code == 0, table.output
    assert "Lucy Simulator" in table.stdout and "Toshiko" in table.stdout
    assert "built-in emulator" in table.stdout
    records = {r["name"]: r for r in cli.json("qpus")}
    assert records["Lucy Simulator"] == {
        "id": "qpu:uk:2:d865b5a184",
        "name": "Lucy Simulator",
        "qubits": 8,
        "status": "ACTIVE",
        "available": True,
        "kind": "simulator",
        "emulator_only": False,
        "max_shots": 100_000,
        "calibration_published": True,
        "calibrated": records["Lucy Simulator"]["calibrated"],  # when the emulator built the figures
        "price_per_shot": "0",  # the emulator's QPUs are free unless priced (serve --price)
        "price_per_task": "0",
        "tasks_in_queue": 0,
        "open": True,
        "next_window": None,
        "window_text": records["Lucy Simulator"]["window_text"],  # open until a day from now
    }
    assert records["Lucy Simulator"]["calibrated"].startswith(str(datetime.now(UTC).year))
    assert records["Toshiko"]["qubits"] == 32 and records["Toshiko"]["kind"] == "hardware"
    # Lucy's id is the emulator's own: it is labelled so in the table and the JSON.
    assert records["Lucy"]["emulator_only"] is True and not records["Toshiko"]["emulator_only"]
    assert "emulator only" in table.stdout


def test_calibration_per_qubit_and_per_edge(cli) -> None:
    table = cli("calibration", "Lucy")
    assert table.exit_code == 0, table.output
    assert "readout error" in table.stdout and "0 -> 1" in table.stdout
    assert "2026-11-01" not in table.stdout  # the date is when the emulator built the figures
    figures = cli.json("calibration", "qpu:uk:2:1a2b3c4d5e")
    assert figures["published"] is True and figures["date"].startswith(str(datetime.now(UTC).year))
    assert sorted(int(q) for q in figures["qubits"]) == list(range(8))
    assert all(0 < q["readout_error"] < 0.1 for q in figures["qubits"].values())
    assert {(e["control"], e["target"]) for e in figures["edges"]} >= {(0, 1), (7, 6)}


@pytest.mark.slow
def test_calibration_plot_writes_a_png(cli, tmp_path: Path) -> None:
    picture = tmp_path / "toshiko.png"
    result = cli("calibration", "Toshiko", "--plot", str(picture))
    assert result.exit_code == 0, result.output
    assert picture.read_bytes().startswith(PNG_MAGIC)


def test_calibration_of_an_unknown_qpu(cli) -> None:
    assert_one_line_error(cli("calibration", "Lucky"), "No QPU called 'Lucky'", "Lucy Simulator")


@pytest.mark.parametrize("text", [BELL_QASM2, BELL_QASM3], ids=["qasm2", "qasm3"])
@pytest.mark.slow
def test_run_prints_counts(cli, qasm, text: str) -> None:
    path = qasm("bell.qasm", text)
    table = cli("run", str(path), "--shots", "200", "--seed", "5")
    assert table.exit_code == 0, table.output
    assert "register c" in table.stdout and "Saved as job" in table.stdout
    report = cli.json("run", str(path), "--shots", "300", "--qpu", "qpu:uk:2:d865b5a184")
    counts = report["circuits"][0]["counts"]["c"]
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 300
    assert report["backend"] == "Lucy Simulator" and report["job_id"]


@pytest.mark.slow
def test_run_several_files_as_one_batch_and_a_histogram(cli, qasm, tmp_path: Path) -> None:
    files = [str(qasm("a.qasm", BELL_QASM2)), str(qasm("b.qasm", BELL_QASM3))]
    picture = tmp_path / "counts.png"
    report = cli.json("run", *files, "--shots", "100", "--plot", str(picture))
    assert [c["circuit"] for c in report["circuits"]] == files
    assert all(c["state"] == "COMPLETED" for c in report["circuits"])
    assert picture.read_bytes().startswith(PNG_MAGIC)
    listed = cli.json("jobs", "list")
    assert listed[0]["job_id"] == report["job_id"] and listed[0]["kind"] == "cli"
    assert listed[0]["circuits"] == 2 and listed[0]["shots"] == 100


@pytest.mark.slow
def test_run_errors_are_one_line(cli, qasm, tmp_path: Path) -> None:
    bell = str(qasm("bell.qasm", BELL_QASM2))
    assert_one_line_error(cli("run", str(tmp_path / "missing.qasm")), "no such file", "missing.qasm")
    assert_one_line_error(cli("run", str(qasm("notes.txt", "hello"))), "not an OpenQASM program")
    undefined = qasm("bad.qasm", "OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nfoo q[0];\n")
    assert_one_line_error(cli("run", str(undefined)), "1 of 1 circuit(s) failed", "'foo'")
    assert_one_line_error(cli("run", bell, "--qpu", "Lucky"), "No QPU called 'Lucky'")
    assert_one_line_error(cli("run", bell, "--qpu", "Lucy", "--shots", "20000"), "maximum of 10000")
    assert_one_line_error(cli("run", bell, "--shots", "0"), "shots must be at least 1")


def _console_script(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OQC_")}
    env["OQC_PROVIDER_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "oqc_provider.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_usage_errors_from_the_console_script_are_one_line(tmp_path: Path) -> None:
    missing = _console_script("run", home=tmp_path)
    assert missing.returncode == 2
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith("Error: Missing argument") and "run --help" in line, line
    unknown = _console_script("jobs", "show", "nope", home=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "Error: No job 'nope' (nor any whose id starts with it) in the local job store "
        f"({tmp_path / 'jobs'}); 'oqc-provider jobs list' shows the ids."
    ]


def test_verbose_turns_the_loggers_on(cli) -> None:
    result = cli("-v", "qpus", "--json")
    assert result.exit_code == 0, result.output
    assert "oqc_provider" in result.stderr and "built-in emulator" in result.stderr


@pytest.mark.slow
def test_demo_runs_qiskit_and_pytket_and_says_where_the_jobs_are(cli) -> None:
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "Qiskit" in result.stdout and "pytket" in result.stdout
    kinds = {entry["kind"]: entry for entry in cli.json("jobs", "list")}
    assert set(kinds) == {"qiskit", "pytket"}
    for entry in kinds.values():
        assert entry["job_id"] in result.stdout and entry["state"] == "COMPLETED"
