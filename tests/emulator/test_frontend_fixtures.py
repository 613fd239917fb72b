"""What today's front ends send is what QAT was recorded running, on the qubits the user chose.

Issue 12 ("Done when"): a circuit Qiskit transpiled onto qubits 4-5 of the Lucy Simulator and a pytket
circuit placed on nodes 6->5 are sent with a config under which QAT runs them on exactly those qubits;
the same for a T1 program on qubit 5 (OpenQASM 3, a 400 ns delay, ``raw()``). For each of the three:

(a) the front end, run today, sends the recorded program and config byte for byte, so QAT's recorded
    outcome applies to what we send (re-generate with ``python -m tests.emulator.frontend_programs``,
    then re-record with QAT, when a front end's output changes on purpose);
(b) QAT (the fixture recorded under that very config, setting ``given``) ran it, on exactly those
    qubits;
(c) the emulator, sent the same program (the front end fetching metrics: only the config's metrics
    flags differ), reports the same physical qubits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.frontend_programs import PROGRAMS, Sent, capture, fixture_path
from tests.emulator.qat_replay import load_fixtures

pytest.importorskip("qiskit_experiments")


@pytest.fixture(scope="module")
def sent() -> dict[str, Sent]:
    return capture()


@pytest.fixture(scope="module")
def diagnosed() -> dict[str, Sent]:
    return capture(diagnostics=True)


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    return load_fixtures()


def _given(recorded: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = (
        f
        for f in recorded["fixtures"]
        if f["program"] == f"frontend_{name}" and f["setting"] == "given" and f["device"] == "lucy"
    )
    return entry


def _without_metrics(config: str) -> dict[str, Any]:
    doc = json.loads(config)
    doc["$data"].pop("metrics")
    return doc


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_front_ends_send_exactly_what_qat_ran(
    name: str, sent: dict[str, Sent], recorded: dict[str, Any]
) -> None:
    doc = json.loads(fixture_path(name).read_text())
    assert sent[name].program == doc["program"], f"{name}: the front end's program changed; regenerate"
    assert sent[name].config == doc["config"], f"{name}: the front end's config changed; regenerate"
    assert recorded["programs"][f"frontend_{name}"]["program"] == doc["program"], "re-record with QAT"
    entry = _given(recorded, name)
    assert recorded["configs"][entry["config"]] == json.loads(doc["config"]), "re-record with QAT"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_qat_runs_them_on_the_chosen_qubits(name: str, recorded: dict[str, Any]) -> None:
    entry = _given(recorded, name)
    (shape,) = entry["shapes"].values()  # the echo model, under the front end's own config
    assert shape["accepted"], shape.get("error")
    if name.startswith("qiskit_t1"):
        # QAT's Qiskit-simulator model cannot run it (no OpenQASM 3 barrier: "Not available on this
        # hardware model"; without barriers, no fractional delay): a limit of that model. The
        # pulse-level echo model runs the raw() program the front end sends.
        assert entry["verdict"] == "models_disagree" and not entry["counts"]["accepted"]
    else:
        assert entry["verdict"] == "accepted" and entry["counts"]["accepted"], entry["counts"]
    assert entry["physical_qubits"] == PROGRAMS[name][1], entry.get("optimized_circuit")


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_emulator_reports_the_qubits_qat_used(
    name: str, diagnosed: dict[str, Sent], recorded: dict[str, Any]
) -> None:
    doc = json.loads(fixture_path(name).read_text())
    ran = diagnosed[name]
    assert ran.program == doc["program"]
    assert _without_metrics(ran.config) == _without_metrics(doc["config"])
    assert ran.physical_qubits == _given(recorded, name)["physical_qubits"] == PROGRAMS[name][1]
