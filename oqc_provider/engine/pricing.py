"""A session's price book: the registry's prices, read when needed, and the admission of each submission.

Every submission the engine makes goes through :meth:`PriceBook.admit` just before it is sent (from
``OqcSdk.submit_jobs``, or earlier from a front end that wants a refusal raised in the caller's thread):
its jobs are priced, checked against ``max_cost`` and the active trackers' budgets, and charged to the
trackers. Jobs already admitted for their current run are not charged twice.

Prices are read from the registry (``GET /admin/qpu`` or ``/qpus``) and kept for
:data:`PRICE_MAX_AGE_S` seconds, so a loop of small runs costs one registry read a minute, not one a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from oqc_provider.engine.cost import CostEstimate, QpuPrice, prices_from_registry
from oqc_provider.engine.polling import within
from oqc_provider.engine.states import JobState
from oqc_provider.engine.tracker import budget_active, check_and_charge, release
from oqc_provider.errors import OqcProviderError

if TYPE_CHECKING:
    from oqc_provider.engine.job import Job
    from oqc_provider.qcaas.client import QcaasClient

logger = logging.getLogger("oqc_provider.engine")

#: Seconds a registry read of the prices is reused for.
PRICE_MAX_AGE_S = 60.0


class PriceBook:
    """The prices one session last read, and the admission of its submissions."""

    def __init__(self, max_age_s: float = PRICE_MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._prices: dict[str, QpuPrice] | None = None
        self._read_monotonic = 0.0

    async def prices(self, client: QcaasClient, *, refresh: bool = False) -> dict[str, QpuPrice]:
        """Every listed QPU's prices (read from the registry unless read in the last ``max_age_s``)."""
        fresh = time.monotonic() - self._read_monotonic < self.max_age_s
        if self._prices is None or refresh or not fresh:
            records = await client.list_qpus()
            self._prices = prices_from_registry(record.model_dump() for record in records)
            self._read_monotonic = time.monotonic()
        return dict(self._prices)

    async def estimate(self, client: QcaasClient, jobs: Sequence[Job]) -> CostEstimate:
        """What ``jobs`` would cost, one task each, at the registry's prices. Sends nothing else."""
        prices = await self.prices(client)
        return CostEstimate.of(((job.qpu_id, job.config_to_send().shots) for job in jobs), prices)

    async def admit(
        self,
        client: QcaasClient,
        jobs: Sequence[Job],
        *,
        max_cost: Decimal | None = None,
        deadline: float | None = None,
    ) -> CostEstimate:
        """Price ``jobs`` not yet admitted for their current run, check the budgets, charge the trackers.

        When no budget is active and the prices cannot be read (by ``deadline``, a
        ``time.monotonic()`` instant), the jobs go on at an unknown cost (a warning says so): a
        registry hiccup must not stop work nobody limited.

        Raises:
            BudgetExceededError: ``max_cost`` or an active tracker's budget would be crossed.
            PriceNotPublishedError: a budget is set and a QPU's price is not published.
            OqcProviderError, TimeoutError: a budget is set and the prices could not be read.
        """
        fresh = [job for job in jobs if job.cost_charge is None]
        if not fresh:
            return CostEstimate(())
        try:
            estimate = await within(deadline, self.estimate(client, fresh))
        except (OqcProviderError, TimeoutError) as exc:
            if budget_active(max_cost):
                raise
            logger.warning(
                "Could not read the registry's prices (%s): cost of %d task(s) unknown", exc, len(fresh)
            )
            estimate = CostEstimate.of(((job.qpu_id, job.config_to_send().shots) for job in fresh), {})
        check_and_charge(fresh, estimate, max_cost=max_cost)
        return estimate

    @staticmethod
    def settle(jobs: Sequence[Job]) -> None:
        """After a submission: take back the charge of each job that provably never reached the server.

        A job left CREATED (and not ``submit_uncertain``), or FAILED because the service refused it,
        ran nothing; it is charged again if it is sent later.
        """
        for job in jobs:
            unsent = job.state is JobState.CREATED and not job.submit_uncertain
            if unsent or job.state is JobState.FAILED:
                release(job)


__all__ = ["PRICE_MAX_AGE_S", "PriceBook"]
