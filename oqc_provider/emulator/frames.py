"""What the emulator and its simulator processes say to each other: JSON frames over pipes.

Each frame is an 8-byte length and a UTF-8 JSON array ``[kind, ...]``. JSON, not pickle: nothing
in this package unpickles (a rule the security tests hold), and tasks, outcomes and device data are
JSON already (tasks are stored as JSON, devices are pydantic models).

Frames: ``["ready", pid]`` (child, once warm); ``["run", key, config | null, [record...]]`` (parent;
the config only the first time a child sees its key); ``["started"]`` as soon as the child took the
chunk, then ``["done", [outcome...]]``, ``["interrupted"]`` or ``["error", message]`` (child).
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from dataclasses import dataclass, fields
from typing import IO, Any

from oqc_provider.devices import Calibration, DeviceSpec
from oqc_provider.emulator.executor import Outcome
from oqc_provider.emulator.store_rows import JsonText, TaskRecord
from oqc_provider.qcaas.models import TaskStatus

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class ExecutorConfig:
    """Everything a simulator process needs to build an emulator's :class:`~.executor.Executor`.

    Attributes:
        crash_marker: TEST HOOK, None in normal use. A simulator process given a task whose program
            contains this text kills itself with SIGSEGV before simulating, so tests can crash a
            simulator deterministically (see ``EmulatorSettings.crash_marker``).
        hang_marker: TEST HOOK, None in normal use: a task whose program contains this text makes
            the simulator process hang until it is killed (see ``EmulatorSettings.hang_marker``).
        memory_limit: bytes of address space the simulator process may use, or None.
        time_limit: seconds one chunk of tasks may run before its simulator process is killed, or
            None (enforced by the pool, in the emulator's process).
        max_result_bits: most shots x classical bits of one task, or None (checked once parsed).
    """

    devices: dict[str, DeviceSpec]
    calibrations: dict[str, Calibration]
    seed: int | None
    crash_marker: str | None = None
    hang_marker: str | None = None
    memory_limit: int | None = None
    time_limit: float | None = None
    max_result_bits: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The config as JSON data."""
        return {
            "devices": {key: spec.model_dump(mode="json") for key, spec in self.devices.items()},
            "calibrations": {key: cal.model_dump(mode="json") for key, cal in self.calibrations.items()},
            "seed": self.seed,
            "crash_marker": self.crash_marker,
            "hang_marker": self.hang_marker,
            "memory_limit": self.memory_limit,
            "time_limit": self.time_limit,
            "max_result_bits": self.max_result_bits,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutorConfig:
        """The config back from :meth:`to_json`."""
        return cls(
            devices={key: DeviceSpec.model_validate(spec) for key, spec in data["devices"].items()},
            calibrations={key: Calibration.model_validate(cal) for key, cal in data["calibrations"].items()},
            seed=data["seed"],
            crash_marker=data["crash_marker"],
            hang_marker=data.get("hang_marker"),
            memory_limit=data.get("memory_limit"),
            time_limit=data.get("time_limit"),
            max_result_bits=data.get("max_result_bits"),
        )

    @functools.cached_property
    def key(self) -> str:
        """A digest naming this config, so a process receives it once, not with every chunk."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def record_to_json(record: TaskRecord) -> dict[str, Any]:
    """A task record as JSON data: its fields as they are (``asdict`` deep-copied every nested
    dictionary, 0.14 ms a task in the slot thread, for data that is only encoded and dropped)."""
    data = {field.name: getattr(record, field.name) for field in fields(record)}
    data["status"] = record.status.value
    return data


def record_from_json(data: dict[str, Any]) -> TaskRecord:
    """A task record back from :func:`record_to_json`."""
    return TaskRecord(**{**data, "status": TaskStatus(data["status"])})


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """An outcome as JSON data, its results already encoded as JSON text: the emulator's process
    stores and serves them as they are (a task's per-shot results are thousands of numbers, and
    decoding and encoding them again there took more of its time than anything else).
    """
    return {
        "task_id": outcome.task_id,
        "results": None if outcome.results is None else json.dumps(outcome.results),
        "metadata": outcome.metadata,
        "error": outcome.error,
        "started": outcome.started,
    }


def outcome_from_json(data: dict[str, Any]) -> Outcome:
    """An outcome back from :func:`outcome_to_json`: its results as :class:`JsonText`, its error a
    tuple again."""
    error = data.get("error")
    results = data.get("results")
    return Outcome(
        **{
            **data,
            "results": None if results is None else JsonText(results),
            "error": None if error is None else (int(error[0]), str(error[1])),
        }
    )


def write_frame(stream: IO[bytes], message: list[Any]) -> None:
    """Send one message (raises ``BrokenPipeError`` when the other end is gone)."""
    data = json.dumps(message, separators=(",", ":")).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> list[Any] | None:
    """Receive one message, or None when the other end closed the pipe (or died)."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    message = json.loads(data)
    return message if isinstance(message, list) else None
