"""A progress bar for long batches: tasks done out of total, with an ETA, on stderr.

A batch of hundreds of circuits can take minutes on a QPU; a bar that moves tells people the run
is alive and when it will end. The bar follows a :class:`~oqc_provider.engine.CompositeJob`'s
events (``CompositeJob.add_listener``), so it works for the engine, Qiskit's ``result()``
and pytket's ``get_results`` alike, and it never polls on its own.

It is on when stderr is a terminal and off elsewhere (logs, CI, notebooks' captured output),
``OQC_PROVIDER_PROGRESS=0`` turns it off everywhere (``=1`` forces it on), and the ``enabled``
argument beats both.

Example:
    >>> import asyncio, os, tempfile
    >>> os.environ["OQC_PROVIDER_HOME"] = tempfile.mkdtemp()
    >>> from oqc_provider.engine import OqcSdk
    >>> from oqc_provider.engine.progress import progress_for
    >>> qasm = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; x q[0]; measure q[0] -> c[0];'
    >>> async def main():
    ...     async with OqcSdk(default_qpu_id="qpu:uk:2:d865b5a184") as sdk:
    ...         batch = sdk.create_job(program=[qasm] * 3)
    ...         with progress_for(batch) as bar:  # off here: doctest output is not a terminal
    ...             await batch.execute(timeout_s=60)
    ...         return bar.enabled, batch.progress.completed
    >>> asyncio.run(main())
    (False, 3)
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from oqc_provider.settings import PROGRESS

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import ProgressColumn, Task, TaskID

    from oqc_provider.engine.composite import CompositeJob, Progress

logger = logging.getLogger("oqc_provider")

PROGRESS_ENV = PROGRESS.name
#: Batches that have a bar on screen: a nested bar for the same batch (a CLI bar around
#: ``execute``, which shows its own) stays hidden rather than drawing twice.
_SHOWN: weakref.WeakSet[CompositeJob] = weakref.WeakSet()
_SHOWN_LOCK = threading.Lock()


def progress_enabled(enabled: bool | None = None, stream: IO[str] | None = None) -> bool:
    """Whether to show a bar: ``enabled`` if given, else ``OQC_PROVIDER_PROGRESS``, else a terminal test.

    Example:
        >>> progress_enabled(False), progress_enabled(True)
        (False, True)
    """
    if enabled is not None:
        return bool(enabled)
    setting = PROGRESS.read()
    if setting is not None:
        return setting
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or odd streams (some notebook wrappers)
        return False


class BatchProgress:
    """A rich progress bar following one CompositeJob (usually made by :func:`progress_for`).

    Event calls arrive on the engine's loop thread; rich's bar is thread-safe, and a stopped bar
    unsubscribes from the batch's events.
    """

    def __init__(
        self,
        composite: CompositeJob,
        *,
        enabled: bool | None = None,
        description: str = "tasks",
        console: Console | None = None,
    ) -> None:
        self.composite = composite
        self.description = description
        stream = console.file if console is not None else None
        self.enabled = progress_enabled(enabled, stream)
        self._console = console
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._lock = threading.Lock()
        self._active = False
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> BatchProgress:
        """Show the bar and start following the batch (a no-op when disabled)."""
        if not self.enabled or self._active:
            return self
        with _SHOWN_LOCK:
            if self.composite in _SHOWN:
                self.enabled = False
                return self
            _SHOWN.add(self.composite)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = self._console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            _waiting_column(self.composite),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        progress = self.composite.progress
        self._task = self._bar.add_task(
            self.description, total=progress.total, completed=progress.done, detail=_detail(progress)
        )
        self._active = True
        self._bar.start()
        self._unsubscribe = self.composite.add_listener(self._on_change)
        return self

    def _on_change(self, _composite: CompositeJob, progress: Progress) -> None:
        with self._lock:
            if not self._active or self._bar is None or self._task is None:
                return
            self._bar.update(self._task, completed=progress.done, detail=_detail(progress))

    def stop(self) -> None:
        """Draw the final state and stop following the batch."""
        with self._lock:
            if not self._active or self._bar is None or self._task is None:
                return
            progress = self.composite.progress
            self._bar.update(self._task, completed=progress.done, detail=_detail(progress))
            self._active = False
            self._bar.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with _SHOWN_LOCK:
            _SHOWN.discard(self.composite)

    def __enter__(self) -> BatchProgress:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _waiting_column(composite: CompositeJob) -> ProgressColumn:
    """A column saying why the batch waits (its QPU's queue and window), drawn afresh each second
    so a countdown to a window moves without any state change."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Waiting(ProgressColumn):
        max_refresh = 1.0

        def render(self, task: Task) -> Text:
            reason = composite.waiting_reason()
            return Text(reason or "", style="yellow")

    return Waiting()


def _detail(progress: Progress) -> str:
    """What is not plain "done": runs in flight and failures, e.g. ``"2 running, 1 failed"``."""
    parts = []
    if progress.running:
        parts.append(f"{progress.running} running")
    if progress.submitted:
        parts.append(f"{progress.submitted} queued")
    if progress.failed:
        parts.append(f"[red]{progress.failed} failed[/]")
    if progress.cancelled:
        parts.append(f"{progress.cancelled} cancelled")
    return ", ".join(parts)


@contextmanager
def progress_for(
    composite: CompositeJob,
    *,
    enabled: bool | None = None,
    description: str = "tasks",
    console: Console | None = None,
) -> Iterator[BatchProgress]:
    """Show a progress bar for ``composite`` while the ``with`` block runs.

    Args:
        composite: the batch to follow.
        enabled: ``True``/``False`` to force the bar on or off; ``None`` follows
            ``OQC_PROVIDER_PROGRESS`` and whether stderr is a terminal.
        description: the label in front of the bar.
        console: the rich console to draw on (default: stderr).
    """
    bar = BatchProgress(composite, enabled=enabled, description=description, console=console)
    with bar:
        yield bar
