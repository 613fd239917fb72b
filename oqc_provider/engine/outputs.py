"""What a run of a job produced: a :class:`JobResult` or a :class:`JobError`, and collections of them.

Every output carries the settings that produced it (program, QPU, the compiler config actually
sent), so it can serve as a memento to re-run from: ``await output.reexecute()``.

Example:
    >>> from oqc_provider.engine.outputs import JobError, JobOutputProxy, JobResult
    >>> error = JobError(error_code=400, error_message="bad")
    >>> proxy = JobOutputProxy([JobResult(data={"c": {"0": 5}}), error])
    >>> len(proxy.results()), proxy.errors().one.short
    (1, '(400)bad')
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Protocol, TypeVar, overload
from uuid import UUID

from oqc_provider.engine.errors import JobFailed
from oqc_provider.qcaas.compiler_config import CompilerConfig

T = TypeVar("T")


class RerunnableJob(Protocol):
    """What an output needs from its job (a :class:`~oqc_provider.engine.job.Job`) to run it again.

    A protocol rather than the Job class, so this module stays below :mod:`.job` (no import circle).
    """

    def reconfigure(self, memento: JobOutput | None = None, **overrides: Any) -> Any:
        """Take this output's settings for the next run."""
        ...

    def execute(
        self, *, timeout_s: float | None = 120.0, raise_on_error: bool | None = None
    ) -> Awaitable[JobOutputProxy]:
        """Run to the end."""
        ...

    def submit(self, *, timeout_s: float = 30.0) -> Awaitable[RerunnableJob]:
        """Send without waiting."""
        ...


class JobOutput:
    """The outcome of one run, with the settings that produced it."""

    __slots__ = (
        "compiler_config",
        "job",
        "metadata",
        "metrics",
        "program",
        "qpu_id",
        "received",
        "task_id",
        "timings",
    )

    def __init__(
        self,
        *,
        qpu_id: str | None = None,
        task_id: UUID | None = None,
        compiler_config: CompilerConfig | None = None,
        program: str | None = None,
        received: datetime | None = None,
        timings: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        job: RerunnableJob | None = None,
    ) -> None:
        self.qpu_id = qpu_id
        self.task_id = task_id
        self.compiler_config = compiler_config
        self.program = program
        self.received = received or datetime.now(timezone.utc)
        self.timings = timings
        self.metrics = metrics
        self.metadata = metadata
        self.job = job

    def __bool__(self) -> bool:
        """True for an error: ``if job.error:`` reads naturally (the SDK's convention)."""
        return False

    @property
    def ok(self) -> bool:
        """Whether this output is a successful result."""
        return not bool(self)

    @property
    def is_error(self) -> bool:
        """Whether this output is an error."""
        return bool(self)

    def _parent(self) -> RerunnableJob:
        if self.job is None:
            raise RuntimeError("This output is not attached to a job; load it through OqcSdk.load().")
        return self.job

    async def reexecute(self) -> JobOutputProxy:
        """Restore this output's settings on its job and run it again; returns the new outputs."""
        job = self._parent()
        job.reconfigure(memento=self)
        return await job.execute()

    async def resubmit(self) -> RerunnableJob:
        """Restore this output's settings on its job and submit without waiting; returns the job."""
        job = self._parent()
        job.reconfigure(memento=self)
        return await job.submit()

    def __await__(self) -> Generator[Any, None, JobOutput]:
        """An output is awaitable and resolves to itself, as in OQC's SDK."""
        if False:  # pragma: no cover - makes this a generator
            yield
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this output (``compiler_config`` as its tagged JSON text)."""
        return {
            "kind": "error" if self.is_error else "result",
            "qpu_id": self.qpu_id,
            "task_id": str(self.task_id) if self.task_id else None,
            "program": self.program,
            "received": self.received.isoformat() if self.received else None,
            "config_json": self.compiler_config.to_json() if self.compiler_config else None,
            "timings": self.timings,
            "metrics": self.metrics,
            "metadata": self.metadata,
            **self._payload(),
        }

    def to_json(self) -> str:
        """This output as JSON, without the compiler config (as OQC's SDK)."""
        data = self.to_dict()
        data.pop("config_json")
        return json.dumps(data)

    @staticmethod
    def from_json(text: str | dict[str, Any], job: RerunnableJob | None = None) -> JobOutput:
        """Rebuild an output from :meth:`to_json` / :meth:`to_dict`."""
        data = json.loads(text) if isinstance(text, str) else dict(text)
        common: dict[str, Any] = {
            "qpu_id": data.get("qpu_id"),
            "task_id": UUID(data["task_id"]) if data.get("task_id") else None,
            "program": data.get("program"),
            "received": datetime.fromisoformat(data["received"]) if data.get("received") else None,
            "compiler_config": CompilerConfig.from_json(data["config_json"])
            if data.get("config_json")
            else None,
            "timings": data.get("timings"),
            "metrics": data.get("metrics"),
            "metadata": data.get("metadata"),
            "job": job,
        }
        if data.get("kind") == "error":
            return JobError(
                error_code=data.get("error_code"), error_message=data.get("error_message"), **common
            )
        return JobResult(data=data.get("data"), **common)

    def _payload(self) -> dict[str, Any]:
        return {}

    def _identity(self) -> tuple[Any, ...]:
        return (type(self).__name__, self.qpu_id, self.task_id, self.program)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobOutput) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((self.qpu_id, self.task_id, self.program))


