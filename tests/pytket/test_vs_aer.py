"""Counts from OQCTketBackend (emulator) agree with pytket-qiskit's AerBackend on random circuits.

Random 2-4 qubit circuits with 2-3 classical registers, shuffled measurements and an unmeasured
bit run on both backends with fixed seeds, so the test is deterministic. Agreement is judged by a
chi-square test of homogeneity on the joint counts over every bit, and by total variation
distance. A bit-order, register or direction mistake moves whole outcomes and fails both.
"""

from __future__ import annotations

from collections import Counter

import pytest
from scipy.stats import chi2_contingency

from oqc_provider.pytket import OQCTketBackend
from tests.pytket.conftest import random_circuit

SEEDS = list(range(12))
SHOTS = 4000
#: Reject agreement only on overwhelming evidence (p < 1e-4), as the seeds are fixed anyway.
P_FLOOR = 1e-4
#: With 4000 shots per side and at most 16 populated outcomes, sampling alone gives TVD ~ 0.03.
TVD_CEILING = 0.06

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # pytket-qiskit's Aer imports


def _tvd(a: Counter, b: Counter) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a[k] / na - b[k] / nb) for k in set(a) | set(b))


@pytest.fixture(scope="module")
def aer_and_oqc_counts(lucy_sim: OQCTketBackend) -> list[tuple[Counter, Counter]]:
    aer_backends = pytest.importorskip("pytket.extensions.qiskit")
    aer = aer_backends.AerBackend()
    circuits = [random_circuit(seed) for seed in SEEDS]
    ours = lucy_sim.run_circuits(lucy_sim.get_compiled_circuits(circuits, 1), n_shots=SHOTS, seed=1234)
    theirs = aer.run_circuits(aer.get_compiled_circuits(circuits), n_shots=SHOTS, seed=4321)
    return [
        (mine.get_counts(c.bits), other.get_counts(c.bits))
        for c, mine, other in zip(circuits, ours, theirs, strict=True)
    ]


@pytest.mark.parametrize("index", range(len(SEEDS)))
@pytest.mark.slow
def test_counts_agree_with_aer(aer_and_oqc_counts: list[tuple[Counter, Counter]], index: int) -> None:
    ours, aer = aer_and_oqc_counts[index]
    assert sum(ours.values()) == sum(aer.values()) == SHOTS
    outcomes = sorted(set(ours) | set(aer))
    assert _tvd(ours, aer) < TVD_CEILING, (ours, aer)
    if len(outcomes) > 1:
        table = [[ours[k] for k in outcomes], [aer[k] for k in outcomes]]
        assert chi2_contingency(table).pvalue > P_FLOOR, (ours, aer)
    else:
        assert ours == aer  # a deterministic circuit: exactly the same outcome


@pytest.mark.slow
def test_the_random_set_is_not_trivial(aer_and_oqc_counts: list[tuple[Counter, Counter]]) -> None:
    spread = [len(aer) for _, aer in aer_and_oqc_counts]
    assert sum(1 for n in spread if n >= 4) >= len(SEEDS) // 2, spread


def test_the_comparison_would_catch_a_bit_order_mistake(
    aer_and_oqc_counts: list[tuple[Counter, Counter]],
) -> None:
    """The same counts with each outcome reversed (a classic bit-order bug) fail the TVD bound."""
    caught = 0
    for ours, aer in aer_and_oqc_counts:
        reversed_aer = Counter({outcome[::-1]: n for outcome, n in aer.items()})
        caught += _tvd(ours, reversed_aer) >= TVD_CEILING
    assert caught == len(SEEDS)
