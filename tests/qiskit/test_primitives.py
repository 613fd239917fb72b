"""OQCSamplerV2 / OQCEstimatorV2: one OQC job per call, retrievable by id, equal to Qiskit's own.

Requests are counted on their way to a real emulator (an httpx transport in front of
``httpx.ASGITransport``; nothing is patched). Results are compared with ``BackendSamplerV2`` /
``BackendEstimatorV2`` over the same backend, within shot noise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.providers import JobStatus
from qiskit.quantum_info import SparsePauliOp

from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.testing import serve_in_thread
from oqc_provider.qcaas.models import MAX_REQUEST_BYTES
from oqc_provider.qiskit import OQCBackend, OQCJob, OQCProvider
from oqc_provider.qiskit.primitives import OQCEstimatorV2, OQCPrimitiveJob, OQCSamplerV2
from oqc_provider.run_options import KEEP_LAYOUT

BINDINGS = 200
SHOTS = 400


class CountingTransport(httpx.AsyncBaseTransport):
    """Forwards every request to ``inner`` and counts the task submissions and the tasks in them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.submit_bodies: list[int] = []
        self.tasks_submitted = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/tasks/submit"):
            body = await request.aread()
            self.submit_bodies.append(len(body))
            self.tasks_submitted += len(json.loads(body)["tasks"])
        return await self.inner.handle_async_request(request)

    def reset(self) -> None:
        self.submit_bodies.clear()
        self.tasks_submitted = 0


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OQCProvider, CountingTransport]]:
    app = create_app(EmulatorSettings(seed=11))
    transport = CountingTransport(httpx.ASGITransport(app=app))
    provider = OQCProvider(
        url="http://emulator.test",
        transport=transport,
        allow_insecure=True,
        job_store=tmp_path_factory.mktemp("primitives"),
    )
    yield provider, transport
    provider.close()
    app.state.emulator.close()


def _sweep_circuit(backend: OQCBackend) -> tuple[QuantumCircuit, Parameter]:
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, 2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit.rx(theta / 2, 1)
    circuit.measure([0, 1], [0, 1])
    return transpile(circuit, backend, seed_transpiler=3), theta


