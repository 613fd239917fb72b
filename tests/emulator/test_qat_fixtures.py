"""The emulator against OQC's compiler QAT: every recorded fixture replayed, every difference listed.

QAT (qat-compiler 3.5, what QCaaS compiles with) is the oracle; scripts/qat_fixtures/record.py
recorded what it does with the corpus in tests/fixtures/qat/corpus (accept or refuse, counts from
its noiseless simulator, result shapes per format, the physical qubits it ran on). One replay
submits all of it to an in-process emulator in batches; each test below reports one aspect, all
of its mismatches at once (program, setting, device, what differed).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from oqc_provider.devices import LUCY, LUCY_SIMULATOR, TOSHIKO
from tests.emulator.qat_replay import FIXTURES_DIR, FIXTURES_FILE, Replay, load_fixtures, run_replay, table


@pytest.fixture(scope="module")
def replay() -> Replay:
    """The whole replay, once per module (its own event loop: the tests below are synchronous)."""
    return asyncio.run(run_replay(load_fixtures()))


def test_fixture_file_is_well_formed():
    doc = load_fixtures()
    programs = doc["programs"]
    corpus = {path.stem for path in (FIXTURES_DIR / "corpus").glob("*.qasm")}
    assert len(corpus) >= 60, f"the corpus has {len(corpus)} programs; the fixtures need at least 60"
    assert corpus <= set(programs), f"programs never recorded: {sorted(corpus - set(programs))}"
    assert doc["versions"]["qat-compiler"] == "3.5.0", doc["versions"]
    seen = {(f["program"], f["setting"], f["device"]) for f in doc["fixtures"]}
    for setting in ("default", "tket_one", "tket_two", "tket_empty", "qasm2_default"):
        for device in ("lucy", "toshiko"):
            missing = sorted(name for name in corpus if (name, setting, device) not in seen)
            assert not missing, f"no {setting} fixture on {device} for {missing}"
    for entry in doc["fixtures"]:
        assert entry["config"] in doc["configs"], entry["config"]
        formats = {"binary_count", "binary", "raw", "raw_one_shot", "given"}
        assert set(entry["shapes"]) <= formats, entry["shapes"].keys()


def test_fixture_devices_match_the_catalogue():
    """The couplings the fixtures were recorded on are still the catalogue's (else re-record)."""
    devices = json.loads((FIXTURES_DIR / "devices.json").read_text())
    assert (
        [tuple(c) for c in devices["lucy"]["couplings"]]
        == list(LUCY.couplings)
        == list(LUCY_SIMULATOR.couplings)
    )
    assert [tuple(c) for c in devices["toshiko"]["couplings"]] == list(TOSHIKO.couplings)
    assert devices["lucy"]["qubit_count"] == LUCY.qubit_count
    assert devices["toshiko"]["qubit_count"] == TOSHIKO.qubit_count


@pytest.mark.slow
def test_replay_is_quick(replay: Replay):
    """Under a minute of CPU; the wall-clock bound is looser because CI and dev machines share cores."""
    assert replay.answers, "nothing was replayed"
    took = f"{len(replay.answers)} tasks: {replay.cpu_seconds:.1f} s CPU, {replay.seconds:.1f} s wall"
    assert replay.cpu_seconds < 60, f"the replay is too slow ({took})"
    assert replay.seconds < 180, f"the replay is too slow ({took})"


@pytest.mark.parametrize("aspect", ["accept", "message", "counts", "shape", "values", "physical_qubits"])
@pytest.mark.slow
def test_emulator_agrees_with_qat(replay: Replay, aspect: str):
    """accept: runs/refuses as QAT; message: a refusal carries QAT's reason; counts: same distribution
    (exact when QAT's is one outcome);
    shape: same results structure per format; values: binary/raw carry QAT's deterministic answer;
    physical_qubits: the qubits the emulator reports are those QAT's placement used."""
    mismatches = replay.of(aspect)
    assert not mismatches, f"{FIXTURES_FILE.name}: emulator vs QAT ({aspect})\n" + table(mismatches)
