"""Helpers for the wire-layer tests: a scripted QCaaS behind httpx's MockTransport.

``httpx.MockTransport`` is httpx's own test seam: the client under test runs unmodified and only
the bytes on the wire are faked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.retry import RetryPolicy

BASE = "https://qcaas.test"
QPU_ID = "qpu:uk:2:d865b5a184"
QPU_URL = "https://uk.qcaas.test/d865b5a184"
TOKEN = "s3cr3t-T0KEN-do-not-leak"
TASK_ID = "0d6c56e0-80fa-42b9-bdd6-de50fa99ec6f"

#: A policy that retries at once, so tests of retry *counts* take no time.
FAST = RetryPolicy(max_attempts=4, initial_wait=0.0, max_wait=0.0, jitter=0.0)

Handler = Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}
    )


class FakeQcaas:
    """A scripted QCaaS: health and registry answered for real, other paths from ``routes``.

    ``routes`` maps ``(METHOD, path)`` to a response, a list of responses/exceptions used in
    turn (the last one repeats), or a callable taking the request.
    """

    def __init__(self, mode: ServerMode = ServerMode.LEGACY) -> None:
        self.mode = mode
        self.routes: dict[tuple[str, str], Any] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Any) -> FakeQcaas:
        self.routes[(method, path)] = list(answers)
        return self

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key in self.routes:
            answers = self.routes[key]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            if callable(answer) and not isinstance(answer, httpx.Response):
                answer = answer(request)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        if key == ("GET", "/admin/version"):
            return json_response(200, {"version": "3.22.1"})
        if key == ("GET", "/healthz"):
            return json_response(200, {"version": "4.0.0"})
        if key == ("GET", "/admin/qpu"):
            return json_response(
                200,
                {
                    "items": [
                        {
                            "id": QPU_ID,
                            "name": "Lucy Simulator",
                            "url": QPU_URL,
                            "active": True,
                            "feature_set": json.dumps({"qubit_count": 8}),
                        },
                        {
                            "id": "qpu:uk:3:0000000000",
                            "name": "Old",
                            "url": "https://old.test/x",
                            "active": False,
                        },
                    ],
                    "total": 2,
                },
            )
        return json_response(404, {"detail": f"no route {request.method} {request.url.path}"})
