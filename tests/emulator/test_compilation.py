"""The emulator compiles as QCaaS's compiler (QAT 3.5) does: where programs run, what it refuses,
how results are shaped. Expected values were observed with ``qat-compiler==3.5.0`` on Lucy's ring
(``shared/spec/qcaas-compiler.md``); the recorded fixtures replay the full corpus.
"""

from __future__ import annotations

import pytest

from oqc_provider.qcaas.compiler_config import (
    CompilerConfig,
    MetricsType,
    QuantumResultsFormat,
    Tket,
    TketOptimizations,
)
from tests.emulator.emulator_helpers import LUCY_SIM, config

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
DEFAULT = {"optimizations": None}  # the service default: tket One (placement, routing, CX direction)
METRICS = MetricsType.Experimental


async def _physical(api, program: str, **options) -> tuple[dict, list[int]]:  # type: ignore[no-untyped-def]
    info = await api.run(program, cfg=config(shots=200, metrics=METRICS, **options))
    assert info["status"] == "COMPLETED", info["task_error"]
    return info["results"], info["execution_metadata"]["physical_qubit_indices"]


@pytest.mark.slow
async def test_uncoupled_cx_is_routed_by_default_and_refused_under_empty(api):
    program = HEADER + "qreg q[3];\ncreg c[3];\nx q[0];\ncx q[0],q[2];\nmeasure q -> c;\n"
    results, physical = await _physical(api, program, **DEFAULT)
    assert results == {"c": {"101": 200}} and physical == [0, 1, 2]  # QAT: nodes 0, 1, 2
    refused = await api.run(program, cfg=config())
    assert refused["status"] == "FAILED"
    assert "not coupled" in refused["task_error"]["error_message"]


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        # The ISA circuit a Qiskit user transpiled onto qubits 4, 5.
        ("x q[5];\ncx q[5],q[4];\nmeasure q[4] -> c[0];\nmeasure q[5] -> c[1];\n", [4, 5]),
        # pytket's hand-placed native circuit on 6 -> 5.
        ("x q[6];\necr q[6],q[5];\nmeasure q[6] -> c[0];\nmeasure q[5] -> c[1];\n", [5, 6]),
    ],
)
async def test_placement_moves_a_placed_program_by_default_and_empty_keeps_it(api, body, kept):
    program = HEADER + "qreg q[8];\ncreg c[2];\n" + body
    _, placed = await _physical(api, program, **DEFAULT)
    assert placed == [1, 2]  # QAT runs both on nodes 1, 2
    _, physical = await _physical(api, program)
    assert physical == kept


@pytest.mark.slow
async def test_toffoli_and_swap_run_by_default(api):
    toffoli = HEADER + "qreg q[3];\ncreg c[3];\nx q[0];\nx q[1];\nccx q[0],q[1],q[2];\nmeasure q -> c;\n"
    assert (await _physical(api, toffoli, **DEFAULT))[0] == {"c": {"111": 200}}
    swap = HEADER + "qreg q[4];\ncreg c[4];\nx q[0];\nswap q[0],q[3];\nmeasure q -> c;\n"
    assert (await _physical(api, swap, **DEFAULT))[0] == {"c": {"0001": 200}}


async def test_ecr_against_the_coupling_runs_under_empty(api):
    # QAT's simulator runs it (Lucy couples 0 -> 1): ecr(1, 0) on |01> gives c[1] = 0 or 1 evenly.
    program = HEADER + "qreg q[2];\ncreg c[2];\nx q[1];\necr q[1],q[0];\nmeasure q -> c;\n"
    info = await api.run(program, cfg=config(shots=400))
    assert info["status"] == "COMPLETED", info["task_error"]
    assert set(info["results"]["c"]) == {"00", "10"}


async def test_a_program_with_delays_keeps_its_qubits_even_by_default(api):
    # QAT's tket reader cannot read delays, so QAT skips tket and runs the program where it is.
    program = (
        HEADER + "opaque delay(param0) q0;\nqreg q[8];\ncreg c[1];\nx q[6];\ndelay(1) q[6];\n"
        "measure q[6] -> c[0];\n"
    )
    results, physical = await _physical(api, program, **DEFAULT)
    assert results == {"c": {"1": 200}} and physical == [6]


async def test_openqasm3_keeps_its_qubits_by_default(api):
    program = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nx q[0];\ncx q[0],q[2];\n'
        "c = measure q;\n"
    )
    info = await api.run(program, cfg=config(**DEFAULT))
    assert info["status"] == "FAILED"  # QAT: no tket for OpenQASM 3, so the uncoupled pair is refused
    assert "not coupled" in info["task_error"]["error_message"]


def _format_config(fmt: QuantumResultsFormat, shots: int) -> str:
    keep = Tket(tket_optimizations=TketOptimizations.Empty)
    return CompilerConfig(repeats=shots, results_format=fmt, optimizations=keep).to_json()


async def test_results_formats_are_shaped_as_qat_shapes_them(api):
    # Register b is declared first but comes back second (QAT sorts registers); c[1] is never measured.
    program = (
        HEADER + "qreg q[3];\ncreg c[2];\ncreg b[1];\nx q[0];\nmeasure q[0] -> b[0];\nmeasure q[1] -> c[0];\n"
    )
    counts = await api.run(program, cfg=_format_config(QuantumResultsFormat.binary_count(), 5))
    assert list(counts["results"].items()) == [("b", {"1": 5}), ("c", {"00": 5})]
    binary = await api.run(program, cfg=_format_config(QuantumResultsFormat.binary(), 5))
    assert binary["results"] == {"b": [1], "c": [0, 0]}
    raw = await api.run(program, cfg=_format_config(QuantumResultsFormat.raw(), 3))
    assert raw["results"] == {"b": [[-1.0, -1.0, -1.0]], "c": [[1.0, 1.0, 1.0], 0]}
    squashed = await api.run(
        program, cfg=_format_config(QuantumResultsFormat.squash_binary_result_arrays(), 5)
    )
    assert squashed["results"] == {"b": "1", "c": "00"}


async def test_binary_is_the_majority_of_the_shots(api):
    # sx leaves each outcome at probability 1/2; x then sx... here: x gives 1 always, nothing gives 0.
    program = HEADER + "qreg q[2];\ncreg c[2];\nx q[1];\nmeasure q -> c;\n"
    info = await api.run(program, cfg=_format_config(QuantumResultsFormat.binary(), 101))
    assert info["results"] == {"c": [0, 1]}


async def test_a_task_that_cannot_be_read_fails_alone(api):
    deep = "[" * 20_000 + "]" * 20_000  # json.loads raises RecursionError long before this
    nested = config(shots=10).replace('"active_calibrations": []', f'"active_calibrations": {deep}')
    good = {
        "program": HEADER + "qreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n",
        "qpu_id": LUCY_SIM,
    }
    response = await api.submit_raw([{**good, "config": nested}, {**good, "config": config(shots=10)}])
    assert response.status_code == 200, response.text
    bad_id, good_id = (item["task_id"] for item in response.json())
    bad, fine = await api.wait(bad_id), await api.wait(good_id)
    assert bad["status"] == "FAILED" and "nested too deeply" in bad["task_error"]["error_message"]
    assert fine["status"] == "COMPLETED" and fine["results"] == {"c": {"1": 10}}
