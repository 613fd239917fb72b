"""Seeded fault injection: the emulator misbehaves the way networks and busy services do.

A :class:`FaultPlan` says how often (``rate``), how (``kinds``), where (``routes``) and when
(``phases``) requests fail. ``"before"`` faults answer instead of the handler: the request did
nothing. ``"after"`` faults run the handler first and then lose or spoil its answer: on a submit,
the tasks are stored although the client sees a failure. That ambiguous case is the one a client
must survive without running a program twice, so the plan can produce it on purpose.

Kinds:

* ``"500"``, ``"502"``, ``"503"``: an error body in the route's mode.
* ``"429"``: too many requests, with a ``Retry-After`` header.
* ``"drop"``: the connection is closed in the middle of the answer. Served by uvicorn the client
  sees a broken connection; over ``httpx.ASGITransport`` it sees :class:`DroppedConnection`, an
  ``httpx.RemoteProtocolError``, as it would from a real socket.
* ``"slow"``: the answer comes ``slow_seconds`` late, past a client's read timeout.
* ``"401"``: the v4 gateway's expired-token answer, ``{"detail": "Token has expired"}``.
* ``"garbled"``: a 200 whose body is not JSON (a proxy's page, a cut answer).
* ``"shape"``: a 200 with JSON of a shape no route answers (a version mismatch). Like a lost
  answer, neither proves what the server did: ``"after"``, a submit's tasks are stored.

Decisions come from one ``random.Random(seed)``, so a run is reproducible for a given request
order. Counters of what was injected are served by ``GET /_emulator/stats``.

Example:
    >>> plan = FaultPlan.parse(rate=0.2, seed=7, kinds="503,429,drop", routes="submit,all_info")
    >>> plan.kinds, sorted(plan.routes or ())
    (('503', '429', 'drop'), ['all_info', 'submit'])
    >>> weighted = FaultPlan.parse(rate=0.1, kinds="503:3,drop:1", routes="submit:0.5,all_info")
    >>> weighted.weights, weighted.rate_for("submit"), weighted.rate_for("all_info")
    ((3.0, 1.0), 0.5, 0.1)
    >>> route_name("/{qpu_hex}/tasks/{task_id}/all_info", "GET"), route_name("/tasks", "POST")
    ('all_info', 'allocate')
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from oqc_provider.errors import OqcProviderError

FAULT_KINDS = ("500", "502", "503", "429", "drop", "slow", "401", "garbled", "shape")
#: The kinds a network and a busy service produce (an expired token is not a network fault).
NETWORK_KINDS = ("500", "502", "503", "429", "drop", "slow")
PHASES = ("before", "after")

_STATUS_MESSAGES = {
    500: "Internal server error (injected fault).",
    502: "Bad gateway (injected fault).",
    503: "Service temporarily unavailable (injected fault).",
    429: "Too many requests (injected fault); retry later.",
}


class FaultPlanError(OqcProviderError, ValueError):
    """A fault plan was given an unknown kind, phase or an impossible rate."""


def route_name(template: str, method: str) -> str:
    """A short, mode-independent name for a route: ``submit``, ``all_info``, ``allocate``, ``health``...

    Legacy per-QPU and v4 root routes share names, so one ``--fault-routes`` list covers both.
    """
    parts = [p for p in template.split("/") if p and not p.startswith("{")]
    if parts[:1] == ["_emulator"]:
        return "emulator"
    if template in ("/admin/version", "/healthz"):
        return "health"
    if parts == ["tasks"]:
        return "allocate" if method == "POST" else "list_tasks"
    if parts == ["tasks", "cancel_many"]:
        return "cancel"
    if parts in (["admin", "qpu"], ["qpus"]):
        return "qpus"
    return parts[-1] if parts else "<root>"


@dataclass(frozen=True)
class FaultPlan:
    """What to break, how often and where.

    Attributes:
        rate: the probability that a request to a chosen route is faulted (0 to 1).
        seed: seeds the decisions; ``None`` draws a seed at random.
        kinds: the kinds to pick from (see the module docstring).
        weights: relative weights of ``kinds`` (same length); ``None`` picks them evenly.
        routes: route names to fault (:func:`route_name`); ``None`` means every route but the
            emulator's own ``/_emulator`` ones.
        route_rates: a rate per route name, overriding ``rate`` for that route.
        phases: ``"before"`` (nothing done) and/or ``"after"`` (done, answer lost).
        retry_after: seconds sent in the ``Retry-After`` header of a 429.
        slow_seconds: how late a ``"slow"`` answer comes.
        limit: inject at most this many faults in all (``None``: no limit), e.g. "the first
            submit fails after storing its tasks".
    """

    rate: float = 0.0
    seed: int | None = None
    kinds: tuple[str, ...] = NETWORK_KINDS
    weights: tuple[float, ...] | None = None
    routes: frozenset[str] | None = None
    route_rates: dict[str, float] | None = None
    phases: tuple[str, ...] = PHASES
    retry_after: float = 0.5
    slow_seconds: float = 3.0
    limit: int | None = None

    def __post_init__(self) -> None:
        for rate in (self.rate, *(self.route_rates or {}).values()):
            if not 0.0 <= rate <= 1.0:
                raise FaultPlanError(f"Fault rate must be between 0 and 1, got {rate}.")
        if self.weights is not None and (
            len(self.weights) != len(self.kinds) or any(w < 0 for w in self.weights) or not any(self.weights)
        ):
            raise FaultPlanError(f"Give one non-negative weight per kind {self.kinds}, got {self.weights}.")
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown or not self.kinds:
            given = unknown or "(none given)"
            raise FaultPlanError(f"Unknown fault kind(s) {given}; choose from {FAULT_KINDS}.")
        if not self.phases or set(self.phases) - set(PHASES):
            raise FaultPlanError(f"Fault phases must be among {PHASES}, got {self.phases}.")
        if self.retry_after < 0 or self.slow_seconds < 0:
            raise FaultPlanError("retry_after and slow_seconds must not be negative.")

    @classmethod
    def parse(
        cls,
        *,
        rate: float,
        seed: int | None = None,
        kinds: str | Iterable[str] | None = None,
        routes: str | Iterable[str] | None = None,
        **options: Any,
    ) -> FaultPlan:
        """A plan from command-line style values: ``kinds="503,429,drop"``, ``routes="submit,all_info"``."""

        def split(value: str | Iterable[str] | None) -> dict[str, float | None] | None:
            """``"a,b:0.5"`` -> ``{"a": None, "b": 0.5}`` (the number after ``:`` is optional)."""
            if value is None:
                return None
            items = value.split(",") if isinstance(value, str) else list(value)
            parsed: dict[str, float | None] = {}
            for item in (item.strip() for item in items):
                if not item:
                    continue
                name, _, number = item.partition(":")
                try:
                    parsed[name.strip()] = float(number) if number.strip() else None
                except ValueError:
                    raise FaultPlanError(f"{item!r} should be NAME or NAME:NUMBER.") from None
            return parsed or None

        parsed_kinds = split(kinds)
        parsed_routes = split(routes)
        weights = None
        if parsed_kinds and any(w is not None for w in parsed_kinds.values()):
            weights = tuple(1.0 if w is None else w for w in parsed_kinds.values())
        route_rates = None
        if parsed_routes and any(r is not None for r in parsed_routes.values()):
            route_rates = {name: r for name, r in parsed_routes.items() if r is not None}
        return cls(
            rate=rate,
            seed=seed,
            kinds=tuple(parsed_kinds) if parsed_kinds else NETWORK_KINDS,
            weights=weights,
            routes=None if parsed_routes is None or "all" in parsed_routes else frozenset(parsed_routes),
            route_rates=route_rates,
            **options,
        )

    def rate_for(self, route: str) -> float:
        """The fault rate of ``route`` (its own rate when given, else ``rate``)."""
        return (self.route_rates or {}).get(route, self.rate)


@dataclass(frozen=True)
class Fault:
    """One decision: inject ``kind`` in ``phase``."""

    kind: str
    phase: str


class DroppedConnection(httpx.RemoteProtocolError):
    """The emulator dropped the connection on purpose (an injected ``"drop"`` fault).

    An ``httpx.RemoteProtocolError``, so that a client on ``httpx.ASGITransport`` (which re-raises
    what the app raised) sees the same transport error as one on a real socket.
    """


class _DropResponse(Response):
    """Starts an answer it never finishes, so the server closes the connection mid-response.

    The start is sent first on purpose: Starlette's error middleware would otherwise turn the
    exception into a tidy 500, and uvicorn only closes the socket for a response already begun.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
            }
        )
        raise DroppedConnection("Connection dropped by the emulator (injected fault).")


