"""Programs a device cannot run end FAILED (code 400) with a message naming the problem and the fix.

``config()`` keeps the program's qubits (``Tket(Empty)``, as the front ends send); cases with
``optimizations=None`` take the service default, under which QCaaS places and routes the program.
What QCaaS's compiler (QAT 3.5) refuses is refused; what it runs, runs (observed with QAT).
"""

from __future__ import annotations

import pytest

from oqc_provider.qcaas.compiler_config import ErrorMitigationConfig, MetricsType
from tests.emulator.emulator_helpers import BELL, LUCY, LUCY_SIM, config

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'

CASES = {
    "unparsable": (LUCY_SIM, HEADER + "qreg q[2];\nfoo q[0];\n", config(), ["parse", "line 4", "foo"]),
    "not qasm": (LUCY_SIM, "print('hello')", config(), ["OPENQASM"]),
    "gate without a definition": (
        LUCY_SIM,
        HEADER + "opaque magic q;\nqreg q[2];\ncreg c[2];\nmagic q[0];\nmeasure q -> c;\n",
        config(),
        ["'magic'", "Lucy Simulator", "no body"],
    ),
    "gate without a body under the default config": (
        LUCY_SIM,
        HEADER + "opaque magic q;\nqreg q[2];\ncreg c[2];\nmagic q[0];\nmeasure q -> c;\n",
        config(optimizations=None),
        ["'magic'", "no body"],
    ),
    "identity": (
        LUCY_SIM,
        HEADER + "qreg q[1];\ncreg c[1];\nid q[0];\nmeasure q[0] -> c[0];\n",
        config(),
        ["'id'", "no body", "Remove it"],
    ),
    "uncoupled cx": (
        LUCY_SIM,
        HEADER + "qreg q[3];\ncx q[0],q[2];\n",
        config(),
        ["0", "2", "not coupled", "cx"],
    ),
    "too many qubits": (LUCY_SIM, HEADER + "qreg q[9];\nsx q[8];\n", config(), ["9 qubits", "8"]),
    "too many qubits to place": (
        LUCY_SIM,
        HEADER + "qreg q[9];\nsx q[8];\n",
        config(optimizations=None),
        ["9 qubits", "8", "connected"],
    ),
    "mid-circuit measurement under placement": (
        LUCY_SIM,
        HEADER + "qreg q[1];\ncreg c[1];\nmeasure q[0] -> c[0];\nx q[0];\n",
        config(optimizations=None),
        ["No mid-circuit measurements allowed", "Tket(TketOptimizations.Empty)"],
    ),
    "conditional": (
        LUCY_SIM,
        HEADER + "qreg q[2];\ncreg c[1];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\n",
        config(optimizations=None),
        ["If's are currently unable to be used", "Remove the condition"],
    ),
    "delay without its declaration": (
        LUCY_SIM,
        HEADER + "qreg q[1];\ndelay(1e-06) q[0];\n",
        config(),
        ["delay", "opaque delay(param0) q0;", "seconds"],
    ),
    "delay of a fraction of a second": (
        LUCY_SIM,
        HEADER
        + "opaque delay(param0) q0;\nqreg q[1];\ncreg c[1];\ndelay(4e-07) q[0];\nmeasure q[0] -> c[0];\n",
        config(),
        ["whole number of seconds", "4e-07"],
    ),
    "raw and binary at once": (
        LUCY_SIM,
        BELL,
        config(raw=True).replace('"$value": 1}, "transforms"', '"$value": 3}, "transforms"'),
        ["Raw and Binary"],
    ),
    "too many shots": (LUCY_SIM, BELL, config(shots=100_001), ["100001", "Maximum Shots", "100000"]),
    "zero shots": (
        LUCY_SIM,
        BELL,
        config(shots=5).replace('"repeats": 5', '"repeats": 0'),
        ["shot", "at least 1"],
    ),
    "uncoupled ecr": (LUCY_SIM, HEADER + "qreg q[3];\necr q[0],q[2];\n", config(), ["0", "2", "not coupled"]),
    "reset unsupported": (LUCY, HEADER + "qreg q[1];\nreset q[0];\n", config(), ["'reset'", "not supported"]),
    "mid-circuit measurement": (
        LUCY,
        HEADER + "qreg q[1];\ncreg c[1];\nmeasure q[0] -> c[0];\nx q[0];\n",
        config(),
        ["mid-circuit", "Qubit 0", "end of the circuit"],
    ),
    "unsupported config": (
        LUCY_SIM,
        BELL,
        '{"$type": "<class \'compiler_config.config.FancyConfig\'>", "$data": {}}',
        ["Unsupported", "FancyConfig"],
    ),
    "mitigation with two registers": (
        LUCY_SIM,
        HEADER + "qreg q[2];\ncreg a[1];\ncreg b[1];\nmeasure q[0] -> a[0];\nmeasure q[1] -> b[0];\n",
        config(mitigation=ErrorMitigationConfig.LinearMitigation),
        ["Cannot have multiple registers in conjunction with readout error mitigation."],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.slow
async def test_bad_program_fails_with_a_message_naming_the_problem(api, case):
    qpu_id, program, cfg, fragments = CASES[case]
    info = await api.run(program, qpu_id=qpu_id, cfg=cfg)
    assert info["status"] == "FAILED"
    assert info["results"] is None
    error = info["task_error"]
    assert error["error_code"] == 400
    for fragment in fragments:
        assert fragment in error["error_message"], (fragment, error["error_message"])
    prefix = api.prefix(qpu_id)
    single = (await api.client.get(f"{prefix}/tasks/{info['id']}/error")).json()
    assert single == {"task_error": error}


async def test_reset_and_mid_circuit_measurement_run_where_supported(api):
    program = (
        HEADER
        + "qreg q[1];\ncreg c[2];\nx q[0];\nmeasure q[0] -> c[0];\nreset q[0];\nmeasure q[0] -> c[1];\n"
    )
    info = await api.run(program, qpu_id=LUCY_SIM, cfg=config(shots=50))
    assert info["status"] == "COMPLETED", info["task_error"]
    assert info["results"] == {"c": {"10": 50}}


async def test_program_defining_its_own_ecr_runs_its_body_as_qat_does(api):
    # QAT runs a program's own ``gate ecr`` body (here not an ECR at all): every outcome appears.
    program = BELL.replace(
        'include "qelib1.inc";\n', 'include "qelib1.inc";\ngate ecr a,b { cx a,b; x a; }\n'
    )
    info = await api.run(program, cfg=config(shots=400))
    assert info["status"] == "COMPLETED", info["task_error"]
    assert set(info["results"]["c"]) == {"00", "01", "10", "11"}


async def test_standard_gates_are_placed_and_routed_by_default_as_qcaas_does(api):
    # h and a cx against the ECR direction (Lucy couples 0 -> 1 only), plus a 3-qubit GHZ.
    program = HEADER + "qreg q[3];\ncreg c[3];\nh q[1];\ncx q[1],q[0];\ncx q[1],q[2];\nmeasure q -> c;\n"
    info = await api.run(program, cfg=config(shots=400, metrics=MetricsType.Default, optimizations=None))
    assert info["status"] == "COMPLETED", info["task_error"]
    assert set(info["results"]["c"]) == {"000", "111"}
    compiled = info["execution_metadata"]["optimized_circuit"]  # tket's output, as QAT reports it
    body = [
        line
        for line in compiled.splitlines()
        if line and not line.startswith(("OPENQASM", "include", "qreg", "creg"))
    ]
    assert "qreg node[" in compiled
    assert {line.split()[0].split("(")[0] for line in body} <= {"u3", "cx", "h", "measure"}, body
