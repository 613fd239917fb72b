"""Who runs a task: the identity of a process (and of one task store in it), and whether it is gone.

A RUNNING task in the shared SQLite store names its owner: host, pid, the process's start time
(so a recycled pid is not mistaken for the owner) and the store instance (several emulator apps
may share one process, and a closed one owns nothing any more). Another process takes the task
back only when that owner is gone or its lease (refreshed by heartbeats) expired; see
:meth:`~oqc_provider.emulator.store.TaskStore.reclaim`.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass

#: Seconds between an owner's heartbeats on its RUNNING tasks.
HEARTBEAT_INTERVAL = 5.0
#: Seconds without a heartbeat after which a task's lease has expired, whoever owns it. Long
#: against the heartbeat, so only an owner that is stopped (or on a host that cannot be checked
#: and has gone quiet) loses its tasks.
LEASE_SECONDS = 120.0


def process_start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``), or None when unknown.

    None on systems without ``/proc`` and for a pid that does not exist.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its end.
    fields = text[text.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22, "starttime"; fields[0] is field 3
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this host)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Owner:
    """One task store in one process on one host: what a RUNNING task records as its owner."""

    host: str
    pid: int
    #: The process's start time in ticks, or None where it cannot be read (no ``/proc``).
    started: int | None
    instance: str


_live_instances: set[str] = set()
_live_lock = threading.Lock()


def new_owner() -> Owner:
    """A fresh owner identity for a store opened now, registered as live in this process."""
    pid = os.getpid()
    owner = Owner(socket.gethostname(), pid, process_start_ticks(pid), uuid.uuid4().hex)
    with _live_lock:
        _live_instances.add(owner.instance)
    return owner


def retire(owner: Owner) -> None:
    """The store ``owner`` is closed: its RUNNING tasks may be taken by any other store."""
    with _live_lock:
        _live_instances.discard(owner.instance)


def owner_gone(
    me: Owner, host: str | None, pid: int | None, started: int | None, instance: str | None
) -> bool:
    """Whether the recorded owner of a task can no longer finish it (leases aside).

    A task without an owner (written by an older version) counts as abandoned. An owner on
    another host cannot be checked from here: only its lease decides.
    """
    if host is None or pid is None or instance is None:
        return True
    if host != me.host:
        return False
    if pid == me.pid and started == me.started:
        with _live_lock:
            return instance not in _live_instances
    if not pid_alive(pid):
        return True
    return started is not None and process_start_ticks(pid) not in (None, started)
