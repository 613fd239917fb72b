"""Driving the async engine from synchronous code: scripts, Jupyter cells, Qiskit and pytket.

One background thread owns one event loop; synchronous callers hand it coroutines and block on
the answer. Because the caller's own loop (Jupyter runs one) is never used, this works in
notebooks without ``nest_asyncio``.

Example:
    >>> import os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> sdk = SyncSdk(default_qpu_id="qpu:uk:2:d865b5a184")
    >>> program = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; measure q[0] -> c[0];'
    >>> job = sdk.create_job(program=program)
    >>> sdk.execute(job, timeout_s=30).first.data
    {'c': {'0': 1000}}
    >>> sdk.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from oqc_provider.engine.composite import CompositeJob
from oqc_provider.engine.job import Job
from oqc_provider.engine.outputs import JobOutputProxy
from oqc_provider.engine.sdk import OqcSdk

T = TypeVar("T")


class LoopThread:
    """A daemon thread running an event loop that synchronous code submits coroutines to."""

    def __init__(self, name: str = "oqc-provider-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def submit(self, awaitable: Awaitable[T]) -> concurrent.futures.Future[T]:
        """Start ``awaitable`` on the loop and return at once with a future of its result."""
        if self._thread is threading.current_thread():
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise RuntimeError("LoopThread.submit() called from its own loop: await the coroutine instead.")
        return asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), self.loop)

    def run(self, awaitable: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``awaitable`` on the loop and return its result, blocking this thread.

        Raises:
            RuntimeError: called from the loop's own thread (which would deadlock).
            TimeoutError: ``timeout`` passed; the coroutine is cancelled.
        """
        if self._thread is threading.current_thread():
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never awaited: close it so Python does not warn
            raise RuntimeError("LoopThread.run() called from its own loop: await the coroutine instead.")
        future = self.submit(awaitable)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            # Since Python 3.11 this is the builtin TimeoutError: one the coroutine raised itself
            # (a slow queue, JobStillActive) arrives here too, and must reach the caller unchanged.
            if future.done():
                raise
            future.cancel()
            raise TimeoutError(f"Gave up after {timeout} s.") from None

    def close(self) -> None:
        """Stop the loop and its thread. The next :meth:`run` starts a new one."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        loop.close()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


class SyncSdk:
    """A blocking :class:`OqcSdk`: the same jobs, run from ordinary synchronous code.

    Takes the same arguments as :class:`OqcSdk` (``connection=`` included: ``SyncSdk(connection=
    resolve_connection(...))``). Jobs it creates are ordinary engine jobs; their
    async methods are wrapped here (``sdk.execute(job)`` instead of ``await job.execute()``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.loop_thread = LoopThread()
        self.sdk = OqcSdk(*args, **kwargs)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run any engine coroutine to completion."""
        return self.loop_thread.run(coroutine, timeout)

    def _run_job(self, running: Awaitable[Job | CompositeJob]) -> Job | CompositeJob:
        # One type for both kinds: `self.run(job.submit())` on a `Job | CompositeJob` infers `object`.
        return self.loop_thread.run(running)

    def create_job(self, **kwargs: Any) -> Job | CompositeJob:
        """See :meth:`OqcSdk.create_job`."""
        return self.sdk.create_job(**kwargs)

    def list_qpus(self) -> list[dict[str, Any]]:
        """See :meth:`OqcSdk.list_qpus`."""
        return self.run(self.sdk.list_qpus())

    def get_features(self, qpu_id: str | None = None) -> dict[str, Any]:
        """See :meth:`OqcSdk.get_features`."""
        return self.run(self.sdk.get_features(qpu_id))

    def get_calibration(self, qpu_id: str | None = None, date_filter: Any = None) -> Any:
        """See :meth:`OqcSdk.get_calibration`."""
        return self.run(self.sdk.get_calibration(qpu_id, date_filter))

    def execute(self, job: Job | CompositeJob, timeout_s: float | None = 120.0) -> JobOutputProxy:
        """Run a job to the end (see :meth:`Job.execute`)."""
        return self.run(job.execute(timeout_s=timeout_s))

    def submit(self, job: Job | CompositeJob) -> Job | CompositeJob:
        """Submit without waiting."""
        return self._run_job(job.submit())

    def wait(self, job: Job | CompositeJob, timeout_s: float | None = 120.0) -> Job | CompositeJob:
        """Wait for a submitted job to end."""
        return self._run_job(job.wait(timeout_s))

    def refresh(self, job: Job | CompositeJob) -> Job | CompositeJob:
        """Read the job's state from the server once."""
        return self._run_job(job.refresh())

    def cancel(self, job: Job | CompositeJob) -> Job | CompositeJob:
        """Cancel the job's run(s) on the server."""
        return self._run_job(job.cancel())

    def load(self, path: str) -> Job | CompositeJob:
        """See :meth:`OqcSdk.load`."""
        return self.sdk.load(path)

    def close(self) -> None:
        """Close the session and stop the background loop."""
        try:
            self.run(self.sdk.close())
        finally:
            self.loop_thread.close()

    def __enter__(self) -> SyncSdk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
