"""QAT 3.5's pipeline path on the encodings preflight relies on, replayed from a recorded fixture.

``tests/fixtures/qat/preflight.json`` is written by ``scripts/qat_fixtures/record_preflight.py`` (QAT's
own venv, nothing imported from ``oqc_provider``). It shows:

* the programs the Qiskit front end writes for a Bell pair scheduled with ALAP padding and for a T1
  point (OpenQASM 3, delays in ns, sent with ``raw()``) are accepted on the device they were written for;
* the OpenQASM 2 alternative for a sub-second delay is refused by QAT itself, so OpenQASM 3 is the only
  encoding for such delays, and Toshiko's refusal of OpenQASM 3 beside a two-qubit gate leaves
  preflight no encoding to fall back on there;
* each catalogue entry: the Toshiko-only refusal is accepted by QAT (a fact of the deployed service,
  which only the catalogue can hold), and the OpenQASM 2 refusal is QAT's own, with the same message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oqc_provider.qiskit import OQCProvider
from oqc_provider.service_observations import catalogue
from tests.preflight.frontend_programs import FIXTURES, programs

RECORDED: dict[str, Any] = json.loads((Path(FIXTURES).parent / "preflight.json").read_text())


def outcome(program: str, device: str, model: str) -> dict[str, Any]:
    (found,) = [
        f for f in RECORDED["fixtures"] if (f["program"], f["device"], f["model"]) == (program, device, model)
    ]
    return found


def test_the_front_end_still_writes_the_recorded_programs() -> None:
    with OQCProvider() as provider:
        written = programs(provider)
    for file_name, text in written.items():
        assert RECORDED["programs"][file_name.removesuffix(".qasm")] == text, file_name


@pytest.mark.parametrize(
    ("program", "device"),
    [
        ("frontend_alap_bell_lucy", "lucy"),
        ("frontend_alap_bell_toshiko", "toshiko"),  # QAT accepts it; the live Toshiko does not
        ("frontend_t1_lucy", "lucy"),
        ("frontend_t1_toshiko", "toshiko"),
    ],
)
def test_qat_accepts_the_front_ends_scheduled_programs_as_sent(program: str, device: str) -> None:
    assert RECORDED["programs"][program].startswith("OPENQASM 3.0;")
    assert outcome(program, device, "shapes")["accepted"]  # raw(): what the front end sends them with


def test_qat_accepts_the_openqasm2_written_for_an_idle_delay_circuit_on_toshiko() -> None:
    program = RECORDED["programs"]["frontend_alap_x_ecr_toshiko"]
    assert program.startswith("OPENQASM 2.0;") and "delay" not in program
    recorded = outcome("frontend_alap_x_ecr_toshiko", "toshiko", "counts")
    assert recorded["accepted"] and set(recorded["counts"]["c"]) == {"00", "01"}  # c[0]=0, c[1] either


def test_openqasm2_cannot_carry_a_sub_second_delay() -> None:
    for device in ("lucy", "toshiko"):
        refused = outcome("alt_qasm2_fractional_delay", device, "shapes")
        assert not refused["accepted"]
        assert (
            "the custom 'delay' instruction can only accept an integer parameter"
            in refused["error"]["message"]
        )


def test_each_catalogue_entry_against_qat() -> None:
    for entry in catalogue().observations:
        for device in ("lucy", "toshiko"):
            recorded = outcome(f"catalogue_{entry.id}", device, "counts")
            if entry.refused_on == "seen_on":  # the deployed service's doing: QAT runs it
                assert recorded["accepted"], recorded
            else:  # QAT's own refusal, word for word
                assert not recorded["accepted"]
                assert entry.message_for(entry.example) in recorded["error"]["message"]