@dataclass
class PlannedFaults:
    """Applies a :class:`FaultPlan` and counts what it did (thread-safe: uvicorn may share it)."""

    plan: FaultPlan
    injected: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.plan.seed)
        self._lock = threading.Lock()

    def decide(self, template: str, method: str) -> Fault | None:
        """Whether (and how) to fault this request."""
        plan = self.plan
        if template.startswith("/_emulator"):
            return None
        name = route_name(template, method)
        if plan.routes is not None and name not in plan.routes and template not in plan.routes:
            return None
        rate = plan.rate_for(name)
        if rate <= 0:
            return None
        with self._lock:
            if plan.limit is not None and sum(self.injected.values()) >= plan.limit:
                return None
            if self._random.random() >= rate:
                return None
            kind = self._random.choices(plan.kinds, weights=plan.weights)[0]
            fault = Fault(kind, self._random.choice(plan.phases))
            self.injected[fault.kind] += 1
            self.by_route[f"{name}:{fault.phase}"] += 1
        return fault

    async def respond(self, fault: Fault, legacy: bool, ready: Response | None = None) -> Response:
        """The faulty answer; ``ready`` is the real one (``"after"`` faults), sent late by ``"slow"``."""
        if fault.kind == "drop":
            return _DropResponse()
        if fault.kind == "slow":
            await asyncio.sleep(self.plan.slow_seconds)
            return ready if ready is not None else _SLOW_PLACEHOLDER
        if fault.kind == "401":
            return JSONResponse({"detail": "Token has expired"}, status_code=401)
        if fault.kind == "garbled":
            return Response(b"<html><body>Gateway says hello</body></html>", media_type="application/json")
        if fault.kind == "shape":
            return JSONResponse({"surprise": [1]})
        status = int(fault.kind)
        message = _STATUS_MESSAGES[status]
        body: dict[str, Any] = (
            {"meta": {"code": status}, "response": {"errors": [message]}} if legacy else {"detail": message}
        )
        headers = {"Retry-After": f"{self.plan.retry_after:g}"} if status == 429 else None
        return JSONResponse(body, status_code=status, headers=headers)

    def stats(self) -> dict[str, Any]:
        """What was injected, for ``/_emulator/stats``."""
        with self._lock:
            return {
                "rate": self.plan.rate,
                "seed": self.plan.seed,
                "injected": dict(self.injected),
                "total": sum(self.injected.values()),
                "by_route": dict(self.by_route),
            }


# A "before" slow fault still has to let the handler run: the endpoint sees this marker and calls
# the handler after the delay (see app._endpoint), so the answer is real, only late.
_SLOW_PLACEHOLDER = Response(status_code=299)


def is_slow_placeholder(response: Response) -> bool:
    """Whether ``response`` means "the delay is done, now run the handler"."""
    return response is _SLOW_PLACEHOLDER


class _QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every connection the emulator dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


_QUIET = _QuietDrops()


def quiet_injected_drops() -> None:
    """Install the filter on uvicorn's error logger (idempotent)."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET)
