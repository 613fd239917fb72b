"""What a job needs from whatever sends it: the narrow seam between :class:`Job` and :class:`OqcSdk`.

A :class:`~oqc_provider.engine.job.Job` (and a :class:`~oqc_provider.engine.composite.CompositeJob`)
never holds the whole SDK, only this protocol: submit, wait, refresh and cancel in batches, cancel a
replaced run, follow a batch with a progress display, and a client to read one task.
:class:`~oqc_provider.engine.sdk.OqcSdk` implements it; anything else that does can drive jobs too
(a test double, another transport). It is generic in the job type, so this module imports no job
module (no import circle): a Job holds a ``Dispatcher[Job]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from oqc_provider.qcaas.client import QcaasClient

#: Called once with every job of a submission that holds a task id, before any is sent.
AllocationHook = Callable[[Sequence[Any]], None]

JobT_contra = TypeVar("JobT_contra", contravariant=True)


class Dispatcher(Protocol[JobT_contra]):
    """Sends jobs to the service and brings their outcomes back (implemented by ``OqcSdk``)."""

    async def submit_jobs(self, jobs: Sequence[JobT_contra], *, deadline: float | None = None) -> None:
        """Submit in batches; failures are stored on the jobs, never raised; the jobs' events are
        flushed (recorded) once their ids are known, before the submit request."""
        ...

    async def wait_for(
        self, jobs: Sequence[JobT_contra], timeout_s: float | None, *, deadline: float | None = None
    ) -> None:
        """Poll until every job has ended, or raise at the deadline."""
        ...

    async def refresh_jobs(self, jobs: Sequence[JobT_contra]) -> None:
        """Read each job's task once."""
        ...

    async def cancel_jobs(self, jobs: Sequence[JobT_contra]) -> None:
        """Cancel the jobs' runs and record what the server says happened."""
        ...

    def schedule_orphan_cancel(self, job: JobT_contra) -> None:
        """Cancel, soon, a run that ``reconfigure()`` replaced."""
        ...

    def follow(self, composite: Any, progress: bool | None) -> AbstractContextManager[object]:
        """A progress display following a CompositeJob's events while a block runs."""
        ...

    async def client(self) -> QcaasClient:
        """The wire client, opened."""
        ...


__all__ = ["AllocationHook", "Dispatcher"]
