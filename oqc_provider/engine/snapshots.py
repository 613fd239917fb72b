"""Snapshots: the one persistent format of jobs (pydantic v2 JSON with ``schema_version``).

The models mirror OQC's SDK field for field, so a file saved by the SDK loads here. Files are
written atomically (temporary file, fsync, rename, fsync of the folder) with mode 0600, and read
as plain JSON: no pickle, nothing executable. Reading validates everything before a job is
built, so a bad file raises :class:`SnapshotError` and changes nothing.

Example:
    >>> snap = JobSnapshot(program="OPENQASM 2.0;", qpu_id="qpu:uk:2:d865b5a184", state="CREATED")
    >>> parse_snapshot(snap.model_dump_json()).snapshot_kind
    'job'
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, FieldSerializationInfo, ValidationError, field_serializer

from oqc_provider.engine.errors import SnapshotError

CURRENT_SCHEMA_VERSION = "1"

#: Upgrades from older schema versions: version -> function returning the next version's document.
#: Empty while "1" is the only version; a change to the format adds a step here, never a break.
MIGRATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

SnapshotState = Literal["CREATED", "SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
ConfigType = Literal["CompilerConfig", "ExperimentalConfig", "EradoConfig"]


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")


#: Stands in the JSON for a string :class:`SplicedJson` writes itself: random per process, so no
#: text a user wrote (a tag, an annotation) can contain it.
_SPLICE_TOKEN = f"oqc-splice-{uuid.uuid4().hex}-"
#: Strings shorter than this are written by pydantic as usual (splicing them would cost more).
_SPLICE_MIN_LENGTH = 256


def _splice_marker(value: str | None, info: FieldSerializationInfo) -> str | None:
    """A program's or config's marker when :class:`SplicedJson` is writing, else the value itself."""
    table = info.context.get(_SPLICE_TOKEN) if isinstance(info.context, dict) else None
    if table is None or value is None or len(value) < _SPLICE_MIN_LENGTH:
        return value
    index, used = table
    number = index.get(value)
    if number is None:
        number = index[value] = len(used)
        used.append(value)
    return f"{_SPLICE_TOKEN}{number}"


class SplicedJson:
    """Writes snapshots as ``model_dump_json()`` does, byte for byte, with each program and config
    escaped once per text instead of once per occurrence and write.

    The job store rewrites a batch at every real change (4 times a run), and each job's program
    and config appear in the job, its result and its history: escaping those texts was 70 % of a
    write (a 500-circuit batch's last write is 7 MB, 4.6 MB of it programs). Each distinct text is
    escaped with pydantic's own encoder and kept (up to ``limit`` characters in all, then the
    memory starts again).

    Example:
        >>> snapshot = JobSnapshot(program="rz(0.5) q[0]; " * 40, qpu_id="q", state="CREATED")
        >>> SplicedJson().dump(snapshot) == snapshot.model_dump_json()
        True
    """

    def __init__(self, limit: int = 64 * 2**20) -> None:
        self._limit = limit
        self._escaped: dict[str, str] = {}
        self._kept = 0

    def dump(self, snapshot: AnySnapshot) -> str:
        """``snapshot.model_dump_json()``."""
        index: dict[str, int] = {}
        used: list[str] = []
        text = snapshot.model_dump_json(context={_SPLICE_TOKEN: (index, used)})
        parts = text.split(f'"{_SPLICE_TOKEN}')
        if len(parts) == 1:
            return text
        pieces = [parts[0]]
        for part in parts[1:]:
            number, rest = part.split('"', 1)
            pieces.append(self._escape(used[int(number)]))
            pieces.append(rest)
        return "".join(pieces)

    def _escape(self, value: str) -> str:
        escaped = self._escaped.get(value)
        if escaped is None:
            escaped = pydantic_core.to_json(value).decode()
            if self._kept + len(value) > self._limit:
                self._escaped.clear()
                self._kept = 0
            self._escaped[value] = escaped
            self._kept += len(value)
        return escaped


class JobOutputSnapshot(_Snapshot):
    """Fields every saved output has."""

    qpu_id: str | None = None
    task_id: uuid.UUID | None = None
    program: str | None = None
    received: datetime | None = None
    config_json: str | None = None
    config_type: ConfigType | None = None
    timings: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    @field_serializer("program", "config_json", when_used="json")
    def _long_text(self, value: str | None, info: FieldSerializationInfo) -> str | None:
        return _splice_marker(value, info)


class JobResultSnapshot(JobOutputSnapshot):
    """A saved result."""

    kind: Literal["result"] = "result"
    data: Any = Field(default_factory=dict)


class JobErrorSnapshot(JobOutputSnapshot):
    """A saved error."""

    kind: Literal["error"] = "error"
    error_code: int | None = None
    error_message: str | None = None


OutputItem = Annotated[JobResultSnapshot | JobErrorSnapshot, Field(discriminator="kind")]


class JobSnapshot(_Snapshot):
    """Everything about a Job but its live client."""

    schema_version: str = CURRENT_SCHEMA_VERSION
    snapshot_kind: Literal["job"] = "job"
    program: str
    qpu_id: str
    config_json: str | None = None
    config_type: ConfigType | None = None
    tag: str | None = None
    hybrid_marker: str | None = None
    timings: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    task_id: uuid.UUID | None = None
    state: SnapshotState
    raise_on_error: bool = False
    fetch_diagnostics: bool = False
    result: JobResultSnapshot | None = None
    error: JobErrorSnapshot | None = None
    history: list[OutputItem] = Field(default_factory=list)
    #: Free-form data a front end keeps with the job (e.g. circuit names); unknown to OQC's SDK.
    annotations: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("program", "config_json", when_used="json")
    def _long_text(self, value: str | None, info: FieldSerializationInfo) -> str | None:
        return _splice_marker(value, info)


class CompositeJobSnapshot(_Snapshot):
    """A CompositeJob: every child's snapshot, plus the front end's annotations."""

    schema_version: str = CURRENT_SCHEMA_VERSION
    snapshot_kind: Literal["composite"] = "composite"
    jobs: list[JobSnapshot] = Field(default_factory=list)
    annotations: dict[str, Any] = Field(default_factory=dict)


AnySnapshot = JobSnapshot | CompositeJobSnapshot


def check_version(document: dict[str, Any]) -> dict[str, Any]:
    """Bring a snapshot document to the current schema version, or explain why it cannot be.

    Raises:
        SnapshotError: the version is neither current nor migratable.
    """
    version = str(document.get("schema_version", ""))
    while version != CURRENT_SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SnapshotError(
                f"Unsupported snapshot schema version: {version!r}. This SDK supports version "
                f"{CURRENT_SCHEMA_VERSION!r}."
            )
        document = step(document)
        version = str(document.get("schema_version", ""))
    return document


def parse_snapshot(source: str | bytes | dict[str, Any] | AnySnapshot) -> AnySnapshot:
    """Validate a snapshot (JSON text, a dict or a model) and return the model.

    Raises:
        SnapshotError: not JSON, not an object, an unsupported version, an unknown kind, or a
            field of the wrong type (the message names the field).
    """
    if isinstance(source, JobSnapshot | CompositeJobSnapshot):
        check_version({"schema_version": source.schema_version})
        return source
    if isinstance(source, str | bytes):
        try:
            document = json.loads(source)
        except ValueError as exc:
            raise SnapshotError(f"The snapshot is not valid JSON: {exc}") from None
        except RecursionError:
            raise SnapshotError("The snapshot's JSON is nested too deeply to be a snapshot.") from None
    else:
        document = source
    if not isinstance(document, dict):
        raise SnapshotError(f"A snapshot must be a JSON object, got {type(document).__name__}.")
    document = check_version(document)
    kind = document.get("snapshot_kind")
    model: type[AnySnapshot]
    if kind == "job":
        model = JobSnapshot
    elif kind == "composite":
        model = CompositeJobSnapshot
    else:
        raise SnapshotError(f"Unknown snapshot_kind {kind!r}: expected 'job' or 'composite'.")
    try:
        return model.model_validate(document)
    except RecursionError:
        raise SnapshotError(f"Invalid {kind} snapshot: a field is nested too deeply.") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise SnapshotError(f"Invalid {kind} snapshot: {problems}") from None


def read_snapshot(path: str | os.PathLike[str]) -> AnySnapshot:
    """Read and validate a snapshot file.

    Raises:
        FileNotFoundError: there is no such file.
        SnapshotError: the file is not a valid snapshot.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"No snapshot file at {file}.")
    return parse_snapshot(file.read_bytes())


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` so that a crash leaves either the old file or the new one, never half of one.

    The file gets mode 0600: snapshots hold programs and task ids.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable: without this, a power cut can bring back the old file."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders cannot be opened (and renames are durable)
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some file systems refuse fsync on a folder; the data itself is synced
        pass
    finally:
        os.close(descriptor)
