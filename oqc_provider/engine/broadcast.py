"""Broadcasting ``create_job``'s arguments, as OQC's SDK does: lists of one length (or 1) become children.

Example:
    >>> broadcast(program=["p1", "p2"], qpu_id="qpu:a", config=None)
    [('p1', 'qpu:a', None), ('p2', 'qpu:a', None)]
    >>> broadcast(program=["p1", "p2", "p3"], qpu_id=["qpu:a", "qpu:b"], config=None)
    Traceback (most recent call last):
    ...
    ValueError: Cannot broadcast: programs=3, qpu_ids=2. Lengths must be equal or 1.
"""

from __future__ import annotations

from typing import Any

from oqc_provider.settings import MAX_BROADCAST_JOBS

MAX_BROADCAST_ENV = MAX_BROADCAST_JOBS.name


def is_broadcast(*values: Any) -> bool:
    """Whether any of ``values`` is a list (or tuple): ``create_job`` then makes a CompositeJob."""
    return any(isinstance(value, list | tuple) for value in values)


def broadcast(*, program: Any, qpu_id: Any, config: Any) -> list[tuple[Any, Any, Any]]:
    """Each child's ``(program, qpu_id, config)``: every list has the same length or length 1.

    Raises:
        ValueError: lists of different lengths, an empty list, or more children than
            ``OQC_SDK_MAX_BROADCAST_JOBS`` (default 200).
        ConfigurationError: ``OQC_SDK_MAX_BROADCAST_JOBS`` is not a whole number.
    """
    lists = {
        name: value
        for name, value in (("programs", program), ("qpu_ids", qpu_id), ("configs", config))
        if isinstance(value, list | tuple)
    }
    lengths = {name: len(value) for name, value in lists.items()}
    if 0 in lengths.values():
        raise ValueError(f"Cannot create jobs from an empty list ({lengths}).")
    size = max(lengths.values(), default=1)
    if any(n not in (1, size) for n in lengths.values()):
        shape = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"Cannot broadcast: {shape}. Lengths must be equal or 1.")
    limit = max_broadcast()
    if size > limit:
        raise ValueError(f"Maximum broadcast length exceeded: {size} attempted. Limit is {limit}.")

    def pick(value: Any, index: int) -> Any:
        if isinstance(value, list | tuple):
            return value[0] if len(value) == 1 else value[index]
        return value

    return [(pick(program, i), pick(qpu_id, i), pick(config, i)) for i in range(size)]


def max_broadcast() -> int:
    """The most children one broadcast may make (``OQC_SDK_MAX_BROADCAST_JOBS``, default 200).

    Raises:
        ConfigurationError: the variable is set to something other than a whole number >= 1.
    """
    return MAX_BROADCAST_JOBS.read()


__all__ = ["MAX_BROADCAST_ENV", "broadcast", "is_broadcast", "max_broadcast"]
