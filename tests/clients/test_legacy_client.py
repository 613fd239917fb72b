"""OQC's legacy ``oqc-qcaas-client`` (``OQCClient``), unchanged, against ``oqc-provider emulator serve``.

The client runs in its own venv (see ``client_venv``) from ``client_programs/legacy_client.py``; the
emulator runs as the CLI command, with a required token, so every request the client makes crosses a
real socket with the client's own ``Authentication-Token`` header and per-QPU URLs.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.clients.client_venv import run_client_program, run_in_clients_venv
from tests.clients.programs import (
    BELL,
    GHZ4,
    LUCY_SIM,
    X0,
    assert_ghz_counts,
    assert_ran_on_couplings,
    uncoupled,
)

pytestmark = [pytest.mark.external, pytest.mark.slow]

SHOTS = 400


def legacy(python: Path, scenario: str, payload: object = None) -> Any:
    return run_client_program(python, "legacy_client", scenario, payload)


def test_client_initialises_and_reads_the_registry(
    oqc_clients_python, client_env, served_cli_emulator, requests_made
):
    answer = legacy(oqc_clients_python, "connect")
    made = requests_made()
    assert made["GET /admin/version"] == 1 and made["GET /admin/qpu"] >= 1
    assert made["GET /admin/qpu/{qpu_id}"] == 1 and made["GET /{qpu_hex}/monitoring/statuses"] == 1
    assert not made["GET <unmatched>"] and not made["POST <unmatched>"], made
    assert answer["initialized"] is True
    assert answer["server_version"]
    lucy = next(qpu for qpu in answer["qpus"] if qpu["id"] == LUCY_SIM)
    assert lucy["url"] == f"{served_cli_emulator}/d865b5a184"  # task routes go to the per-QPU URL
    features = json.loads(answer["features"])  # the legacy client hands back the raw JSON string
    assert features["qubit_count"] == 8
    assert answer["status"]["status"] == "ACTIVE"
    assert answer["calibration_keys"]
    assert answer["next_window"]  # "%Y-%m-%dT%H:%M:%SZ", or the client would have returned None
    assert [wait["qpu_id"] for wait in answer["estimates"]["qpu_wait_times"]] == [LUCY_SIM]


def test_execute_tasks_runs_a_bell_program(oqc_clients_python, client_env):
    [answer] = legacy(oqc_clients_python, "execute", {"programs": [BELL], "shots": SHOTS})
    assert answer["error"] is None
    counts = answer["result"]["c"]
    assert set(counts) == {"00", "11"} and sum(counts.values()) == SHOTS


def test_execute_tasks_routes_a_ghz_on_uncoupled_qubits_under_the_default_config(
    oqc_clients_python, client_env
):
    """``optimizations`` unset (null on the wire): QCaaS's default places and routes the program."""
    assert uncoupled(0, 2) and uncoupled(0, 3)
    spec = {
        "programs": [GHZ4],
        "shots": SHOTS,
        "metrics": ["OptimizedCircuit", "OptimizedInstructionCount", "PhysicalQubitIndices"],
    }
    [answer] = legacy(oqc_clients_python, "execute", spec)
    assert answer["error"] is None, answer["error"]
    assert_ghz_counts(answer["result"]["c"], 4, SHOTS)
    assert len(answer["metrics"]["physical_qubit_indices"]) >= 4
    assert_ran_on_couplings(answer["metrics"], at_least=3)


@pytest.mark.parametrize("tket", ["One", "Two"])
def test_schedule_tasks_routes_under_tket_mapping_settings(
    oqc_clients_python, client_env, requests_made, tket
):
    """Two programs: the client allocates ids (``POST {qpu}/tasks``), then submits them in one request."""
    spec = {"programs": [GHZ4, BELL], "shots": SHOTS, "tket": tket}
    ghz, bell = legacy(oqc_clients_python, "schedule", spec)
    made = requests_made()
    assert made["POST /{qpu_hex}/tasks"] == 1 and made["POST /{qpu_hex}/tasks/submit"] == 1, made
    for answer in (ghz, bell):
        assert answer["status"] == answer["all_info_status"] == "COMPLETED", answer["error"]
        assert answer["error"] is None
        assert answer["metadata"]["qpu_id"] == LUCY_SIM and answer["timings"]
    assert_ghz_counts(ghz["result"]["c"], 4, SHOTS)
    assert set(bell["result"]["c"]) == {"00", "11"}


def test_tket_empty_refuses_an_uncoupled_pair_with_a_message(oqc_clients_python, client_env):
    """``Tket(Empty)``: program qubits are physical qubits, so ``cx q[0],q[2]`` cannot run on the ring."""
    spec = {"programs": [GHZ4], "shots": SHOTS, "tket": "Empty"}
    [answer] = legacy(oqc_clients_python, "schedule", spec)
    assert answer["status"] == "FAILED" and answer["result"] is None
    message = answer["error"]["error_message"]
    assert "coupled" in message.lower(), message


def command_line(python: Path, folder: Path, program: str, *options: str) -> list[Any]:
    """``python -m qcaas_client.commandline ... run_qasm -f FILE``: the client's own command line.

    It prints one Python literal per task (the results, or the error message) after "Executing tasks...".
    """
    (folder / "program.qasm").write_text(program)
    url, token = os.environ["OQC_URL"], os.environ["OQC_AUTH_TOKEN"]
    connection = ["-u", url, "-t", token, "-q", LUCY_SIM]
    run_qasm = ["run_qasm", "-p", str(folder), "-f", "program.qasm", *options]
    stdout = run_in_clients_venv(python, ["-m", "qcaas_client.commandline", *connection, *run_qasm])
    lines = stdout.split("Executing tasks...\n", 1)[1].splitlines()
    return [ast.literal_eval(line) if line.startswith("{") else line for line in lines]


def test_command_line_routes_a_ghz_file(oqc_clients_python, client_env, tmp_path):
    [result] = command_line(oqc_clients_python, tmp_path, GHZ4, "-s", str(SHOTS))
    assert isinstance(result, dict), result  # a string is the task's error message
    assert_ghz_counts(result["c"], 4, SHOTS)


def test_command_line_raw_results_are_readout_values_per_bit_per_shot(
    oqc_clients_python, client_env, tmp_path
):
    """``-o Raw``: one list per bit of per-shot values, +1.0 for 0 and -1.0 for 1 (QAT's shape)."""
    [result] = command_line(oqc_clients_python, tmp_path, BELL, "-s", str(SHOTS), "-o", "Raw")
    assert isinstance(result, dict), result
    first, second = result["c"]
    assert len(first) == len(second) == SHOTS
    assert set(first) == {1.0, -1.0}
    assert first == second  # a Bell pair: both bits agree in every shot


def test_command_line_binary_results_are_one_bit_per_register_bit(oqc_clients_python, client_env, tmp_path):
    """``-o Binary``: one list per register, each bit the majority over the shots (QAT's shape)."""
    [result] = command_line(oqc_clients_python, tmp_path, X0, "-s", str(SHOTS), "-o", "Binary")
    assert result == {"c": [1, 0]}
