"""Public errors: each reports and pickles under its public path, ``oqc_provider.errors.<Name>``.

A user's traceback names the path the docs give (``oqc_provider.errors.ConfigurationError``), never the
module a class happens to live in; a pickled error (sent from a simulator process, saved by a user)
loads again in a fresh process, whatever its constructor's signature.
"""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
import subprocess
import sys
import traceback
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

import oqc_provider
from oqc_provider import errors
from oqc_provider.engine.waiting import WaitEnd, WaitOutcome
from oqc_provider.errors import DEFINED_IN, OqcProviderError

SINCE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
# Stand-ins for engine jobs: errors that list jobs read only these attributes.
JOBS = [SimpleNamespace(task_id="task-1", last_submit_error="HTTP 503", submit_uncertain=True)]


def _still_active() -> Any:
    return errors.JobStillActive(
        JOBS, url="https://qcaas.test", since=SINCE, attempts=3, last_error=OSError("x")
    )


def _outcome(end: WaitEnd) -> WaitOutcome:
    return WaitOutcome(end, url="https://qcaas.test", total=1, done=0, since=SINCE, attempts=3)


# The errors whose constructor takes more than a message, built as the package raises them.
SPECIAL: dict[str, Any] = {
    "ServerError": lambda cls: cls("Bad request", 400, {"detail": "no"}),
    "TransientServerError": lambda cls: cls("Busy", 503, None, retry_after=2.5),
    "ServiceUnavailableError": lambda cls: cls("No answer from the service", connect_failed=True),
    "JobFailed": lambda cls: cls("task-1", "qpu:uk:2:d865b5a184", 400, "Compilation failed"),
    "SubmissionIncomplete": lambda cls: cls(JOBS),
    "JobStillActive": lambda cls: _still_active(),
    "BudgetExceededError": lambda cls: cls("Over budget", estimate=1.5, budget=1.0, spent=0.25),
    "PriceNotPublishedError": lambda cls: cls("No price", estimate=None, budget=1.0),
    "OQCServiceUnreachableError": lambda cls: cls("Unreachable", _outcome(WaitEnd.UNREACHABLE)),
    "OQCJobNotSentError": lambda cls: cls("Not sent", _outcome(WaitEnd.NEVER_SENT)),
    "OQCTaskUnknownError": lambda cls: cls("Unknown", _outcome(WaitEnd.UNKNOWN_TASK)),
    "ServiceUnreachableError": lambda cls: cls(
        "Unreachable", url="https://qcaas.test", since=SINCE, attempts=3, last_error=OSError("x")
    ),
    "CircuitsNotSentError": lambda cls: cls(
        "Not sent", url="https://qcaas.test", since=SINCE, attempts=3, last_error=OSError("x")
    ),
    "TaskUnknownError": lambda cls: cls("Unknown", url="https://qcaas.test", task_ids=["task-1"]),
    "PreflightError": lambda cls: cls("Refused", observation_id="obs-1", index=2),
    "InvalidCircuitError": lambda cls: cls("Bad circuit", index=1, predicate="GateSetPredicate"),
    "WorkerStartError": lambda cls: cls("Did not start", killed=True),
}


def _instance(name: str) -> OqcProviderError:
    cls = getattr(errors, name)
    return SPECIAL[name](cls) if name in SPECIAL else cls(f"{name} for a test")


def _package_errors() -> set[type[OqcProviderError]]:
    """Every subclass of OqcProviderError that the package defines (its modules imported first)."""
    for module in pkgutil.walk_packages(oqc_provider.__path__, "oqc_provider."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[OqcProviderError]] = {OqcProviderError}
    pending = [OqcProviderError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found and sub.__module__.startswith("oqc_provider"):
                found.add(sub)
                pending.append(sub)
    return found


def test_every_error_the_package_defines_is_listed_and_public() -> None:
    defined = _package_errors()
    assert {cls.__name__ for cls in defined} == set(DEFINED_IN)
    tree = errors.__doc__ or ""  # the map of the tree, for readers, names each one too
    assert [name for name in DEFINED_IN if not re.search(rf"\b{name}\b", tree)] == []
    for cls in defined:
        assert cls.__module__ == "oqc_provider.errors", cls
        assert getattr(errors, cls.__name__) is cls
        assert getattr(importlib.import_module(DEFINED_IN[cls.__name__]), cls.__name__) is cls


@pytest.mark.parametrize("name", sorted(DEFINED_IN))
def test_error_shows_and_pickles_under_its_public_path(name: str) -> None:
    error = _instance(name)
    assert repr(type(error)) == f"<class 'oqc_provider.errors.{name}'>"
    try:
        raise error
    except OqcProviderError:
        shown = traceback.format_exc().splitlines()[-1]
    assert shown.startswith(f"oqc_provider.errors.{name}: ")
    assert f"oqc_provider.errors\n{name}\n".encode() in pickle.dumps(error, protocol=0)

    loaded = pickle.loads(pickle.dumps(error))
    assert type(loaded) is type(error)
    assert str(loaded) == str(error)
    assert loaded.args == error.args
    assert sorted(vars(loaded)) == sorted(vars(error))


def test_a_subclass_outside_the_tree_keeps_its_own_path() -> None:
    class LocalError(errors.ConfigurationError):
        pass

    assert LocalError.__module__ == __name__
    with pytest.raises(AttributeError, match="NoSuchError"):
        _ = errors.NoSuchError  # type: ignore[attr-defined]


@pytest.mark.slow
def test_errors_load_in_a_fresh_process() -> None:
    """Unpickling needs only ``oqc_provider.errors``: it imports each error's own module when asked."""
    pickled = pickle.dumps([_instance(name) for name in sorted(DEFINED_IN)])
    show = "import pickle, sys; print(*map(repr, pickle.load(sys.stdin.buffer)), sep='\\n')"
    shown = subprocess.run(
        [sys.executable, "-c", show],
        input=pickled,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert shown.splitlines() == [repr(_instance(name)) for name in sorted(DEFINED_IN)]
