"""Every ``OQC_*`` environment variable the package reads: its type, default and meaning, in one place.

Each variable is a :class:`Setting`; :meth:`Setting.read` reads it when called (never at import, so a
test's ``monkeypatch.setenv`` counts) and raises :class:`~oqc_provider.errors.ConfigurationError`
naming the variable when its value is malformed. No other module reads an ``OQC_*`` variable itself
(``tests/test_settings.py`` checks), the docs' table is checked against :data:`SETTINGS`, and the test
isolation plugin clears exactly :data:`SETTINGS`.

Example:
    >>> import os
    >>> os.environ["OQC_SDK_MAX_BROADCAST_JOBS"] = "abc"
    >>> try:
    ...     MAX_BROADCAST_JOBS.read()
    ... except ValueError as exc:
    ...     print(exc)
    OQC_SDK_MAX_BROADCAST_JOBS must be a whole number of at least 1, got 'abc'.
    >>> MAX_BROADCAST_JOBS.read({"OQC_SDK_MAX_BROADCAST_JOBS": "3"}), MAX_BROADCAST_JOBS.read({})
    (3, 200)
    >>> del os.environ["OQC_SDK_MAX_BROADCAST_JOBS"]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from oqc_provider.errors import ConfigurationError

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class _Malformed(ValueError):
    """Raised by a parser; :meth:`Setting.read` turns it into a ConfigurationError naming the variable."""


def _text(raw: str) -> str | None:
    return raw.strip() or None


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Malformed("must be 1/true/yes/on or 0/false/no/off")


def _optional_flag(raw: str) -> bool | None:
    return None if not raw.strip() else _flag(raw)


def _positive_int(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise _Malformed("must be a whole number of at least 1") from None
    if value < 1:
        raise _Malformed("must be a whole number of at least 1")
    return value


def _optional_positive_int(raw: str) -> int | None:
    return None if not raw.strip() else _positive_int(raw)


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: its name, how it is read, its default and what it does.

    Attributes:
        name: the variable, e.g. ``"OQC_URL"``.
        type: how its value is read, in words (``"URL"``, ``"whole number >= 1"``, ``"flag"``...).
        default: the value when it is unset (or blank).
        default_doc: the default as the docs say it.
        doc: one line: what it does.
        parse: turns a set value into ``T``; raises ``_Malformed`` saying what it must be.
        test_hook: for the project's own tests only; never set in normal use.
    """

    name: str
    type: str
    default: T
    default_doc: str
    doc: str
    parse: Callable[[str], T]
    test_hook: bool = False

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        """The value now (``environ`` defaults to ``os.environ``), or the default when unset.

        Raises:
            ConfigurationError: the value is malformed; the message names the variable.
        """
        raw = (os.environ if environ is None else environ).get(self.name)
        if raw is None:
            return self.default
        try:
            value = self.parse(raw)
        except _Malformed as exc:
            shown = "(hidden)" if "TOKEN" in self.name else repr(raw)
            raise ConfigurationError(f"{self.name} {exc}, got {shown}.") from None
        return self.default if value is None else value

    def export(self, value: str) -> None:
        """Set the variable in this process's environment, so processes it starts inherit it."""
        os.environ[self.name] = value


