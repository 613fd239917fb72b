"""The prices the emulator's registry publishes (``price_per_shot`` / ``price_per_task``, protocol §1.2).

Every QPU is free (``"0"``, ``"0"``) unless :attr:`EmulatorSettings.prices` says otherwise, keyed by QPU
id or name; ``None`` publishes a null price (not published), to exercise a client's unknown-price path.
Prices are decimal strings on the wire, as QCaaS sends them.

Example:
    >>> parse_price_option("Lucy=0.00035,0.35"), parse_price_option("qpu:uk:2:1a2b3c4d5e=none")
    (('Lucy', ('0.00035', '0.35')), ('qpu:uk:2:1a2b3c4d5e', (None, None)))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from oqc_provider.devices import DeviceSpec

#: ``(price_per_shot, price_per_task)`` as decimal strings; ``None`` publishes null (no price).
Price = tuple[str | None, str | None]
#: What a QPU with no configured price publishes: the emulator's QPUs are free by default.
FREE: Price = ("0", "0")
_NULL = ("none", "null", "")


def _amount(text: str | None, what: str) -> str | None:
    if text is None or text.strip().lower() in _NULL:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise ValueError(
            f"{what} must be a decimal number at least 0 (or 'none' for no price), not {text!r}."
        )
    return text.strip()


def parse_price_option(text: str) -> tuple[str, Price]:
    """``--price QPU=PER_SHOT,PER_TASK`` as ``(qpu, (per_shot, per_task))``; ``QPU=none``: null.

    Raises:
        ValueError: not in that form, or a price that is not a decimal at least 0.
    """
    qpu, sep, amounts = text.partition("=")
    if not sep or not qpu.strip():
        raise ValueError(f"A price is QPU=PER_SHOT,PER_TASK (or QPU=none), not {text!r}.")
    parts = amounts.split(",")
    if len(parts) == 1 and parts[0].strip().lower() in _NULL:
        return qpu.strip(), (None, None)
    if len(parts) != 2:
        raise ValueError(f"A price is QPU=PER_SHOT,PER_TASK (two decimals, or 'none'), not {text!r}.")
    return qpu.strip(), (_amount(parts[0], "PER_SHOT"), _amount(parts[1], "PER_TASK"))


def resolve_prices(prices: Mapping[str, Price], devices: Iterable[DeviceSpec]) -> dict[str, Price]:
    """``prices`` keyed by QPU id (names resolved, case-insensitively), each amount checked.

    Raises:
        ValueError: a QPU the emulator does not have, or a bad amount.
    """
    by_key = {key: spec for spec in devices for key in (spec.qpu_id.lower(), spec.name.lower())}
    resolved: dict[str, Price] = {}
    for key, (per_shot, per_task) in prices.items():
        spec = by_key.get(key.strip().lower())
        if spec is None:
            known = ", ".join(sorted({f"{s.name} ({s.qpu_id})" for s in by_key.values()}))
            raise ValueError(f"No QPU {key!r} to price in this emulator. Known QPUs: {known}.")
        resolved[spec.qpu_id] = (_amount(per_shot, "price_per_shot"), _amount(per_task, "price_per_task"))
    return resolved


__all__ = ["FREE", "Price", "parse_price_option", "resolve_prices"]