def _assert_fewest_requests(transport: CountingTransport, circuits: int) -> None:
    """Every circuit sent, in as few submit requests as the 128 KiB limit allows (greedy packing: +1)."""
    assert transport.tasks_submitted == circuits
    fewest = -(-sum(transport.submit_bodies) // MAX_REQUEST_BYTES)
    assert len(transport.submit_bodies) <= fewest + 1, transport.submit_bodies
    assert len(transport.submit_bodies) < circuits / 20


@pytest.mark.slow
def test_a_sampler_sweep_is_one_job_in_the_fewest_requests(counted) -> None:
    provider, transport = counted
    backend = provider.get_backend("Lucy Simulator")
    isa, _ = _sweep_circuit(backend)
    angles = np.linspace(0, np.pi, BINDINGS).reshape(BINDINGS, 1)
    transport.reset()
    job = OQCSamplerV2(backend, seed=5).run([(isa, angles)], shots=SHOTS)
    ours = job.result(timeout=300)
    _assert_fewest_requests(transport, BINDINGS)
    assert isinstance(job, OQCPrimitiveJob) and job.status() is JobStatus.DONE
    assert job.job_id() in {entry.job_id for entry in provider.jobs()}
    theirs = BackendSamplerV2(backend=backend, options={"seed_simulator": 9}).run(
        [(isa, angles)], shots=SHOTS
    )
    reference = theirs.result()
    assert ours[0].data.c.shape == reference[0].data.c.shape == (BINDINGS,)
    assert ours[0].data.c.num_shots == SHOTS and ours[0].metadata["shots"] == SHOTS
    # P(q0 = 1) = sin^2(theta / 2) per binding; averaged over 200 bindings of 400 shots the two
    # samplers' curves differ by ~0.025 per point at most (one sigma); compare means over bins.
    mine = ours[0].data.c.slice_bits(0).array[:, :, 0].sum(axis=1) / SHOTS
    other = reference[0].data.c.slice_bits(0).array[:, :, 0].sum(axis=1) / SHOTS
    exact = np.sin(angles[:, 0] / 2) ** 2
    assert np.abs(mine - exact).mean() < 0.03 and np.abs(other - exact).mean() < 0.03
    assert np.abs(mine - other).max() < 0.15  # > 5 sigma of two 400-shot binomials
    # Same bit layout as Qiskit's: q1 follows from q0 through the CX, so bit 1 agrees with it too.
    assert ours[0].data.c.get_counts(0) == {"00": SHOTS}


@pytest.mark.slow
def test_an_estimator_sweep_is_one_job_and_agrees_with_backend_estimator(counted) -> None:
    provider, transport = counted
    backend = provider.get_backend("Lucy Simulator")
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    isa = transpile(circuit, backend, seed_transpiler=3)
    observables = [
        SparsePauliOp.from_list([("ZZ", 1.0)]).apply_layout(isa.layout),
        SparsePauliOp.from_list([("IZ", 1.0), ("XX", 0.5), ("YY", -0.25)]).apply_layout(isa.layout),
    ]
    angles = np.linspace(0, 2 * np.pi, BINDINGS).reshape(BINDINGS, 1, 1)
    pub = (isa, [observables], angles)  # observables (1, 2) x bindings (200, 1) -> (200, 2)
    precision = 0.05  # 400 shots
    transport.reset()
    job = OQCEstimatorV2(backend, seed=5).run([pub], precision=precision)
    ours = job.result(timeout=300)[0]
    # Three circuits per binding: the qubit-wise commuting groups {IZ, ZZ}, {XX} and {YY}.
    _assert_fewest_requests(transport, 3 * BINDINGS)
    reference = BackendEstimatorV2(backend=backend, options={"seed_simulator": 9}).run(
        [pub], precision=precision
    )
    theirs = reference.result()[0]
    assert ours.data.evs.shape == theirs.data.evs.shape == (BINDINGS, 2)
    t = angles[:, 0, 0]
    exact = np.stack([np.ones_like(t), np.cos(t) + 0.5 * np.sin(t) + 0.25 * np.sin(t)], axis=1)
    # stds are ~0.05 per point; 5 sigma margins, and the mean error far below one sigma.
    assert np.abs(ours.data.evs - exact).max() < 0.3 and np.abs(ours.data.evs - exact).mean() < 0.05
    assert np.abs(ours.data.evs - theirs.data.evs).max() < 0.4
    assert np.allclose(ours.data.stds, theirs.data.stds, atol=0.02)
    assert ours.metadata["shots"] == theirs.metadata["shots"] == 400


def test_options_apply_and_results_repeat_with_a_seed(counted) -> None:
    provider, _ = counted
    backend = provider.get_backend("Lucy Simulator")
    isa, _ = _sweep_circuit(backend)
    pubs = [(isa, [[0.3], [1.2]]), (isa, [[2.0]], 50)]
    first = OQCSamplerV2(backend, seed=3).run(pubs, shots=120).result(timeout=60)
    again = OQCSamplerV2(backend, seed=3).run(pubs, shots=120).result(timeout=60)
    assert [r.data.c.num_shots for r in first] == [120, 50]  # each PUB keeps the shots it asked for
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.data.c.array, b.data.c.array)
    job = OQCSamplerV2(backend, run_options={"tag": "sweep-7", "optimizations": "one"}).run(
        pubs[:1], shots=10
    )
    job.result(timeout=60)
    assert {child.tag for child in job.job.composite.jobs} == {"sweep-7"}
    plain = backend.run(isa.assign_parameters([0.3]), shots=10, memory=True, optimizations="one")
    plain.result(timeout=60)
    (sent,) = [child.config_to_send().optimizations for child in plain.composite.jobs]
    assert all(child.config_to_send().optimizations == sent for child in job.job.composite.jobs)
    assert sent != KEEP_LAYOUT  # the option changed what the service may do


def test_provider_job_returns_each_kind(counted, bell: QuantumCircuit) -> None:
    provider, _ = counted
    backend = provider.get_backend("Lucy Simulator")
    plain = backend.run(transpile(bell, backend), shots=20)
    plain.result(timeout=60)
    assert isinstance(provider.job(plain.job_id()), OQCJob)
    primitive = OQCSamplerV2(backend).run([transpile(bell, backend)], shots=20)
    expected = primitive.result(timeout=60)
    found = provider.job(primitive.job_id())
    assert isinstance(found, OQCPrimitiveJob) and found.kind == "sampler"
    assert found.result(timeout=60)[0].data.c.get_counts() == expected[0].data.c.get_counts()
    assert found.result()[0].metadata == expected[0].metadata


def test_cancel_cancels_the_tasks(slow_provider: OQCProvider, bell: QuantumCircuit) -> None:
    backend = slow_provider.get_backend("Lucy Simulator")
    job = OQCSamplerV2(backend).run([transpile(bell, backend)] * 3, shots=20)
    assert job.cancel()
    assert job.cancelled() and job.in_final_state() and not job.done()


def test_qiskit_experiments_through_the_sampler(counted) -> None:
    library = pytest.importorskip("qiskit_experiments.library")
    provider, _ = counted
    backend = provider.get_backend("Lucy Simulator")
    experiment = library.LocalReadoutError(physical_qubits=(0, 1), backend=backend)
    data = experiment.run(sampler=OQCSamplerV2(backend, seed=1), shots=300).block_for_results(timeout=120)
    assert data.analysis_status().name == "DONE", data.analysis_errors()
    mitigator = data.analysis_results("Local Readout Mitigator", dataframe=True).iloc[0]["value"]
    # Lucy Simulator is noiseless: every assignment matrix is the identity.
    assert np.allclose(mitigator.assignment_matrix(0), np.eye(2))
    assert all(isinstance(job, OQCPrimitiveJob) for job in data.jobs())


