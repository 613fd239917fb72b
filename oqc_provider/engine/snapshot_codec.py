"""Turning a job and its outputs into snapshot models and back (no network, no live client).

Kept apart from :mod:`oqc_provider.engine.job` so that module stays about the job's lifecycle;
it sees a job through the :class:`SnapshotJob` protocol, so it sits below :mod:`.job`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from oqc_provider.engine.errors import SnapshotError
from oqc_provider.engine.job_outcomes import Outcomes
from oqc_provider.engine.outputs import JobError, JobOutput, JobResult, RerunnableJob
from oqc_provider.engine.snapshots import (
    JobErrorSnapshot,
    JobResultSnapshot,
    JobSnapshot,
    SnapshotState,
)
from oqc_provider.engine.states import JobState
from oqc_provider.qcaas.compiler_config import CompilerConfig
from oqc_provider.qcaas.errors import ConfigDecodeError


class SnapshotJob(RerunnableJob, Protocol):
    """What a snapshot is made of and rebuilt into (a :class:`~oqc_provider.engine.job.Job`): a
    protocol, so this module stays below :mod:`.job` (no import circle)."""

    program: str
    qpu_id: str
    config: CompilerConfig | None
    task_id: UUID | None
    tag: str | None
    hybrid_marker: str | None
    fetch_diagnostics: bool
    raise_on_error: bool
    external_config: dict[str, Any] | None
    timings: dict[str, Any] | None
    metrics: dict[str, Any] | None
    metadata: dict[str, Any] | None
    annotations: dict[str, Any]

    def export_outcomes(self) -> Outcomes:
        """The state and outcomes to save."""
        ...

    def restore_outcomes(self, outcomes: Outcomes) -> None:
        """Take saved state and outcomes."""
        ...


J = TypeVar("J", bound=SnapshotJob)


#: Configs already encoded during one snapshot, by ``id()``: a batch's children and their results
#: usually share one config object, and encoding it is most of a snapshot's cost.
ConfigCache = dict[int, str]


def _config_json(config: CompilerConfig | None, encoded: ConfigCache | None) -> str | None:
    if config is None:
        return None
    if encoded is None:
        return config.to_json()
    text = encoded.get(id(config))
    if text is None:
        text = encoded[id(config)] = config.to_json()
    return text


def output_snapshot(output: JobOutput | None, encoded: ConfigCache | None = None) -> Any:
    if output is None:
        return None
    common: dict[str, Any] = {
        "qpu_id": output.qpu_id,
        "task_id": output.task_id,
        "program": output.program,
        "received": output.received,
        "config_json": _config_json(output.compiler_config, encoded),
        "config_type": "CompilerConfig" if output.compiler_config else None,
        "timings": output.timings,
        "metrics": output.metrics,
        "metadata": output.metadata,
    }
    if isinstance(output, JobError):
        return JobErrorSnapshot(error_code=output.error_code, error_message=output.error_message, **common)
    assert isinstance(output, JobResult)
    return JobResultSnapshot(data=output.data, **common)


def output_from_snapshot(item: JobResultSnapshot | JobErrorSnapshot, job: RerunnableJob) -> JobOutput:
    try:
        config = CompilerConfig.from_json(item.config_json) if item.config_json else None
    except ConfigDecodeError as exc:
        raise SnapshotError(f"Invalid output config in snapshot: {exc}") from None
    common: dict[str, Any] = {
        "qpu_id": item.qpu_id,
        "task_id": item.task_id,
        "program": item.program,
        "received": item.received,
        "compiler_config": config,
        "timings": item.timings,
        "metrics": item.metrics,
        "metadata": item.metadata,
        "job": job,
    }
    if isinstance(item, JobErrorSnapshot):
        return JobError(error_code=item.error_code, error_message=item.error_message, **common)
    return JobResult(data=item.data, **common)


def find_in_history(
    history: list[JobOutput], item: JobResultSnapshot | JobErrorSnapshot | None, job: RerunnableJob
) -> JobOutput | None:
    """The history entry a snapshot's ``result``/``error`` refers to, so they stay the same object."""
    if item is None:
        return None
    rebuilt = output_from_snapshot(item, job)
    for entry in reversed(history):
        if entry == rebuilt:
            return entry
    return rebuilt


