"""A wrapping httpx transport that breaks requests on the client's side, as a network or a proxy would.

The emulator's own :class:`~oqc_provider.emulator.faults.FaultPlan` breaks requests inside the
server; this one sits between the engine and any server (in-process or served), so it can also
produce what the emulator never says on its own: a 404 for a task that exists (a proxy, a
replica that has not caught up), or an answer lost after the server acted on the request.

A :class:`Rule` names a route (``submit``, ``all_info``, ``status``, ``allocate``, ``cancel``,
``health``, ``qpus`` or ``any``), a phase (``before``: the server never sees the request;
``after``: it acts, the client never hears), a kind and how many matching requests to break.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass

import httpx

#: Kinds a rule can inject. ``lost``: the server acted (after) or not (before); the client sees
#: a read timeout either way. ``drop``: the connection breaks mid-answer. ``slow``: the real
#: answer, ``slow_seconds`` late. ``401``: the v4 gateway's expired-token answer. ``garbled``: a
#: 200 whose body is not JSON (a proxy's page, a cut answer). ``shape``: a 200 with JSON of a shape
#: no route answers (a version mismatch).
KINDS = ("500", "502", "503", "429", "404", "drop", "slow", "lost", "401", "garbled", "shape")
#: The bodies of the 200s that cannot be read (``garbled``) or are of an unexpected shape (``shape``).
UNREADABLE_BODIES = {
    "garbled": b"<html><body>Gateway says hello</body></html>",
    "shape": b'{"surprise": [1]}',
}
ROUTES = ("submit", "all_info", "status", "allocate", "cancel")


def route_of(request: httpx.Request) -> str:
    """The short name of the route ``request`` goes to (both server layouts)."""
    path = request.url.path.rstrip("/")
    if path.endswith("/tasks/submit"):
        return "submit"
    if path.endswith("/all_info"):
        return "all_info"
    if path.endswith("/status"):
        return "status"
    if path.endswith("/tasks/cancel_many"):
        return "cancel"
    if path.endswith("/tasks") and request.method == "POST":
        return "allocate"
    if path in ("/healthz", "/admin/version"):
        return "health"
    return "qpus" if path in ("/qpus", "/admin/qpu") else "other"


@dataclass
class Rule:
    """Break ``times`` requests to ``route`` (after letting ``skip`` through); ``times=None``: all."""

    route: str
    kind: str
    phase: str = "before"
    times: int | None = 1
    skip: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.phase not in ("before", "after"):
            raise ValueError(f"Unknown fault {self.kind!r}/{self.phase!r}; kinds are {KINDS}.")


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to ``inner``, breaking the requests the rules pick; counts what it did.

    Attributes:
        seen: requests per route, faulted or not.
        injected: faults per ``route:kind:phase``.
        requests: every request forwarded or faulted, in order (route names).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        rules: list[Rule] | None = None,
        *,
        slow_seconds: float = 0.2,
        after_requests: int | None = None,
        hold: set[str] | None = None,
    ) -> None:
        self.inner = inner
        self.rules = list(rules or [])
        self.slow_seconds = slow_seconds
        self.seen: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._hits: Counter[int] = Counter()
        self.count = 0
        #: Set once ``after_requests`` requests have been sent (a "kill" point for tests).
        self.reached = asyncio.Event()
        self._after = after_requests
        #: Task ids the server is made to report SUBMITTED (queued behind a QPU window) while held.
        self.hold: set[str] = set(hold or ())

    def _rule_for(self, route: str) -> Rule | None:
        for index, rule in enumerate(self.rules):
            if rule.route not in (route, "any"):
                continue
            seen = self.seen[route] - 1  # this request's position among the route's requests
            if seen < rule.skip:
                continue
            if rule.times is not None and self._hits[index] >= rule.times:
                continue
            self._hits[index] += 1
            return rule
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = route_of(request)
        self.seen[route] += 1
        self.count += 1
        if self._after is not None and self.count >= self._after:
            self.reached.set()
        rule = self._rule_for(route) if route not in ("health", "qpus", "other") else None
        if rule is None:
            response = await self.inner.handle_async_request(request)
            if route == "all_info" and any(task in request.url.path for task in self.hold):
                return await self._held(response, request)
            return response
        self.injected[f"{route}:{rule.kind}:{rule.phase}"] += 1
        if rule.phase == "after" or rule.kind == "slow":
            if rule.kind == "slow":
                await asyncio.sleep(self.slow_seconds)
            response = await self.inner.handle_async_request(request)
            await response.aread()
            if rule.kind == "slow":
                return response
        return self._broken(rule, request)

    async def _held(self, response: httpx.Response, request: httpx.Request) -> httpx.Response:
        """The server's record of a held task, as it reads while the task waits in the queue."""
        body = json.loads(await response.aread())
        body.update(status="SUBMITTED", results=None, task_error=None)
        return httpx.Response(
            response.status_code,
            content=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            request=request,
        )

    def _broken(self, rule: Rule, request: httpx.Request) -> httpx.Response:
        if rule.kind == "drop":
            raise httpx.RemoteProtocolError("Server disconnected (injected by the client)", request=request)
        if rule.kind == "lost":
            raise httpx.ReadTimeout("The answer never came (injected by the client)", request=request)
        if rule.kind in UNREADABLE_BODIES:
            return httpx.Response(
                200,
                content=UNREADABLE_BODIES[rule.kind],
                headers={"content-type": "application/json"},
                request=request,
            )
        status = int(rule.kind)
        detail = {
            401: "Token has expired",
            404: f"Task not found (injected by the client on {request.url.path})",
            429: "Too many requests (injected by the client)",
        }.get(status, f"Service error {status} (injected by the client)")
        headers = {"Retry-After": "0.01"} if status == 429 else {}
        return httpx.Response(
            status,
            content=json.dumps({"detail": detail}).encode(),
            headers={"content-type": "application/json", **headers},
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