# --- a process killed while it waits -----------------------------------------------------------

_CHILD = """
import sys
import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from oqc_provider import OQCProvider
from oqc_provider.qiskit import OQCEstimatorV2, OQCJobTimeoutError, OQCSamplerV2
backend = OQCProvider().get_backend('Lucy Simulator')
theta = Parameter('theta')
angles = np.linspace(0, np.pi, 200).reshape(200, 1)
if sys.argv[1] == 'sampler':
    qc = QuantumCircuit(1, 1); qc.ry(theta, 0); qc.measure(0, 0)
    job = OQCSamplerV2(backend, seed=4).run([(transpile(qc, backend), angles)], shots=64)
else:
    qc = QuantumCircuit(1); qc.ry(theta, 0)
    isa = transpile(qc, backend)
    z = SparsePauliOp('Z').apply_layout(isa.layout)
    job = OQCEstimatorV2(backend, seed=4).run([(isa, z, angles)], precision=0.125)
try:  # sent, and still queued: the emulator holds each task for 2 s
    job.job.wait_for_final_state(timeout=0.5)
except OQCJobTimeoutError:
    pass
print(job.job_id(), flush=True)
job.result()  # killed while it waits
"""

_RETRIEVE = """
import json, sys
from oqc_provider import OQCProvider
data = OQCProvider().job(sys.argv[1]).result(timeout=120)[0].data
found = data.c.array if 'c' in data else [data.evs, data.stds]
print(json.dumps([list(map(str, row)) for row in found]))
"""


def _child_env(home: Path, url: str) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "OQC_PROVIDER_HOME": str(home), "OQC_URL": url}
    env.pop("OQC_AUTHENTICATION_TOKEN", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("kind", ["sampler", "estimator"])
@pytest.mark.slow
def test_a_sweep_killed_mid_wait_is_retrieved_in_a_new_process(tmp_path: Path, kind: str) -> None:
    with serve_in_thread(EmulatorSettings(seed=5, latency=2.0)) as url:
        env = _child_env(tmp_path, url)
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, kind], stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path
        )
        try:
            job_id = child.stdout.readline().strip()  # type: ignore[union-attr]
        finally:
            child.kill()
            child.wait(30)
        assert job_id, "the child printed no job id"
        runs = [
            subprocess.run(
                [sys.executable, "-c", _RETRIEVE, job_id],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
            )
            for _ in range(2)
        ]
        for run in runs:
            assert run.returncode == 0, run.stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout  # the same PrimitiveResult every time it is rebuilt
    found = json.loads(runs[0].stdout)
    if kind == "sampler":
        bits = np.array([[int(shot.strip("[]")) for shot in binding] for binding in found])
        assert bits.shape == (200, 64)
        ones = bits.mean(axis=1)
        assert ones[0] == 0 and ones[-1] == 1  # theta = 0 and pi are deterministic
    else:
        evs, stds = (np.array(row, dtype=float) for row in found)
        assert evs.shape == stds.shape == (200,)
        assert evs[0] == 1 and evs[-1] == -1  # theta = 0 and pi are deterministic
        # 64 shots per binding: sigma <= 0.125; the mean error over 200 bindings is well under it.
        assert np.abs(evs - np.cos(np.linspace(0, np.pi, 200))).mean() < 0.1


def test_several_registers_read_as_backend_sampler_reads_them(counted) -> None:
    """Deterministic outcomes over two registers and an unmeasured bit: bit for bit what Qiskit's
    BackendSamplerV2 returns over the same backend."""
    from qiskit import ClassicalRegister, QuantumRegister

    provider, _ = counted
    backend = provider.get_backend("Lucy Simulator")
    circuit = QuantumCircuit(QuantumRegister(3, "q"), ClassicalRegister(3, "a"), ClassicalRegister(2, "b"))
    circuit.x(0)
    circuit.x(2)
    circuit.measure(0, 2)  # a = 100 (a[2] set), a[0] never written
    circuit.measure(1, 1)
    circuit.measure(2, 4)  # b = 10 (b[1] set)
    isa = transpile(circuit, backend, seed_transpiler=1)
    ours = OQCSamplerV2(backend).run([isa], shots=30).result(timeout=60)[0].data
    theirs = BackendSamplerV2(backend=backend).run([isa], shots=30).result()[0].data
    assert ours.a.get_counts() == theirs.a.get_counts() == {"100": 30}
    assert ours.b.get_counts() == theirs.b.get_counts() == {"10": 30}
    assert ours.a.num_bits == 3 and ours.b.num_bits == 2
