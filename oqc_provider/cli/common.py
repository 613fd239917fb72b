"""What every ``oqc-provider`` command shares: connection settings, output helpers, error handling.

Commands print tables (rich) to a terminal and JSON with ``--json``; every expected failure
becomes one line on stderr and a non-zero exit code, so scripts can rely on ``$?`` and people
are not shown tracebacks for a typo. ``--verbose`` turns the package's per-layer loggers on.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from oqc_provider.qcaas.errors import OqcProviderError

if TYPE_CHECKING:
    from rich.console import Console

    from oqc_provider.session import ProviderSession

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 1 for a failure the user can act on, 2 for bad usage (as click), 130 on Ctrl-C.
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
#: A wait that ended short of every result (``run``, ``jobs result``): the tasks are still running
#: (ask again later); the service cannot be reached, or tasks were never sent (ask again once it
#: is back); the service does not know the tasks (cancel the job and run it again). A circuit
#: that FAILED exits with ``EXIT_FAILURE``.
EXIT_STILL_RUNNING = 3
EXIT_UNREACHABLE = 4
EXIT_TASK_UNKNOWN = 5

#: Width used when output is not a terminal, so tables piped to a file are not cut short.
PIPE_WIDTH = 200


@dataclass
class CliSettings:
    """The global options, kept on the typer context for every command."""

    url: str | None = None
    token: str | None = None
    verbose: int = 0
    allow_insecure: bool = False

    def session(self) -> ProviderSession:
        """A provider session for these settings (the built-in emulator when nothing is set)."""
        from oqc_provider.session import ProviderSession

        return ProviderSession(self.url, self.token, allow_insecure=self.allow_insecure)


def settings(ctx: typer.Context) -> CliSettings:
    """The global options of this invocation (defaults when a command is invoked on its own)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliSettings):
        root.obj = CliSettings()
    return root.obj


#: ``--allow-insecure`` on a command, as well as before it (the plain-http refusal names the flag).
AllowInsecure = Annotated[
    bool,
    typer.Option(
        "--allow-insecure",
        help="Allow plain http to a remote host (the token travels unencrypted); loopback needs no flag.",
    ),
]


@contextmanager
def open_session(ctx: typer.Context, allow_insecure: bool = False) -> Iterator[ProviderSession]:
    """A session that is closed (and its loop thread stopped) whatever happens.

    ``allow_insecure`` is the command's own ``--allow-insecure``; the global one counts too.
    """
    options = settings(ctx)
    if allow_insecure:
        options.allow_insecure = True
    session = options.session()
    try:
        yield session
    finally:
        session.close()


def configure_logging(verbose: int) -> Callable[[], None]:
    """Send the package's loggers to stderr: INFO for ``-v``, DEBUG for ``-vv``.

    Returns the function that undoes it (the CLI calls it when the command ends, so an
    in-process caller, such as a test, is left as it was).
    """
    if verbose <= 0:
        return lambda: None
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose > 1 else logging.INFO
    handler = RichHandler(console=console(stderr=True), show_path=False, rich_tracebacks=True)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    package = logging.getLogger("oqc_provider")
    saved = (package.level, package.propagate)
    package.addHandler(handler)
    package.setLevel(level)
    package.propagate = False

    def undo() -> None:
        package.removeHandler(handler)
        package.setLevel(saved[0])
        package.propagate = saved[1]

    return undo


def console(stderr: bool = False) -> Console:
    """A rich console: colour in a terminal, plain and wide when piped."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        stderr=stderr,
        width=None if terminal else PIPE_WIDTH,
        highlight=False,
        soft_wrap=not terminal,
    )


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (for ``--json``)."""
    typer.echo(json.dumps(data, indent=2, default=str))


def fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    """Print ``message`` as one line on stderr; return the ``typer.Exit`` to raise."""
    line = " ".join(str(message).split())
    typer.secho(f"Error: {line}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def cli_errors(command: F) -> F:
    """Turn the package's errors (and file, timeout and value errors) into one line and exit 1.

    Anything else is a bug: one line too, unless ``--verbose`` asks for the traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            raise fail("interrupted", EXIT_INTERRUPTED) from None
        except (OqcProviderError, OSError, TimeoutError, ValueError) as exc:
            raise fail(describe(exc)) from None
        except Exception as exc:
            if logging.getLogger("oqc_provider").isEnabledFor(logging.DEBUG):
                raise
            raise fail(f"unexpected {type(exc).__name__}: {exc} (run with -vv for a traceback)") from None

    return wrapper  # type: ignore[return-value]


def describe(exc: BaseException) -> str:
    """A one-line description of an expected error.

    Example:
        >>> describe(FileNotFoundError(2, "No such file or directory", "bell.qasm"))
        'no such file: bell.qasm'
    """
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename} is a folder, not a file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError) and not isinstance(exc, OqcProviderError):
        return f"timed out: {text}" if str(exc) else "timed out waiting for the service"
    return text


def format_counts(data: Any) -> list[tuple[str, dict[str, int]]]:
    """A result's counts as ``[(register, {bitstring: count})]``, most frequent first.

    Example:
        >>> format_counts({"c": {"00": 480, "11": 520}, "flag": {"1": 1000}})
        [('c', {'11': 520, '00': 480}), ('flag', {'1': 1000})]
    """
    if not isinstance(data, dict):
        return [("result", {"value": data})]
    rows = []
    for register, counts in data.items():
        if isinstance(counts, dict):
            ordered = dict(sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0]))))
            rows.append((str(register), {str(k): int(v) for k, v in ordered.items()}))
        else:
            rows.append((str(register), {"value": counts}))
    return rows


def outcome(job: Any, label: object) -> dict[str, Any]:
    """One child's task id, state, counts or error, as ``--json`` prints it."""
    from oqc_provider.qat_results import as_counts

    error = job.error
    return {
        "circuit": str(label),
        "task_id": None if job.task_id is None else str(job.task_id),
        "qpu_id": job.qpu_id,
        "state": job.state.value,
        # Per-shot (raw) results, as pytket and Qiskit memory runs ask for, are shown as counts.
        "counts": as_counts(job.result.data) if job.result is not None else None,
        "error": None if error is None else error.short,
    }


def print_outcome(out: Any, item: dict[str, Any]) -> None:
    """Print one circuit's counts (per register) or its error."""
    from rich.table import Table

    head = f"{item['circuit']}: task {item['task_id']} {item['state']}"
    if item["error"]:
        out.print(f"[red]{head}: {item['error']}[/]")
        return
    if item["counts"] is None:
        out.print(head)
        return
    for register, counts in format_counts(item["counts"]):
        table = Table(title=f"{head}, register {register}", title_justify="left")
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for outcome, count in counts.items():
            table.add_row(outcome, str(count))
        out.print(table)
