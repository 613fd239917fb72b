"""Reading registers out of Aer's classical memory: the one-format read equals a read bit by bit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oqc_provider.emulator.results import bit_reader


def _bit_by_bit(indices: tuple[int, ...], value: int) -> str:
    return "".join("1" if (value >> index) & 1 else "0" for index in indices)


@given(
    start=st.integers(0, 40),
    width=st.integers(1, 24),
    extra=st.lists(st.integers(0, 70), max_size=4),
    value=st.integers(0, 2**80),
)
def test_a_register_reads_as_it_would_bit_by_bit(
    start: int, width: int, extra: list[int], value: int
) -> None:
    consecutive = tuple(range(start, start + width))
    for indices in (consecutive, consecutive[::-1], (*consecutive, *extra), tuple(extra)):
        if indices:
            assert bit_reader(indices)(value) == _bit_by_bit(indices, value)
