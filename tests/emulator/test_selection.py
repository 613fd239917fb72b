"""Pre-selection, post-selection and driven reset on the emulator, held to QAT 3.5's pipeline path.

``tests/fixtures/qat/selection.json`` (``scripts/qat_fixtures/record_selection.py``) records what
QAT does; each case recorded on QAT's default (``as_loaded``) model is replayed over HTTP against
the emulator: refused with QAT's reason, or accepted with the same result shape and shot total.
The echo engine QAT records with reads 0 on every shot, so values are compared only where the
program is deterministic; the empty results of the models that drop every shot are compared with
the emulator's results builder given no kept shot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oqc_provider.devices import Calibration
from oqc_provider.emulator.programs import Layout
from oqc_provider.emulator.results import build_results
from oqc_provider.emulator.selection import QAT_DDROP_MESSAGE
from oqc_provider.qcaas.compiler_config import CompilerConfig, QuantumResultsFormat
from tests.emulator.emulator_helpers import BELL, KEEP_QUBITS, LUCY, LUCY_SIM, TOSHIKO, bell_on

FIXTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "qat" / "selection.json").read_text())
FORMATS = {
    "binary_count": QuantumResultsFormat.binary_count,
    "binary": QuantumResultsFormat.binary,
    "raw": QuantumResultsFormat.raw,
}
AS_LOADED = [case for case in FIXTURES["cases"] if case["model"] == "as_loaded"]


def selection_config(fields: dict[str, Any], fmt: str, shots: int) -> str:
    config = CompilerConfig(repeats=shots, results_format=FORMATS[fmt](), optimizations=KEEP_QUBITS, **fields)
    return config.to_json()


def described(register: Any) -> dict[str, Any]:
    """One register's result as the recorder describes QAT's."""
    if isinstance(register, dict):
        return {"shots": sum(register.values())}
    if register and all(isinstance(bit, list) for bit in register):
        return {"raw_lengths": [len(bit) for bit in register]}
    return {"bits": len(register)}


def described_qat(register: dict[str, Any]) -> dict[str, Any]:
    if "counts" in register:
        return {"shots": sum(register["counts"].values())}
    if "raw_lengths" in register:
        return {"raw_lengths": register["raw_lengths"]}
    return {"bits": len(register["bits"])}


def test_the_fixtures_cover_every_option_and_format():
    options = {case["option"] for case in AS_LOADED}
    assert {"pre_selection", "post_selection", "driven_reset", "passive_reset_time"} <= options
    assert {case["format"] for case in AS_LOADED} == set(FORMATS)
    assert len(AS_LOADED) == 3 * len(FIXTURES["options"]) * 3


@pytest.mark.parametrize(
    "case", AS_LOADED, ids=lambda case: f"{case['program']}-{case['option']}-{case['format']}"
)
@pytest.mark.slow
async def test_the_emulator_does_what_qat_does(api, case):
    cfg = selection_config(FIXTURES["options"][case["option"]], case["format"], FIXTURES["shots"])
    info = await api.run(FIXTURES["programs"][case["program"]], cfg=cfg)
    if "error" in case:
        assert info["status"] == "FAILED", info
        assert case["error"]["message"].strip() in info["task_error"]["error_message"]
        return
    assert info["status"] == "COMPLETED", info
    results = info["results"]
    assert sorted(results) == sorted(case["results"])
    for register, qat in case["results"].items():
        assert described(results[register]) == described_qat(qat)
    if case["program"] == "reset_qasm2":  # deterministic: x, reset, measure reads 0 on every shot
        expected = {"binary_count": {"c": {"0": 5}}, "binary": {"c": [0]}, "raw": {"c": [[1.0] * 5]}}
        assert results == expected[case["format"]]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_no_kept_shot_gives_qat_s_empty_results(fmt):
    """QAT with a model that fails every shot: empty counts, empty readout lists, bits of 1."""
    case = next(
        c
        for c in FIXTURES["cases"]
        if c["model"] == "disallow_ground" and c["option"] == "pre_selection" and c["program"] == "bell_qasm2"
        if c["format"] == fmt
    )
    layout = Layout(
        registers=(("c", (0, 1)),), clbit_qubits={0: 0, 1: 1}, used_qubits=(0, 1), instruction_count=4
    )
    config = CompilerConfig(repeats=5, results_format=FORMATS[fmt](), pre_selection=True)
    results = build_results(config, layout, Calibration(qpu_id=LUCY_SIM, qubits={}), {}, [])
    expected = {
        "binary_count": {"c": {}},
        "binary": {"c": case["results"]["c"].get("bits")},
        "raw": {"c": [[] for _ in case["results"]["c"].get("raw_lengths", [])]},
    }[fmt]
    if fmt == "binary_count":
        assert case["results"]["c"]["counts"] == {}
    assert results == expected


@pytest.mark.slow
async def test_pre_selection_drops_the_shots_a_readout_error_fails_on_a_noisy_qpu(api):
    """Lucy's readout error makes some pre-measurements read 1: those shots are dropped."""
    shots = 4000
    plain = await api.run(BELL, qpu_id=LUCY, cfg=selection_config({}, "binary_count", shots), seed=11)
    selected = await api.run(
        BELL, qpu_id=LUCY, cfg=selection_config({"pre_selection": True}, "binary_count", shots), seed=11
    )
    assert sum(plain["results"]["c"].values()) == shots
    kept = sum(selected["results"]["c"].values())
    # Two qubits with 2-5 % readout error each: between ~4 % and ~10 % of the shots fail.
    assert 0.85 * shots < kept < 0.98 * shots, kept