URL: Setting[str | None] = Setting(
    "OQC_URL",
    "URL",
    None,
    "unset: the built-in emulator",
    "the QCaaS URL; a loopback URL (`http://127.0.0.1:8000`) means an emulator served by "
    "`oqc-provider emulator serve`",
    _text,
)
AUTHENTICATION_TOKEN: Setting[str | None] = Setting(
    "OQC_AUTHENTICATION_TOKEN",
    "text (secret)",
    None,
    "unset",
    "the API token; required for a non-loopback URL",
    _text,
)
QCAAS_V4: Setting[bool] = Setting(
    "OQC_QCAAS_V4",
    "flag",
    False,
    "unset: the legacy API",
    "`1`/`true`/`yes` speak the v4 gateway's API (as OQC's SDK; `OQC_ENTRA_ENABLED` does the same)",
    _flag,
)
ENTRA_ENABLED: Setting[bool] = Setting(
    "OQC_ENTRA_ENABLED",
    "flag",
    False,
    "unset: the legacy API",
    "the same as `OQC_QCAAS_V4` (the name OQC's SDK also reads)",
    _flag,
)
PROVIDER_HOME: Setting[str | None] = Setting(
    "OQC_PROVIDER_HOME",
    "folder",
    None,
    "the platform's user data folder (`~/.local/share/oqc-provider` on Linux)",
    "where the local job store (`jobs/`) and the in-process emulator's task database live; created 0700 "
    "if missing, an existing folder keeps its mode (a warning says when others can read it; the "
    "provider's own files in it stay private)",
    _text,
)
MAX_TRANSPORT_RETRIES: Setting[int] = Setting(
    "OQC_SDK_MAX_TRANSPORT_RETRIES",
    "whole number >= 1",
    5,
    "5",
    "tries in all for an idempotent request that met a transient failure (5xx, 429, a dropped "
    "connection), as in OQC's SDK",
    _positive_int,
)
MAX_BROADCAST_JOBS: Setting[int] = Setting(
    "OQC_SDK_MAX_BROADCAST_JOBS",
    "whole number >= 1",
    200,
    "200",
    "the most children one `create_job(program=[...])` may make, as in OQC's SDK",
    _positive_int,
)
PROGRESS: Setting[bool | None] = Setting(
    "OQC_PROVIDER_PROGRESS",
    "flag",
    None,
    "on in a terminal, off elsewhere",
    "`0` turns progress bars off everywhere; `1` forces them on",
    _optional_flag,
)
EMULATOR_WORKERS: Setting[int | None] = Setting(
    "OQC_EMULATOR_WORKERS",
    "whole number >= 1",
    None,
    "the machine's cores, at most 4",
    "how many simulator processes the emulator starts (each holds Qiskit and Aer, about 150-250 MB)",
    _optional_positive_int,
)
EMULATOR_TOKEN: Setting[str | None] = Setting(
    "OQC_EMULATOR_TOKEN",
    "text (secret)",
    None,
    "unset: no token required",
    "the token `oqc-provider emulator serve` requires when neither `--token` nor `--token-file` "
    "gives one (unlike argv, the environment is not readable by other local users)",
    _text,
)
EMULATOR_VERBOSE: Setting[bool] = Setting(
    "OQC_EMULATOR_VERBOSE",
    "flag",
    False,
    "unset",
    "set by `oqc-provider emulator serve --verbose` for its simulator processes: keep Qiskit's INFO logs",
    _flag,
)
EMULATOR_TEST_CRASH_MARKER: Setting[str | None] = Setting(
    "OQC_EMULATOR_TEST_CRASH_MARKER",
    "text",
    None,
    "unset",
    "TEST HOOK: a program containing this text crashes the simulator process that runs it (the "
    "default of `EmulatorSettings.crash_marker`, for emulators in other processes)",
    _text,
    test_hook=True,
)
EMULATOR_TEST_EXECUTION_LOG: Setting[str | None] = Setting(
    "OQC_EMULATOR_TEST_EXECUTION_LOG",
    "file",
    None,
    "unset",
    "TEST HOOK: a file each simulator process appends one line (the task id) to per task it simulated",
    _text,
    test_hook=True,
)
EMULATOR_TEST_HANG_MARKER: Setting[str | None] = Setting(
    "OQC_EMULATOR_TEST_HANG_MARKER",
    "text",
    None,
    "unset",
    "TEST HOOK: a program containing this text makes the simulator that runs it hang until it is killed "
    "(the default of `EmulatorSettings.hang_marker`)",
    _text,
    test_hook=True,
)
EMULATOR_TEST_DIE_STARTING: Setting[str | None] = Setting(
    "OQC_EMULATOR_TEST_DIE_STARTING",
    "folder",
    None,
    "unset",
    "TEST HOOK: a folder of `start-*` / `chunk-*` files, each making one simulator process kill itself "
    "as it starts or as it receives a chunk",
    _text,
    test_hook=True,
)

#: Every ``OQC_*`` variable the package reads, in the order the docs list them.
SETTINGS: tuple[Setting[Any], ...] = (
    URL,
    AUTHENTICATION_TOKEN,
    QCAAS_V4,
    ENTRA_ENABLED,
    PROVIDER_HOME,
    MAX_TRANSPORT_RETRIES,
    MAX_BROADCAST_JOBS,
    PROGRESS,
    EMULATOR_WORKERS,
    EMULATOR_TOKEN,
    EMULATOR_VERBOSE,
    EMULATOR_TEST_CRASH_MARKER,
    EMULATOR_TEST_EXECUTION_LOG,
    EMULATOR_TEST_HANG_MARKER,
    EMULATOR_TEST_DIE_STARTING,
)
#: Their names (what ``tests/isolation.py`` clears for every test).
NAMES: tuple[str, ...] = tuple(setting.name for setting in SETTINGS)


def markdown_table() -> str:
    """The docs' table of variables (docs/configuration.md carries it; a test keeps the two equal).

    Example:
        >>> print(markdown_table().splitlines()[2])  # doctest: +ELLIPSIS
        | `OQC_URL` | URL | unset: the built-in emulator | the QCaaS URL; ...
    """
    rows = ["| variable | type | default | what it does |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.type} | {s.default_doc} | {s.doc} |" for s in SETTINGS]
    return "\n".join(rows)


if __name__ == "__main__":  # python -m oqc_provider.settings: the table to paste into the docs
    import sys

    sys.stdout.write(markdown_table() + "\n")
