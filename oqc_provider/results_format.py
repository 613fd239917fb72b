"""How the front ends read QCaaS's per-shot (``raw``) results: the one place for the sign rule.

QCaaS compiles and runs programs with OQC's QAT, and QAT shapes the ``raw()`` results format as
``{register: [[value of shot 0, shot 1, ...] for bit 0, [...] for bit 1, ...]}``: one list per bit of
the register, in index order, of per-shot *readout values* (floats, not bits). QAT discriminates a
value as outcome 0 when it is above zero and as 1 otherwise; the emulator writes ``+1.0`` and
``-1.0``. Both front ends decode per-shot data with :func:`outcome` and :func:`register_shots`, so
they read what the service really returns and never an emulator-only shape.

Example:
    >>> outcome(1.0), outcome(-1.0), outcome(0.0), outcome(0.37)
    (0, 1, 1, 0)
    >>> register_shots([[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]], width=2)
    [(0, 1), (1, 1), (1, 0)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from oqc_provider.qcaas.errors import ProtocolError


def outcome(value: Any) -> int:
    """One readout value as a bit: 0 when ``value > 0``, else 1 (QAT's discrimination).

    Raises:
        ProtocolError: ``value`` is not a real number (a bitstring, ``None``, NaN...).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ProtocolError(f"A raw readout value must be a real number, got {value!r}.")
    return 0 if value > 0 else 1


def register_shots(columns: Sequence[Any], width: int) -> list[tuple[int, ...]]:
    """Each shot's bits (bit ``i`` at position ``i``) from one register's raw results.

    Args:
        columns: the register's entry: one list of per-shot readout values per bit.
        width: how many bits the register has in the program.

    Raises:
        ProtocolError: not a list per bit, the wrong number of bits, bits with different shot
            counts, or a value that is not a number.
    """
    if not isinstance(columns, list | tuple) or any(not isinstance(c, list | tuple) for c in columns):
        raise ProtocolError(
            "Raw results must hold one list of per-shot readout values per bit, got "
            f"{type(columns).__name__} {str(columns)[:60]}."
        )
    if len(columns) != width:
        raise ProtocolError(f"Raw results hold {len(columns)} bits, but the register has {width}.")
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ProtocolError(f"Raw results have bits with different shot counts: {sorted(lengths)}.")
    bits = [[outcome(value) for value in column] for column in columns]
    return list(zip(*bits, strict=True))


__all__ = ["outcome", "register_shots"]
