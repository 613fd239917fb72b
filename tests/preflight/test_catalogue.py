"""The catalogue of what the live service was seen to do: its data, its program classes, and the
emulator replaying every entry over HTTP on the QPUs it was seen on (and only there)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from oqc_provider.devices import CATALOGUE
from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.service_observations import (
    catalogue,
    gate_without_qelib1,
    multi_qubit_gate_in_openqasm3,
    observed_refusals,
)
from tests.emulator.emulator_helpers import LUCY_SIM, TOSHIKO, Api

ENTRIES = catalogue().observations
BY_NAME = {spec.name: spec for spec in CATALOGUE.values()}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    app = create_app(EmulatorSettings(seed=11))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator"
    ) as client:
        yield Api(client)
    app.state.emulator.close()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_cites_dated_sources_and_a_known_qpu(entry) -> None:
    assert entry.sources and all(source.date and source.shows for source in entry.sources)
    assert any(
        source.url.startswith("https://github.com/qBraid/qBraid/pull/1420") for source in entry.sources
    )
    for qpu in entry.seen_on:
        assert BY_NAME[qpu.name].qpu_id == qpu.qpu_id  # the emulator's QPU of that name
    assert entry.matches(entry.example)
    assert entry.message_for(entry.example) in entry.observed_error  # the example gives the observed text


def test_ids_are_unique() -> None:
    assert len({entry.id for entry in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize(
    ("program", "gate"),
    [
        ("OPENQASM 3.0;\nqubit[2] q;\necr q[0],q[1];\n", "ecr"),
        ("OPENQASM 3.0;\nqubit[2] q;\nh q[0]; cx q[0], q[1];\n", "cx"),
        ("OPENQASM 3.0;\nqubit[2] q;\nctrl @ x q[0], q[1];\n", "x"),
        ("OPENQASM 3.0;\nqubit[2] q;\nrzz(0.5) $0, $1;\n", "rzz"),
        ("OPENQASM 3.0;\nqubit[2] q;\nqubit[2] r;\ncx q, r;\n", "cx"),
        # One-qubit gates, broadcasts over one register, barriers, delays, measures, definitions: none.
        ("OPENQASM 3.0;\ngate g a, b { cx a, b; }\nqubit[2] q;\nbit[2] c;\nx q;\n"
         "barrier q[0], q[1];\ndelay[40ns] q[0], q[1];\nc = measure q;\nreset q[0];\n", None),
        ("OPENQASM 3.0;\n// cx q[0], q[1];\nqubit[2] q;\nx q[0];\n", None),
        ("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncx q[0],q[1];\n", None),  # OpenQASM 2
    ],
)  # fmt: skip
def test_openqasm3_multi_qubit_gate_class(program: str, gate: str | None) -> None:
    assert multi_qubit_gate_in_openqasm3(program) == gate


@pytest.mark.parametrize(
    ("program", "gate"),
    [
        ("OPENQASM 2.0;\nqreg q[2];\nx q[1];\nh q[0];\n", "x"),
        ("OPENQASM 2.0;\nqreg q[2];\nU(0,0,0) q[0];\nCX q[0],q[1];\necr q[0],q[1];\n", None),
        ("OPENQASM 2.0;\nqreg q[1];\nfoo q[0];\n", None),  # unknown to qelib1.inc too: refused for that
        ("OPENQASM 2.0;\ngate g a { U(0,0,0) a; }\nqreg q[1];\ng q[0];\n", None),
        ("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\nh q[0];\n", None),
        ("OPENQASM 3.0;\nqubit[1] q;\nh q[0];\n", None),
    ],
)  # fmt: skip
def test_openqasm2_without_qelib1_class(program: str, gate: str | None) -> None:
    assert gate_without_qelib1(program) == gate


def test_refusals_apply_where_the_entry_says() -> None:
    qasm3 = ENTRIES[0].example
    assert [e.id for e in observed_refusals(qasm3, "Toshiko", TOSHIKO)] == ["openqasm3-two-qubit-gate"]
    assert observed_refusals(qasm3, "Lucy Simulator", LUCY_SIM) == []
    qasm2 = next(e for e in ENTRIES if e.refused_on == "all").example
    assert observed_refusals(qasm2, "Lucy Simulator", LUCY_SIM)  # QAT itself refuses it everywhere


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.seen_on], ids=lambda e: e.id)
async def test_the_emulator_refuses_each_entry_as_the_service_did(api: Api, entry) -> None:
    for qpu in entry.seen_on:
        info = await api.run(entry.example, qpu_id=qpu.qpu_id)
        assert info["status"] == entry.task_state == "FAILED"
        error = info["task_error"]
        assert error["error_message"] == entry.message_for(entry.example)
        if entry.error_code is not None:
            assert error["error_code"] == entry.error_code
            assert f"error {error['error_code']}: {error['error_message']}" == entry.observed_error


async def test_qpus_the_entry_was_not_seen_on_run_what_qat_accepts(api: Api) -> None:
    entry = next(e for e in ENTRIES if e.id == "openqasm3-two-qubit-gate")
    info = await api.run(entry.example, qpu_id=LUCY_SIM, seed=3)
    assert info["status"] == "COMPLETED", info.get("task_error")
    assert set(info["results"]["c"]) == {"00", "11"}


def test_only_idle_delays_are_left_out() -> None:
    from qiskit import QuantumCircuit

    from oqc_provider.qiskit.translate import without_idle_delays

    circuit = QuantumCircuit(3, 2)
    circuit.delay(100, 1)  # before qubit 1's first operation: idle
    circuit.x(0)
    circuit.barrier()
    circuit.ecr(0, 1)
    circuit.delay(50, 2)  # qubit 2 is never used: idle
    circuit.measure([0, 1], [0, 1])
    circuit.delay(70, 0)  # after qubit 0's last operation: idle
    kept = without_idle_delays(circuit, list(circuit.data))
    assert kept is not None and [i.name for i in kept] == ["x", "barrier", "ecr", "measure", "measure"]
    circuit.x(1)
    circuit.delay(30, 1)  # between qubit 1's measure and its x: a real wait
    circuit.x(1)
    assert without_idle_delays(circuit, list(circuit.data)) is None