class JobResult(JobOutput):
    """A successful run: ``data`` is the server's results, keyed by classical register.

    With the default BinaryCount format each register maps bitstrings (``c[0]`` leftmost) to counts.
    """

    __slots__ = ("data",)

    def __init__(self, *, data: Any = None, **common: Any) -> None:
        super().__init__(**common)
        self.data = data

    def _payload(self) -> dict[str, Any]:
        return {"data": self.data}

    def _identity(self) -> tuple[Any, ...]:
        return (*super()._identity(), json.dumps(self.data, sort_keys=True, default=str))

    __hash__ = JobOutput.__hash__

    def __repr__(self) -> str:
        keys = list(self.data) if isinstance(self.data, dict) else []
        received = self.received.isoformat() if self.received else None
        return (
            f"JobResult(task_id={self.task_id}, qpu_id={self.qpu_id!r}, data_keys={keys}, "
            f"received={received!r})"
        )


class JobError(JobOutput):
    """A failed run: the server's error code and message (or the HTTP status of a failed request)."""

    __slots__ = ("error_code", "error_message")

    def __init__(
        self, *, error_code: int | None = -1, error_message: str | None = None, **common: Any
    ) -> None:
        super().__init__(**common)
        self.error_code = error_code
        self.error_message = error_message

    def __bool__(self) -> bool:
        # Any JobError is an error, even one without a code (OQC's SDK counts those as ok).
        return True

    @property
    def short(self) -> str:
        """``"(code)message"``."""
        return f"({self.error_code}){self.error_message}"

    def to_exception(self) -> JobFailed:
        """This error as a :class:`JobFailed` exception."""
        return JobFailed(self.task_id or "<unsubmitted>", self.qpu_id, self.error_code, self.error_message)

    def _payload(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "error_message": self.error_message}

    def __repr__(self) -> str:
        return f"JobError(task_id={self.task_id}, qpu_id={self.qpu_id!r}, error={self.short!r})"


class AttrPolicy(Enum):
    """What ``proxy.<attribute>`` does when the proxy holds several outputs."""

    RAISE = "raise"
    WARN_FIRST = "warn_first"
    FIRST = "first"