def job_to_snapshot(job: SnapshotJob, encoded: ConfigCache | None = None) -> JobSnapshot:
    """``job``'s whole state as a pydantic model (no network, no live client).

    ``encoded`` (one dict per snapshot of a batch) lets children that share a config encode it once.
    """
    state, result, error, history, submit_uncertain = job.export_outcomes()
    if state is JobState.UNKNOWN:  # persist as in flight, so a reload resumes polling
        state = JobState.SUBMITTED if job.task_id else JobState.CREATED
    return JobSnapshot(
        program=job.program,
        qpu_id=job.qpu_id,
        config_json=_config_json(job.config, encoded),
        config_type="CompilerConfig" if job.config else None,
        tag=job.tag,
        hybrid_marker=job.hybrid_marker,
        timings=job.timings,
        metrics=job.metrics,
        metadata=job.metadata,
        task_id=job.task_id,
        state=cast("SnapshotState", state.value),  # UNKNOWN, the one it has no name for, is mapped above
        raise_on_error=job.raise_on_error,
        fetch_diagnostics=job.fetch_diagnostics,
        result=output_snapshot(result, encoded),
        error=output_snapshot(error, encoded),
        history=[output_snapshot(item, encoded) for item in history],
        # external_config (simulator settings) has no snapshot field: it rides in the annotations.
        annotations={
            **job.annotations,
            **({"external_config": job.external_config} if job.external_config else {}),
            # Whether the id may be on the server unconfirmed: asked about before any resend.
            **({"submit_uncertain": True} if submit_uncertain else {}),
        },
    )


def restore_outcomes(job: SnapshotJob, snapshot: JobSnapshot, submit_uncertain: bool = False) -> None:
    """Give a freshly built ``job`` the state, diagnostics and history its snapshot recorded."""
    job.timings, job.metrics, job.metadata = snapshot.timings, snapshot.metrics, snapshot.metadata
    history = [output_from_snapshot(item, job) for item in snapshot.history]
    result = find_in_history(history, snapshot.result, job)
    error = find_in_history(history, snapshot.error, job)
    job.restore_outcomes(
        Outcomes(
            state=JobState(snapshot.state),
            result=result if isinstance(result, JobResult) else None,
            error=error if isinstance(error, JobError) else None,
            history=history,
            submit_uncertain=submit_uncertain,
        )
    )


def job_from_snapshot(cls: Callable[..., J], snapshot: JobSnapshot, client: object) -> J:
    """Rebuild a ``cls`` job from its snapshot (no network); ``Job.from_snapshot`` calls this.

    Raises:
        SnapshotError: the snapshot's config cannot be read.
    """
    annotations = dict(snapshot.annotations)
    try:
        job = cls(
            snapshot.program,
            snapshot.qpu_id,
            config=CompilerConfig.from_json(snapshot.config_json) if snapshot.config_json else None,
            task_id=snapshot.task_id,
            tag=snapshot.tag,
            hybrid_marker=snapshot.hybrid_marker,
            fetch_diagnostics=snapshot.fetch_diagnostics,
            _client=client,
            raise_on_error=snapshot.raise_on_error,
            external_config=annotations.pop("external_config", None),
        )
    except (ConfigDecodeError, ValueError) as exc:
        raise SnapshotError(f"Invalid job snapshot: {exc}") from None
    submit_uncertain = bool(annotations.pop("submit_uncertain", False))
    job.annotations = annotations
    restore_outcomes(job, snapshot, submit_uncertain)
    return job
