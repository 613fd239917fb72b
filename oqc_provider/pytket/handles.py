"""Persistent result handles, and how engine job states read as pytket circuit statuses.

A handle is ``(store key, child index, QPU id, task id, bit layout)``: all basic types, so
``ResultHandle.from_str(str(handle))`` rebuilds it anywhere. The store key finds the batch in the
local job store (written before anything was sent); the QPU and task id find the task on the
server even without that store (another machine); the bit layout rebuilds the ``BackendResult``
keyed by the circuit's own bits.

Example:
    >>> from pytket import Bit
    >>> from pytket.backends import ResultHandle
    >>> ref = HandleData("batch-1", 0, "qpu:uk:2:d865b5a184", "5f0c...", (Bit("c", 0),))
    >>> HandleData.from_handle(ResultHandle.from_str(str(ref.to_handle()))) == ref
    True
    >>> STATUS_OF_STATE[JobState.SUBMITTED].name
    'QUEUED'
"""

from __future__ import annotations

from dataclasses import dataclass

from pytket.backends import ResultHandle
from pytket.backends.status import StatusEnum
from pytket.circuit import Bit

from oqc_provider.engine.states import JobState
from oqc_provider.pytket.errors import HandleError
from oqc_provider.pytket.programs import decode_bits, encode_bits

#: The types of a handle's fields, in order (pytket's ``_result_id_type``).
RESULT_ID_TYPE: tuple[type, ...] = (str, int, str, str, str)

#: The one place where engine job states become pytket statuses.
STATUS_OF_STATE: dict[JobState, StatusEnum] = {
    JobState.CREATED: StatusEnum.SUBMITTED,  # recorded locally, not yet accepted by the service
    JobState.SUBMITTED: StatusEnum.QUEUED,  # on the service, waiting for the QPU
    JobState.RUNNING: StatusEnum.RUNNING,
    JobState.COMPLETED: StatusEnum.COMPLETED,
    JobState.FAILED: StatusEnum.ERROR,  # failed, rejected or expired: the message says which
    JobState.CANCELLED: StatusEnum.CANCELLED,
    JobState.UNKNOWN: StatusEnum.SUBMITTED,  # a status this client does not know: still polled
}


@dataclass(frozen=True)
class HandleData:
    """What a handle carries."""

    store_key: str
    index: int
    qpu_id: str
    task_id: str
    bits: tuple[Bit, ...]

    def to_handle(self) -> ResultHandle:
        """The pytket ResultHandle."""
        return ResultHandle(self.store_key, self.index, self.qpu_id, self.task_id, encode_bits(self.bits))

    @classmethod
    def from_handle(cls, handle: ResultHandle) -> HandleData:
        """Read a handle made by :meth:`to_handle`.

        Raises:
            HandleError: it was not made by this backend.
        """
        fields = tuple(handle)
        if len(fields) != len(RESULT_ID_TYPE) or not all(
            isinstance(value, kind) and not isinstance(value, bool)
            for value, kind in zip(fields, RESULT_ID_TYPE, strict=True)
        ):
            raise HandleError(
                f"{handle!r} is not an OQCTketBackend handle: expected (store key, index, QPU id, "
                "task id, bit layout)."
            )
        store_key, index, qpu_id, task_id, layout = fields
        try:
            bits = tuple(decode_bits(layout))
        except ValueError as exc:
            raise HandleError(f"{handle!r} has a damaged bit layout: {exc}") from None
        return cls(store_key, index, qpu_id, task_id, bits)


__all__ = ["RESULT_ID_TYPE", "STATUS_OF_STATE", "HandleData"]