class JobOutputProxy(Sequence[JobOutput]):
    """A read-only sequence of outputs with query helpers; the same API for a Job and a CompositeJob.

    Attribute access (``proxy.data``) forwards to the single output when there is exactly one.
    """

    def __init__(
        self,
        items: JobOutput | Iterable[JobOutput] | None = None,
        attr_policy: AttrPolicy = AttrPolicy.RAISE,
    ) -> None:
        if items is None:
            self._items: list[JobOutput] = []
        elif isinstance(items, JobOutput):
            self._items = [items]
        else:
            self._items = list(items)
        self._attr_policy = attr_policy

    # --- sequence ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[JobOutput]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> JobOutput: ...
    @overload
    def __getitem__(self, index: slice) -> JobOutputProxy: ...
    def __getitem__(self, index: int | slice) -> JobOutput | JobOutputProxy:
        if isinstance(index, slice):
            return JobOutputProxy(self._items[index], self._attr_policy)
        return self._items[index]

    def append(self, item: JobOutput) -> None:
        """Add an output at the end."""
        self._items.append(item)

    def prepend(self, item: JobOutput) -> None:
        """Add an output at the start."""
        self._items.insert(0, item)

    # --- accessors -----------------------------------------------------------------------------

    @property
    def first(self) -> JobOutput:
        """The first output; ``IndexError("No outputs")`` when empty."""
        if not self._items:
            raise IndexError("No outputs")
        return self._items[0]

    @property
    def last(self) -> JobOutput:
        """The last output; ``IndexError("No outputs")`` when empty."""
        if not self._items:
            raise IndexError("No outputs")
        return self._items[-1]

    @property
    def one(self) -> JobOutput:
        """The only output; ``ValueError`` unless there is exactly one."""
        if len(self._items) != 1:
            raise ValueError(f"Expected exactly 1 output, got {len(self._items)}")
        return self._items[0]

    def all(self) -> list[JobOutput]:
        """Every output, as a list."""
        return list(self._items)

    def map(self, fn: Callable[[JobOutput], T]) -> list[T]:
        """``fn`` applied to every output."""
        return [fn(item) for item in self._items]

    def filter(self, predicate: Callable[[JobOutput], bool]) -> JobOutputProxy:
        """The outputs for which ``predicate`` is true."""
        return JobOutputProxy([i for i in self._items if predicate(i)], self._attr_policy)

    def results(self) -> JobOutputProxy:
        """Only the successful results."""
        return self.filter(lambda item: item.ok)

    def errors(self) -> JobOutputProxy:
        """Only the errors."""
        return self.filter(lambda item: item.is_error)

    @property
    def is_single_instance(self) -> bool:
        """Whether there is exactly one output."""
        return len(self._items) == 1

    @property
    def any_error(self) -> bool:
        """Whether any output is an error."""
        return any(item.is_error for item in self._items)

    @property
    def all_ok(self) -> bool:
        """Whether every output is a result."""
        return all(item.ok for item in self._items)

    def raise_for_error(self) -> JobOutputProxy:
        """Raise :class:`JobFailed` (a RuntimeError) for the errors among the outputs; else return self."""
        failures = [item.to_exception() for item in self._items if isinstance(item, JobError)]
        if failures:
            first = failures[0]
            raise JobFailed(first.task_id, first.qpu_id, first.code, first.details, failures)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        items = self.__dict__.get("_items", [])
        if len(items) == 1:
            return getattr(items[0], name)
        if not items:
            raise AttributeError(f"No outputs to read {name!r} from")
        if self._attr_policy is AttrPolicy.RAISE:
            raise AttributeError(
                f"{len(items)} outputs: say which one, e.g. proxy.first.{name} "
                f"or proxy.map(lambda o: o.{name})"
            )
        if self._attr_policy is AttrPolicy.WARN_FIRST:
            warnings.warn(f"{len(items)} outputs; reading {name!r} from the first", UserWarning, stacklevel=2)
        return getattr(items[0], name)

    def __repr__(self) -> str:
        return f"JobOutputProxy({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JobOutputProxy):
            return self._items == other._items
        if isinstance(other, list):
            return self._items == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
