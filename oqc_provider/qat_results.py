"""How the front ends read QCaaS's per-shot (``raw``) results: the one place for the sign rule.

QCaaS compiles and runs programs with OQC's QAT, and QAT shapes the ``raw()`` results format as
``{register: [[value of shot 0, shot 1, ...] for bit 0, [...] for bit 1, ...]}``: one list per bit of
the register, in index order, of per-shot *readout values* (floats, not bits). QAT discriminates a
value as outcome 0 when it is above zero and as 1 otherwise; the emulator writes ``+1.0`` and
``-1.0``. A bit never measured is the integer ``0``; with one shot, each bit's list collapses to its
value. Both front ends decode per-shot data with :func:`outcome` and :func:`register_shots`, so
they read what the service really returns and never an emulator-only shape.

Example:
    >>> outcome(1.0), outcome(-1.0), outcome(0.0), outcome(0.37)
    (0, 1, 1, 0)
    >>> register_shots([[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]], width=2)
    [(0, 1), (1, 1), (1, 0)]
    >>> register_shots([0, [-1.0, 1.0]], width=2), register_shots([-1.0, 0], width=2)
    ([(0, 1), (0, 0)], [(1, 0)])
    >>> as_counts({"c": [[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]], "d": {"1": 3}})
    {'c': {'01': 1, '11': 1, '10': 1}, 'd': {'1': 3}}
"""

from __future__ import annotations

import math
from collections import Counter
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


def register_shots(columns: Sequence[Any], width: int, shots: int | None = None) -> list[tuple[int, ...]]:
    """Each shot's bits (bit ``i`` at position ``i``) from one register's raw results.

    Two QAT details are read as QAT writes them: a bit the program never measures is ``0`` (an
    integer, no list) and reads 0 in every shot, as in Qiskit and pytket; and with a single shot
    each bit's list collapses to its only value.

    Args:
        columns: the register's entry: per bit, a list of per-shot readout values (or a scalar).
        width: how many bits the register has in the program.
        shots: the shots asked for; needed only when no bit of the register was measured.

    Raises:
        ProtocolError: not one entry per bit, bits with different shot counts, or a value that is
            not a number.
    """
    if not isinstance(columns, list | tuple):
        raise ProtocolError(
            f"Raw results must hold one entry of readout values per bit, got {type(columns).__name__} "
            f"{str(columns)[:60]}."
        )
    if len(columns) != width:
        raise ProtocolError(f"Raw results hold {len(columns)} bits, but the register has {width}.")
    lengths = {len(column) for column in columns if isinstance(column, list | tuple)}
    if len(lengths) > 1:
        raise ProtocolError(f"Raw results have bits with different shot counts: {sorted(lengths)}.")
    collapsed = any(
        not _never_measured(column) and not isinstance(column, list | tuple) for column in columns
    )
    if lengths:
        count = lengths.pop()
        if collapsed and count != 1:
            raise ProtocolError(f"Raw results mix per-shot lists of {count} values with single values.")
    elif collapsed:
        count = 1  # one shot: each bit's list collapsed to its value
    elif shots is not None:
        count = shots  # nothing measured: every bit reads 0
    else:
        raise ProtocolError("Raw results measure no bit of the register, and the shot count is unknown.")
    bits = [
        [0] * count
        if _never_measured(column)
        else _bits(column if isinstance(column, list | tuple) else [column])
        for column in columns
    ]
    return list(zip(*bits, strict=True))


#: The types a readout value may have, checked for a whole list at once (``bool`` is its own type).
_REAL = frozenset({int, float})


def _bits(values: Sequence[Any]) -> list[int]:
    """:func:`outcome` of each value, with the checks done for the whole list at once: a task's raw
    results are thousands of values (1,000 shots x 8 bits), and checking each alone cost more than
    everything else the front ends do with them."""
    if set(map(type, values)) <= _REAL and not any(map(math.isnan, values)):
        return [0 if value > 0 else 1 for value in values]
    return [outcome(value) for value in values]  # raises on the first bad value, naming it


def _never_measured(entry: Any) -> bool:
    """QAT's entry for a bit no measurement writes: the integer 0 (a readout is a float)."""
    return type(entry) is int and entry == 0


def as_counts(data: Any) -> Any:
    """A results document with every raw register turned into counts (``{bitstring: count}``,
    bit 0 the leftmost character, as in ``binary_count()``); other entries are kept as they are.

    For showing any task's results as counts (the CLI); a document that is not raw is returned
    unchanged, and so is a register that cannot be read as raw values.
    """
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for register, entry in data.items():
        if isinstance(entry, list) and any(isinstance(column, list | float) for column in entry):
            try:
                shots = register_shots(entry, len(entry))  # all bits unmeasured: left as it is
            except ProtocolError:
                out[register] = entry
                continue
            counts = Counter("".join(str(bit) for bit in shot) for shot in shots)
            out[register] = dict(counts)
        else:
            out[register] = entry
    return out


__all__ = ["as_counts", "outcome", "register_shots"]
