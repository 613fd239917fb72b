"""What both front ends' OpenQASM 2 writers share: exact real literals.

Example:
    >>> qasm2_real(0.1 + 0.2), qasm2_real(1e-20), qasm2_real(float("nan"))
    ('0.30000000000000004', '1.0e-20', None)
"""

from __future__ import annotations

import math


def qasm2_real(value: object) -> str | None:
    """``value`` as an exact OpenQASM 2 real literal, or ``None`` if it is not a finite number.

    ``repr`` round-trips every float exactly; OpenQASM 2 only needs a decimal point in exponent
    forms (``1e-20`` is not an OpenQASM 2 real, ``1.0e-20`` is).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    text = repr(number)
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e", 1)
    return text
