"""Cost before running: every front end's estimate is the sum the registry's prices give, exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pytket.circuit import Circuit
from qiskit import transpile
from typer.testing import CliRunner

from oqc_provider.cli import app
from oqc_provider.engine import OqcSdk
from oqc_provider.engine.cost import CostEstimate, QpuPrice, prices_from_registry
from oqc_provider.pytket import OQCTketBackend
from oqc_provider.qiskit import OQCProvider
from tests.cost.conftest import LUCY, LUCY_SIM, PER_SHOT, PER_TASK, TOKEN, Served, bell, task_cost

ONE = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'


def test_decimal_sums_are_exact_where_floats_are_not() -> None:
    prices = prices_from_registry([{"id": "q", "price_per_shot": "0.1", "price_per_task": "0.2"}])
    estimate = CostEstimate.of([("q", 1), ("q", 2)], prices)
    # As floats, one task's 0.2 + 0.1 is 0.30000000000000004; the registry's decimals are kept.
    assert 0.2 + 0.1 * 1 != 0.3
    assert estimate.total == Decimal("0.7")
    assert [task.cost for task in estimate.tasks] == [Decimal("0.3"), Decimal("0.4")]
    assert isinstance(estimate.total, Decimal)


def test_a_price_not_published_is_unknown_never_zero() -> None:
    prices = prices_from_registry(
        [{"id": "free", "price_per_shot": "0", "price_per_task": "0"}, {"id": "dark", "price_per_shot": None}]
    )
    assert CostEstimate.of([("free", 100)], prices).total == Decimal(0)
    mixed = CostEstimate.of([("free", 100), ("dark", 100)], prices)
    assert mixed.total is None
    assert mixed.priced_total == Decimal(0)
    assert mixed.unpriced_qpus == ["dark"]
    assert "not published" in str(mixed)
    unlisted = CostEstimate.of([("nowhere", 10)], prices)
    assert unlisted.total is None and not unlisted.prices["nowhere"].published


@pytest.mark.slow
def test_qiskit_estimate_is_the_sum_of_the_registry_prices(provider: OQCProvider, served: Served) -> None:
    backend = provider.get_backend("Lucy Simulator")
    circuits = [transpile(bell(), backend, seed_transpiler=1) for _ in range(3)]
    before = served.submitted()
    estimate = backend.estimate_cost(circuits, shots=250)
    assert estimate.total == 3 * task_cost(250) == Decimal("1.31250")
    tasks = [(task.qpu_id, task.shots, task.cost) for task in estimate.tasks]
    assert tasks == [(LUCY_SIM, 250, task_cost(250))] * 3
    price = estimate.prices[LUCY_SIM]
    assert (price.per_shot, price.per_task) == (PER_SHOT, PER_TASK)
    assert estimate.read_at is not None and estimate.read_at.tzinfo is not None
    # The backend's default shots when none are given; and nothing was sent either time.
    assert backend.estimate_cost(circuits[0]).total == task_cost(1000)
    assert served.submitted() == before


def test_qiskit_estimate_on_a_qpu_without_a_price_says_not_published(provider: OQCProvider) -> None:
    backend = provider.get_backend("Lucy")
    estimate = backend.estimate_cost(transpile(bell(), backend, seed_transpiler=1), shots=100)
    assert estimate.total is None
    assert estimate.unpriced_qpus == [LUCY]
    assert "not published" in str(estimate)


def test_pytket_estimate_is_the_sum_of_the_registry_prices(served: Served, tmp_path: Path) -> None:
    with OQCTketBackend("Lucy Simulator", served.url, TOKEN, job_store=tmp_path / "jobs") as backend:
        circuit = backend.get_compiled_circuit(Circuit(2).H(0).CX(0, 1).measure_all())
        before = served.submitted()
        estimate = backend.estimate_cost([circuit, circuit], n_shots=[100, 300])
        assert estimate.total == task_cost(100) + task_cost(300)
        assert [task.shots for task in estimate.tasks] == [100, 300]
        assert backend.estimate_cost(circuit, n_shots=10).total == task_cost(10)
        assert served.submitted() == before


async def test_engine_estimate_is_the_sum_of_the_registry_prices(served: Served) -> None:
    async with OqcSdk(url=served.url, authentication_token=TOKEN, job_store=False) as sdk:
        batch = sdk.create_job(program=[ONE, ONE], qpu_id=[LUCY_SIM, LUCY])
        estimate = await sdk.estimate_cost(batch)
        assert estimate.total is None
        assert estimate.priced_total == task_cost(1000)
        prices = await sdk.prices()
        assert prices[LUCY_SIM] == QpuPrice(LUCY_SIM, PER_SHOT, PER_TASK, prices[LUCY_SIM].read_at)
        assert not prices[LUCY].published


@pytest.mark.slow
def test_cli_estimate_prints_the_sum_and_sends_nothing(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OQC_URL", served.url)
    monkeypatch.setenv("OQC_AUTHENTICATION_TOKEN", TOKEN)
    files = []
    for name in ("a.qasm", "b.qasm"):
        files.append(tmp_path / name)
        files[-1].write_text(ONE)
    runner = CliRunner()
    before = served.submitted()
    args = ["run", *map(str, files), "--shots", "400", "--estimate"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert Decimal(body["total"]) == 2 * task_cost(400)
    assert [Decimal(task["cost"]) for task in body["tasks"]] == [task_cost(400)] * 2
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert str(2 * task_cost(400)) in text.stdout and "credits" in text.stdout
    unpriced = runner.invoke(app, [*args, "--qpu", "Lucy"])
    assert unpriced.exit_code == 0 and "not published" in unpriced.stdout
    assert served.submitted() == before


@pytest.mark.slow
def test_cli_qpus_shows_each_qpus_prices(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OQC_URL", served.url)
    monkeypatch.setenv("OQC_AUTHENTICATION_TOKEN", TOKEN)
    runner = CliRunner()
    result = runner.invoke(app, ["qpus", "--json"])
    assert result.exit_code == 0, result.output
    prices = {r["name"]: (r["price_per_shot"], r["price_per_task"]) for r in json.loads(result.stdout)}
    assert prices == {"Lucy Simulator": ("0.00035", "0.35"), "Lucy": (None, None), "Toshiko": ("0", "0")}
    table = runner.invoke(app, ["qpus"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "0.00035" in table.stdout and "not published" in table.stdout
