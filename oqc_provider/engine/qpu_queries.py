"""What a session can ask about QPUs without running anything: their records, prices, cost and queues.

:class:`QpuQueries` is the part of :class:`~oqc_provider.engine.sdk.OqcSdk` that only reads: the
default QPU, the QPU list, features, status, calibration, windows, published prices, cost estimates
and budget admission, queues and expected start times. ``OqcSdk`` inherits it and supplies the open
wire client and the price book.

Example:
    >>> import asyncio, os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> from oqc_provider.engine import OqcSdk
    >>> async def main():
    ...     async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
    ...         return sorted((await sdk.queue_status()).keys())
    >>> asyncio.run(main())
    ['qpu:uk:2:d865b5a184']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oqc_provider.engine import queues
from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.cost import CostEstimate, QpuPrice
from oqc_provider.engine.job import Job
from oqc_provider.engine.pricing import PriceBook
from oqc_provider.engine.queues import QueueStatus
from oqc_provider.qcaas.client import QcaasClient


class QpuQueries:
    """The read-only questions a session asks about QPUs (mixed into :class:`OqcSdk`)."""

    # Set by the session's __init__.
    pricing: PriceBook
    _default_qpu_id: str | None

    async def client(self) -> QcaasClient:
        """The open wire client (supplied by the session)."""
        raise NotImplementedError

    @property
    def default_qpu_id(self) -> str | None:
        """The QPU used when a job names none."""
        return self._default_qpu_id

    def set_default_qpu(self, qpu_id: str) -> None:
        """Use ``qpu_id`` when a job names no QPU."""
        self._default_qpu_id = qpu_id

    def _resolve_qpu(self, qpu_id: str | None) -> str:
        if qpu_id:
            return qpu_id
        if self._default_qpu_id:
            return self._default_qpu_id
        raise ValueError(
            "No qpu_id given and no default QPU set.\n"
            "  Pass qpu_id=... to create_job(), or\n"
            "  pass default_qpu_id=... to OqcSdk(), or\n"
            "  call sdk.set_default_qpu(...) (see `await sdk.list_qpus()` for ids)."
        )

    async def list_qpus(self) -> list[dict[str, Any]]:
        """The QPUs this session may use, as dicts (``id``, ``name``, ``status``, ``feature_set``...)."""
        records = await (await self.client()).list_qpus()
        return [record.model_dump() for record in records]

    async def get_features(self, qpu_id: str | None = None) -> dict[str, Any]:
        """The QPU's features (qubit count, maximum shots, couplings...)."""
        return await (await self.client()).get_features(self._resolve_qpu(qpu_id))

    async def get_system_status(self, qpu_id: str | None = None) -> Any:
        """The QPU's status document."""
        return await (await self.client()).get_system_status(self._resolve_qpu(qpu_id))

    async def get_calibration(
        self, qpu_id: str | None = None, date_filter: date | datetime | str | None = None
    ) -> Any:
        """The QPU's calibration figures (optionally for one day, ``YYYY-MM-DD``)."""
        return await (await self.client()).get_calibration(self._resolve_qpu(qpu_id), date_filter)

    async def get_next_window(self, qpu_id: str | None = None) -> datetime | None:
        """When the QPU's next execution window starts (legacy servers only)."""
        return await (await self.client()).get_next_window(self._resolve_qpu(qpu_id))

    async def prices(self, *, refresh: bool = False) -> dict[str, QpuPrice]:
        """Each listed QPU's published prices, by id (reused for a minute unless ``refresh``)."""
        return await self.pricing.prices(await self.client(), refresh=refresh)

    async def estimate_cost(self, jobs: Job | CompositeJob | Sequence[Job]) -> CostEstimate:
        """What running ``jobs`` would cost at the registry's prices; nothing is sent.

        Example: ``print(await sdk.estimate_cost(sdk.create_job(program=[p1, p2])))``.
        """
        return await self.pricing.estimate(await self.client(), _as_jobs(jobs))

    async def admit(
        self, jobs: Job | CompositeJob | Sequence[Job], *, max_cost: Decimal | None = None
    ) -> CostEstimate:
        """Check ``jobs`` against ``max_cost`` and the active trackers' budgets, and charge the trackers.

        Every submission does this just before sending; a front end calls it earlier to refuse in
        its caller's thread. Jobs already admitted for their current run are skipped.

        Raises:
            BudgetExceededError: a budget would be crossed (nothing is sent).
            PriceNotPublishedError: a budget is set and a QPU's price is not published.
        """
        return await self.pricing.admit(await self.client(), _as_jobs(jobs), max_cost=max_cost)

    async def queue_status(self, qpu_ids: Sequence[str] | str | None = None) -> dict[str, QueueStatus]:
        """Each QPU's queue and execution windows (``monitoring/qpu_wait_time``), by QPU id
        (``None``: the default QPU's)."""
        if qpu_ids is None or isinstance(qpu_ids, str):
            qpu_ids = [self._resolve_qpu(qpu_ids)]
        return await queues.queue_statuses(await self.client(), qpu_ids)

    async def estimated_starts(self, jobs: Sequence[Job]) -> dict[UUID, datetime | None]:
        """When the service expects each queued job's task to start (``monitoring/task_wait_time``)."""
        return await queues.estimated_starts(await self.client(), jobs)


def _as_jobs(jobs: Job | CompositeJob | Sequence[Job]) -> list[Job]:
    return [jobs] if isinstance(jobs, Job) else list(jobs)


__all__ = ["QpuQueries"]
