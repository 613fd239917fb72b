"""What a run costs, from the prices the service's registry publishes: the one place that prices tasks.

QCaaS publishes two prices per QPU in its registry, ``price_per_shot`` and ``price_per_task``, as decimal
strings and with no currency: amounts here are *credits as the registry prices them*, kept as
:class:`~decimal.Decimal` (never float, so sums are exact). A task costs
``price_per_task + shots * price_per_shot``. A QPU whose registry entry has no price (missing or null)
is **not published**: its tasks cost ``None`` (unknown), never 0, and so does any total they are in.

Example:
    >>> from datetime import datetime, timezone
    >>> read = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> lucy = QpuPrice("qpu:uk:2:1a2b3c4d5e", Decimal("0.00035"), Decimal("0.35"), read_at=read)
    >>> tasks = [("qpu:uk:2:1a2b3c4d5e", 1000), ("qpu:uk:2:1a2b3c4d5e", 200)]
    >>> estimate = CostEstimate.of(tasks, {lucy.qpu_id: lucy})
    >>> estimate.total, [task.cost for task in estimate.tasks]
    (Decimal('1.12000'), [Decimal('0.70000'), Decimal('0.42000')])
    >>> print(estimate)
    2 task(s), 1,200 shots: 1.12000 credits (as the registry prices them)
      qpu:uk:2:1a2b3c4d5e: 2 task(s), 1,200 shots, 0.00035 per shot + 0.35 per task = 1.12000
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from oqc_provider.qcaas.errors import ConfigurationError

#: How amounts are named wherever they are shown: QCaaS publishes no currency.
UNIT = "credits (as the registry prices them)"
#: What an unknown price shows as.
NOT_PUBLISHED = "not published"


def parse_price(raw: Any) -> Decimal | None:
    """A registry price (a decimal string) as a Decimal; ``None`` (or missing) when not published.

    A value that is not a finite, non-negative decimal counts as not published rather than as 0.

    Example:
        >>> parse_price("0.00035"), parse_price(None), parse_price("free")
        (Decimal('0.00035'), None, None)
    """
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def as_amount(value: Decimal | str | int | float, what: str) -> Decimal:
    """A user's amount (a budget, ``max_cost``) as an exact Decimal.

    A float is read as the digits it prints (``0.1`` is ``Decimal("0.1")``), not its binary value.

    Raises:
        ConfigurationError: not a finite number at least 0.

    Example:
        >>> as_amount("2.50", "budget"), as_amount(0.1, "max_cost"), as_amount(3, "budget")
        (Decimal('2.50'), Decimal('0.1'), Decimal('3'))
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int | float):
        raise ConfigurationError(f"{what} must be a number of credits (Decimal, str, int), not {value!r}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigurationError(f"{what} must be a finite number of credits, got {value!r}.")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ConfigurationError(f"{what} must be a number of credits, got {value!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigurationError(f"{what} must be a finite number of credits, at least 0; got {value!r}.")
    return amount


def show(amount: Decimal | None) -> str:
    """An amount as messages and tables show it ("not published" when unknown)."""
    return NOT_PUBLISHED if amount is None else f"{amount:f}"


@dataclass(frozen=True)
class QpuPrice:
    """One QPU's prices as the registry published them when read.

    Attributes:
        qpu_id: the QPU.
        per_shot: the price of one shot, or ``None`` if not published.
        per_task: the price of one task, or ``None`` if not published.
        read_at: when the registry was read (UTC).
    """

    qpu_id: str
    per_shot: Decimal | None
    per_task: Decimal | None
    read_at: datetime

    @property
    def published(self) -> bool:
        """Whether both prices are known."""
        return self.per_shot is not None and self.per_task is not None

    def task_cost(self, shots: int) -> Decimal | None:
        """One task of ``shots`` shots, or ``None`` when a price is not published."""
        if self.per_shot is None or self.per_task is None:
            return None
        return self.per_task + self.per_shot * shots

    @classmethod
    def unknown(cls, qpu_id: str, read_at: datetime) -> QpuPrice:
        """A QPU the registry did not list: nothing published."""
        return cls(qpu_id, None, None, read_at)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (amounts as strings, so nothing is rounded)."""
        return {
            "qpu_id": self.qpu_id,
            "per_shot": None if self.per_shot is None else str(self.per_shot),
            "per_task": None if self.per_task is None else str(self.per_task),
            "read_at": self.read_at.isoformat(),
        }


def prices_from_registry(
    records: Iterable[Mapping[str, Any]], read_at: datetime | None = None
) -> dict[str, QpuPrice]:
    """Every listed QPU's prices, from registry entries (``id``, ``price_per_shot``, ``price_per_task``).

    Example:
        >>> prices = prices_from_registry([{"id": "q1", "price_per_shot": "0.1", "price_per_task": None}])
        >>> prices["q1"].per_shot, prices["q1"].published
        (Decimal('0.1'), False)
    """
    when = read_at or datetime.now(timezone.utc)
    return {
        str(record["id"]): QpuPrice(
            str(record["id"]),
            parse_price(record.get("price_per_shot")),
            parse_price(record.get("price_per_task")),
            when,
        )
        for record in records
    }


@dataclass(frozen=True)
class TaskCost:
    """The estimated cost of one task: its QPU, shots and price (``None`` when not published)."""

    qpu_id: str
    shots: int
    cost: Decimal | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (the amount as a string)."""
        return {
            "qpu_id": self.qpu_id,
            "shots": self.shots,
            "cost": None if self.cost is None else str(self.cost),
        }


@dataclass(frozen=True)
class CostEstimate:
    """What a set of tasks will cost, before anything is sent.

    Attributes:
        tasks: each task's cost, in submission order.
        prices: the prices used, by QPU id (each says when it was read).
        total: the sum, exact; ``None`` when any task's QPU has no price published.
        priced_total: the sum over the tasks whose price is known.
    """

    tasks: tuple[TaskCost, ...]
    prices: Mapping[str, QpuPrice] = field(default_factory=dict)

    @classmethod
    def of(cls, tasks: Iterable[tuple[str, int]], prices: Mapping[str, QpuPrice]) -> CostEstimate:
        """The estimate of ``(qpu_id, shots)`` tasks under ``prices`` (a QPU not in them is unpriced)."""
        now = datetime.now(timezone.utc)
        costs: list[TaskCost] = []
        used: dict[str, QpuPrice] = {}
        for qpu_id, shots in tasks:
            price = used.get(qpu_id) or prices.get(qpu_id) or QpuPrice.unknown(qpu_id, now)
            used[qpu_id] = price
            costs.append(TaskCost(qpu_id, shots, price.task_cost(shots)))
        return cls(tuple(costs), used)

    @property
    def total(self) -> Decimal | None:
        """Every task's cost added up, or ``None`` if any is not published."""
        if any(task.cost is None for task in self.tasks):
            return None
        return self.priced_total

    @property
    def priced_total(self) -> Decimal:
        """The tasks with a published price, added up."""
        return sum((task.cost for task in self.tasks if task.cost is not None), Decimal(0))

    @property
    def unpriced_qpus(self) -> list[str]:
        """QPUs in this estimate whose prices are not published."""
        return sorted({task.qpu_id for task in self.tasks if task.cost is None})

    @property
    def shots(self) -> int:
        """Shots over every task."""
        return sum(task.shots for task in self.tasks)

    @property
    def read_at(self) -> datetime | None:
        """When the oldest price used was read."""
        return min((price.read_at for price in self.prices.values()), default=None)

    def per_qpu(self) -> dict[str, tuple[int, int, Decimal | None]]:
        """``{qpu_id: (tasks, shots, cost)}``; cost ``None`` when that QPU's price is not published."""
        out: dict[str, tuple[int, int, Decimal | None]] = {}
        for task in self.tasks:
            count, shots, cost = out.get(task.qpu_id, (0, 0, Decimal(0)))
            cost = None if cost is None or task.cost is None else cost + task.cost
            out[task.qpu_id] = (count + 1, shots + task.shots, cost)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``oqc-provider run --estimate --json``): amounts as strings, nothing rounded."""
        return {
            "unit": UNIT,
            "total": None if self.total is None else str(self.total),
            "shots": self.shots,
            "unpriced_qpus": self.unpriced_qpus,
            "prices": {qpu: price.to_json() for qpu, price in self.prices.items()},
            "tasks": [task.to_json() for task in self.tasks],
        }

    def __str__(self) -> str:
        total = self.total
        amount = (
            f"{total:f} {UNIT}"
            if total is not None
            else f"cost unknown (no price published for {', '.join(self.unpriced_qpus)})"
        )
        lines = [f"{len(self.tasks)} task(s), {self.shots:,} shots: {amount}"]
        for qpu_id, (count, shots, cost) in self.per_qpu().items():
            price = self.prices[qpu_id]
            rate = (
                f"{show(price.per_shot)} per shot + {show(price.per_task)} per task"
                if price.published
                else "price not published by the registry"
            )
            lines.append(f"  {qpu_id}: {count} task(s), {shots:,} shots, {rate} = {show(cost)}")
        return "\n".join(lines)


#: Where a job's estimated cost is kept (its annotations are saved in every snapshot).
COST_ANNOTATION = "cost"


def recorded_cost(annotations: Mapping[str, Any]) -> Decimal | None:
    """The estimate a job recorded in its annotations when submitted; ``None`` when none is known.

    Snapshots saved before estimates were recorded have no ``cost`` annotation: they read as unknown.

    Example:
        >>> recorded_cost({"cost": {"estimate": "0.70000"}}), recorded_cost({})
        (Decimal('0.70000'), None)
    """
    record = annotations.get(COST_ANNOTATION)
    return parse_price(record.get("estimate")) if isinstance(record, Mapping) else None


def total_cost(costs: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of several jobs' costs, or ``None`` if any is unknown (or there are none)."""
    total = Decimal(0)
    seen = False
    for cost in costs:
        if cost is None:
            return None
        total += cost
        seen = True
    return total if seen else None


__all__ = [
    "COST_ANNOTATION",
    "NOT_PUBLISHED",
    "UNIT",
    "CostEstimate",
    "QpuPrice",
    "TaskCost",
    "as_amount",
    "parse_price",
    "prices_from_registry",
    "recorded_cost",
    "show",
    "total_cost",
]