async def test_pre_selection_keeps_every_shot_on_a_noiseless_simulator(api):
    info = await api.run(BELL, cfg=selection_config({"pre_selection": True}, "raw", 300), seed=3)
    assert [len(bit) for bit in info["results"]["c"]] == [300, 300]


@pytest.mark.slow
async def test_raw_pre_selected_shots_are_the_same_shots_in_every_bit(api):
    """A dropped shot goes from every bit's list: Bell readouts stay pairwise equal."""
    info = await api.run(
        bell_on(0, 1, 8), qpu_id=LUCY, cfg=selection_config({"pre_selection": True}, "raw", 2000), seed=5
    )
    first, second = info["results"]["c"]
    assert len(first) == len(second) < 2000
    agree = sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
    assert agree > 0.8, agree  # correlated outcomes survive the selection (noise flips a few)


@pytest.mark.parametrize("qpu_id", [LUCY_SIM, LUCY, TOSHIKO])
async def test_driven_reset_is_refused_with_qat_s_reason_on_every_emulated_qpu(api, qpu_id):
    info = await api.run(
        BELL, qpu_id=qpu_id, cfg=selection_config({"driven_reset": True}, "binary_count", 10)
    )
    assert info["status"] == "FAILED"
    message = info["task_error"]["error_message"]
    assert QAT_DDROP_MESSAGE in message and "driven_reset=False" in message


async def test_the_emulator_publishes_what_it_accepts(api):
    features = (await api.client.get(f"/qpus/{LUCY_SIM}/features")).json()["data"]
    assert (features["pre_selection"], features["post_selection"], features["driven_reset"]) == (
        True,
        True,
        False,
    )


@pytest.mark.slow
async def test_pre_selection_heralds_the_qubits_the_program_uses_wherever_they_are(api):
    """On Toshiko's qubits 18 -> 10: the herald measures those qubits, not the first two."""
    info = await api.run(
        bell_on(18, 10, 32),
        qpu_id=TOSHIKO,
        cfg=selection_config({"pre_selection": True}, "binary_count", 3000),
    )
    counts = info["results"]["c"]
    kept = sum(counts.values())
    assert 0.85 * 3000 < kept < 0.98 * 3000, kept
    assert counts.get("00", 0) + counts.get("11", 0) > 0.8 * kept  # the Bell pair itself is untouched
