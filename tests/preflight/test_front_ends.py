"""Preflight on both front ends and ``oqc-provider run``, against an emulator served on 127.0.0.1.

A refused program must never reach the server: each test reads the emulator's task list over HTTP
(``GET /tasks``) before and after. Issue 20's circuits -- a Bell pair scheduled with ALAP padding (an
ECR beside delays) and a T1 point -- run on the emulated Lucy and Toshiko: each either succeeds with
an encoding QAT's pipeline path accepts (tests/preflight/test_qat_evidence.py) or is refused before
sending with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytket import Circuit
from qiskit import QuantumCircuit, transpile
from qiskit_aer import AerSimulator

from oqc_provider.emulator import EmulatorSettings
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.preflight import PreflightError
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qiskit import OQCProvider
from oqc_provider.service_observations import observed_refusals
from tests.cli.conftest import BELL_QASM3, Cli
from tests.preflight.frontend_programs import FIXTURES, alap_bell, alap_x_ecr, t1_point


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(EmulatorSettings(seed=2026)) as served:
        yield served


@pytest.fixture(scope="module")
def provider(url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OQCProvider]:
    with OQCProvider(url=url, job_store=tmp_path_factory.mktemp("preflight-jobs")) as made:
        yield made


def task_count(url: str) -> int:
    """How many tasks the emulator has ever been sent (its v4 task listing)."""
    response = httpx.get(f"{url}/tasks", timeout=10)
    response.raise_for_status()
    return len(response.json())


@pytest.mark.slow
def test_alap_scheduled_ecr_on_toshiko_is_refused_before_sending(provider: OQCProvider, url: str) -> None:
    toshiko = provider.get_backend("Toshiko")
    before = task_count(url)
    with pytest.raises(PreflightError) as caught:
        toshiko.run(alap_bell(toshiko), shots=100)
    message = str(caught.value)
    assert caught.value.observation_id == "openqasm3-two-qubit-gate"
    assert "circuit 0" in message and "gate 'ecr'" in message
    assert "error 101: argument of type 'NoneType' is not iterable" in message
    assert "https://github.com/qBraid/qBraid/pull/1420" in message  # the evidence
    assert "OpenQASM 2 cannot carry a wait shorter" in message  # why this circuit is OpenQASM 3
    assert "preflight=False" in message  # what to do
    assert task_count(url) == before


def test_preflight_false_sends_it_and_the_service_refusal_comes_back(provider: OQCProvider, url: str) -> None:
    toshiko = provider.get_backend("Toshiko")
    before = task_count(url)
    job = toshiko.run(alap_bell(toshiko), shots=100, preflight=False)
    result = job.result(timeout=60)
    assert not result.success
    with pytest.raises(Exception, match=r"\(101\)argument of type 'NoneType' is not iterable"):
        result.get_counts()
    assert task_count(url) == before + 1


@pytest.mark.slow
def test_on_toshiko_idle_delays_are_left_out_and_the_circuit_goes_as_openqasm2(
    provider: OQCProvider, url: str
) -> None:
    toshiko = provider.get_backend("Toshiko")
    circuit = alap_x_ecr(toshiko)
    assert circuit.count_ops()["delay"] > 0
    before = task_count(url)
    job = toshiko.run(circuit, shots=400)
    counts = job.result(timeout=60).get_counts()
    (sent,) = [child.program for child in job.composite.jobs]
    assert sent == (FIXTURES / "frontend_alap_x_ecr_toshiko.qasm").read_text()  # accepted by QAT, recorded
    assert task_count(url) == before + 1
    ones_c0 = sum(n for bits, n in counts.items() if bits[-1] == "1") / 400
    ones_c1 = sum(n for bits, n in counts.items() if bits[-2] == "1") / 400
    assert ones_c0 < 0.15 and 0.3 < ones_c1 < 0.7  # QAT's recording: c[0] = 0, c[1] half and half
    as_written = toshiko.run(circuit, shots=50, preflight=False)  # OpenQASM 3, delays and all
    assert as_written.composite.jobs[0].program.startswith("OPENQASM 3.0;")
    assert not as_written.result(timeout=60).success


def test_alap_scheduled_ecr_on_lucy_runs_as_aer_does(provider: OQCProvider) -> None:
    lucy = provider.get_backend("Lucy Simulator")
    circuit = alap_bell(lucy)
    assert "delay" in circuit.count_ops() and "ecr" in circuit.count_ops()
    counts = lucy.run(circuit, shots=400, seed_simulator=5).result().get_counts()
    aer = AerSimulator().run(transpile(circuit, AerSimulator()), shots=400, seed_simulator=5).result()
    assert set(counts) == set(aer.get_counts()) == {"00", "11"}
    assert sum(counts.values()) == 400 and min(counts.values()) > 120


@pytest.mark.parametrize("name", ["Toshiko", "Lucy Simulator"])
@pytest.mark.slow
def test_a_t1_point_runs_on_both_devices(provider: OQCProvider, url: str, name: str) -> None:
    pytest.importorskip("qiskit_experiments")
    backend = provider.get_backend(name)
    before = task_count(url)
    seed = 1 if backend.device.simulator else None  # hardware is sent no seed
    counts = backend.run(t1_point(backend), shots=200, seed_simulator=seed).result().get_counts()
    assert sum(counts.values()) == 200
    assert counts.get("1", 0) > 100  # 400 ns is far below T1: the excited state mostly survives
    assert task_count(url) == before + 1


def test_a_task_over_128_kib_is_refused_before_sending(provider: OQCProvider, url: str) -> None:
    lucy = provider.get_backend("Lucy Simulator")
    circuit = QuantumCircuit(1, 1, name="long")
    for step in range(7000):
        circuit.rz(0.123456789 + step * 1e-9, 0)
    circuit.measure(0, 0)
    before = task_count(url)
    with pytest.raises(PreflightError, match=r"circuit 0 \('long'\) was not sent: .*131072 bytes"):
        lucy.run(circuit, shots=10)
    assert task_count(url) == before


@pytest.mark.slow
def test_pytket_bell_on_toshiko_is_openqasm2_and_runs(url: str, tmp_path: Path) -> None:
    backend = OQCTketBackend("Toshiko", url=url, job_store=tmp_path)
    try:
        compiled = backend.get_compiled_circuit(Circuit(2, 2, name="bell").H(0).CX(0, 1).measure_all())
        before = task_count(url)
        handle = backend.process_circuits([compiled], n_shots=200)[0]
        counts = backend.get_result(handle, timeout=60).get_counts()
        assert sum(counts.values()) == 200
        assert task_count(url) == before + 1
        batch = backend._batches.batches[handle[0]]
        sent = batch.jobs[0].program
        assert sent.startswith('OPENQASM 2.0;\ninclude "qelib1.inc";')
        assert observed_refusals(sent, "Toshiko", "qpu:jp:3:673b1ad43c") == []
    finally:
        backend.close()


@pytest.mark.slow
def test_cli_refuses_before_sending_and_no_preflight_sends(url: str, tmp_path: Path) -> None:
    cli = Cli()
    program = tmp_path / "bell3.qasm"
    program.write_text(BELL_QASM3)
    before = task_count(url)
    refused = cli("--url", url, "run", str(program), "--qpu", "Toshiko", "--no-progress")
    assert refused.exit_code != 0
    assert "was not sent" in refused.output and "error 101" in refused.output, refused.output
    assert task_count(url) == before
    sent = cli("--url", url, "run", str(program), "--qpu", "Toshiko", "--no-progress", "--no-preflight")
    assert sent.exit_code != 0
    assert "argument of type 'NoneType' is not iterable" in sent.output, sent.output
    assert task_count(url) == before + 1
    ok = cli("--url", url, "run", str(program), "--qpu", "Lucy Simulator", "--no-progress", "--shots", "50")
    assert ok.exit_code == 0, ok.output


def test_cli_refuses_openqasm2_without_qelib1_on_any_qpu(url: str, tmp_path: Path) -> None:
    program = tmp_path / "bare.qasm"
    program.write_text("OPENQASM 2.0;\nqreg q[2];\ncreg c[2];\nh q[0];\nmeasure q -> c;\n")
    before = task_count(url)
    refused = Cli()("--url", url, "run", str(program), "--qpu", "Lucy Simulator", "--no-progress")
    assert refused.exit_code != 0
    assert "openqasm2-without-qelib1" in refused.output and 'include "qelib1.inc"' in refused.output
    assert task_count(url) == before


def test_cli_refuses_a_program_wider_than_the_qpu(url: str, tmp_path: Path) -> None:
    program = tmp_path / "wide.qasm"
    program.write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[9];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n'
    )
    before = task_count(url)
    refused = Cli()("--url", url, "run", str(program), "--qpu", "Lucy Simulator", "--no-progress")
    assert refused.exit_code != 0 and "declares 9 qubits but Lucy Simulator has 8" in refused.output
    assert task_count(url) == before


@pytest.mark.parametrize("name", ["Toshiko", "Lucy Simulator"])
@pytest.mark.slow
def test_no_program_the_front_ends_write_by_default_is_in_a_refused_class(
    provider: OQCProvider, url: str, tmp_path: Path, name: str
) -> None:
    """Circuits without delays, any gates: Qiskit and pytket write programs no catalogue entry refuses."""
    from qiskit.circuit.random import random_circuit

    from oqc_provider.pytket.programs import to_program
    from oqc_provider.qiskit.translate import checked_wire
    from tests.pytket.conftest import random_circuit as random_tket_circuit

    backend = provider.get_backend(name)
    device = backend.device
    tket = OQCTketBackend(name, url=url, job_store=tmp_path)
    try:
        for seed in range(6):
            circuit = transpile(random_circuit(4, 6, max_operands=3, measure=True, seed=seed), backend)
            qiskit_program = checked_wire(circuit, backend.target, device).program
            tket_program = to_program(tket.get_compiled_circuit(random_tket_circuit(seed)), device).qasm
            for program in (qiskit_program, tket_program):
                assert program.startswith('OPENQASM 2.0;\ninclude "qelib1.inc";')
                assert observed_refusals(program, device.name, device.qpu_id) == []
    finally:
        tket.close()


def test_pytket_task_over_128_kib_is_refused_before_sending(url: str, tmp_path: Path) -> None:
    from oqc_provider.engine.errors import JobFailed

    backend = OQCTketBackend("Lucy Simulator", url=url, job_store=tmp_path)
    try:
        from pytket.circuit import Bit, Node

        circuit = Circuit(name="long")
        node, bit = Node(0), Bit(0)
        circuit.add_qubit(node)
        circuit.add_bit(bit)
        for step in range(7000):
            circuit.Rz(0.123456789 + step * 1e-9, node)
        circuit.Measure(node, bit)
        before = task_count(url)
        with pytest.raises(PreflightError, match=r"circuit 0 \('long'\) was not sent: .*131072 bytes"):
            backend.process_circuits([circuit], n_shots=10)
        assert task_count(url) == before
        # Opted out: the engine still cannot send it, and says so; the server never sees it either.
        with pytest.raises(JobFailed, match="too large"):
            backend.process_circuits([circuit], n_shots=10, preflight=False)
        assert task_count(url) == before
    finally:
        backend.close()
