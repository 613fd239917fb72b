"""Engine outputs -> pytket ``BackendResult``: the front end's one conversion module.

Programs measure every bit of the circuit into one register ``c`` (see
:mod:`oqc_provider.pytket.programs`), so the service's answer is either

* BinaryCount: ``{"c": {"0110": 12, ...}}``, ``c[0]`` the leftmost character, joint over all bits;
* raw (per-shot, what the backend asks for unless readout mitigation is on):
  ``{"c": [[readout of bit 0 in each shot], [bit 1 ...], ...]}``, QAT's readout values, read as 0
  when above zero and 1 otherwise (:mod:`oqc_provider.qat_results`).

Both become a ``BackendResult`` whose ``c_bits`` are the circuit's own bits, so
``result.get_counts(circuit.bits)`` and ``result.get_counts([Bit("d", 1)])`` work as on any backend.

Example:
    >>> from pytket import Bit
    >>> bits = [Bit("c", 0), Bit("d", 0)]
    >>> backend_result({"c": {"10": 3, "11": 1}}, bits).get_counts()
    Counter({(1, 0): 3, (1, 1): 1})
    >>> raw = backend_result({"c": [[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]]}, bits)
    >>> raw.get_shots().tolist(), raw.get_counts()
    ([[1, 0], [1, 1], [0, 1]], Counter({(0, 1): 1, (1, 0): 1, (1, 1): 1}))
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pytket.backends.backendresult import BackendResult
from pytket.circuit import Bit
from pytket.utils.outcomearray import OutcomeArray

from oqc_provider.pytket.programs import WIRE_CREG
from oqc_provider.qat_results import register_shots
from oqc_provider.qcaas.errors import ProtocolError

logger = logging.getLogger("oqc_provider.pytket")


def backend_result(data: Any, bits: Sequence[Bit], shots: int | None = None) -> BackendResult:
    """The BackendResult for one task's ``results`` document.

    Args:
        data: the task's results, as the engine received them.
        bits: the circuit's own bits, in wire order (``bits[i]`` was measured into ``c[i]``).
        shots: the shots asked for; needed for circuits without classical bits, or none of whose
            bits is measured (their results carry no readout to count).

    Raises:
        ProtocolError: the document is not in either results format, or its widths do not match.
    """
    if not isinstance(data, dict):
        raise ProtocolError(f"Expected a results document keyed by register, got {type(data).__name__}.")
    extra = sorted(set(data) - {WIRE_CREG})
    if extra:
        logger.debug("Ignoring result entries %s (not a measured register).", extra)
    width = len(bits)
    if width == 0:
        return BackendResult(counts=Counter({OutcomeArray.from_readouts([[]]): shots or 0}), c_bits=[])
    register = data.get(WIRE_CREG)
    if isinstance(register, dict):
        return BackendResult(counts=_counts(register, width), c_bits=list(bits))
    if isinstance(register, list):
        return BackendResult(shots=_shots(register, width, shots), c_bits=list(bits))
    raise ProtocolError(
        f"The results have no register {WIRE_CREG!r} in a known format (keys: {sorted(data)})."
    )


def _counts(register: dict[str, Any], width: int) -> Counter[OutcomeArray]:
    counts: Counter[OutcomeArray] = Counter()
    for key, count in register.items():
        if len(key) != width or set(key) - {"0", "1"}:
            raise ProtocolError(f"Result key {key!r} is not a bitstring of the circuit's {width} bits.")
        counts[OutcomeArray.from_readouts([[int(ch) for ch in key]])] += int(count)
    return counts


def _shots(register: list[Any], width: int, shots: int | None) -> OutcomeArray:
    rows = register_shots(register, width, shots)
    if not rows:  # pre- or post-selection kept no shot: an empty table of the register's width
        return OutcomeArray.from_readouts(np.zeros((0, width), dtype=np.uint8))
    return OutcomeArray.from_readouts(rows)  # a 2D array-like of bits


__all__ = ["backend_result"]
