"""Snapshots: round trips, OQC SDK files, bad input, and the states OQC's SDK could not save."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oqc_provider.engine import (
    CURRENT_SCHEMA_VERSION,
    CompositeJob,
    Job,
    JobSnapshot,
    JobState,
    OqcSdk,
    SnapshotError,
)
from oqc_provider.qcaas.models import TaskInfo
from tests.engine.conftest import BAD, ONE


def offline_sdk() -> OqcSdk:
    return OqcSdk(url="https://example.com", authentication_token="dummy")


def test_snapshot_round_trip_without_network() -> None:
    sdk = offline_sdk()
    job = sdk.create_job(program="OPENQASM 2.0;", qpu_id="qpu:uk:2:test")
    snap = job.to_snapshot()
    assert (
        snap.snapshot_kind == "job"
        and snap.state == "CREATED"
        and snap.schema_version == CURRENT_SCHEMA_VERSION
    )
    restored = sdk.from_snapshot(json.loads(snap.model_dump_json()))
    assert isinstance(restored, Job) and restored.program == job.program and restored.qpu_id == job.qpu_id


async def test_results_history_and_diagnostics_survive_save_and_load(sdk: OqcSdk, tmp_path: Path) -> None:
    job = sdk.create_job(program=BAD, fetch_diagnostics=True)
    await job.execute(timeout_s=30)
    job.reconfigure(program=ONE)
    await job.execute(timeout_s=30)
    job.save(str(tmp_path / "job.json"))
    restored = sdk.load(tmp_path / "job.json")
    assert restored.state is JobState.COMPLETED and restored.result.data == job.result.data
    assert restored.result is restored.history.last  # the same object, as in a live job
    assert [h.is_error for h in restored.history] == [True, False]
    assert restored.timings == job.timings and restored.metrics == job.metrics and restored.fetch_diagnostics
    assert restored.history.first.compiler_config == job.history.first.compiler_config
    await restored.refresh()
    assert len(restored.history) == 2  # refreshing a restored terminal job adds nothing


def test_a_file_saved_by_oqcs_sdk_loads(tmp_path: Path) -> None:
    oqc = pytest.importorskip("oqc_qcaas_sdk")
    their_sdk = oqc.OqcSdk(url="https://example.com", authentication_token="dummy")
    their_job = their_sdk.create_job(program=ONE, qpu_id="qpu:uk:2:d865b5a184")
    their_job.save(str(tmp_path / "theirs.json"))
    their_composite = their_sdk.create_job(program=[ONE, ONE], qpu_id="qpu:uk:2:d865b5a184")
    their_composite.save(str(tmp_path / "theirs-composite.json"))
    ours = offline_sdk()
    job = ours.load(tmp_path / "theirs.json")
    assert isinstance(job, Job) and job.program == ONE and job.state is JobState.CREATED
    composite = ours.load(tmp_path / "theirs-composite.json")
    assert isinstance(composite, CompositeJob) and len(composite) == 2


def test_a_file_saved_here_loads_in_oqcs_sdk(tmp_path: Path) -> None:
    oqc = pytest.importorskip("oqc_qcaas_sdk")
    job = offline_sdk().create_job(program=ONE, qpu_id="qpu:uk:2:d865b5a184")
    job.save(str(tmp_path / "ours.json"))
    theirs = oqc.OqcSdk(url="https://example.com", authentication_token="dummy").load(
        str(tmp_path / "ours.json")
    )
    assert theirs.program == ONE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json {", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (
            json.dumps({"schema_version": "2", "snapshot_kind": "job"}),
            "Unsupported snapshot schema version: '2'",
        ),
        (json.dumps({"schema_version": "1", "snapshot_kind": "batch"}), "Unknown snapshot_kind"),
        (
            json.dumps(
                {
                    "schema_version": "1",
                    "snapshot_kind": "job",
                    "program": 5,
                    "qpu_id": "q",
                    "state": "CREATED",
                }
            ),
            "program",
        ),
        (
            json.dumps(
                {
                    "schema_version": "1",
                    "snapshot_kind": "job",
                    "program": "p",
                    "qpu_id": "q",
                    "state": "CREATED",
                    "task_id": "not-a-uuid",
                }
            ),
            "task_id",
        ),
        (
            json.dumps(
                {
                    "schema_version": "1",
                    "snapshot_kind": "job",
                    "program": "p",
                    "qpu_id": "q",
                    "state": "DONE",
                }
            ),
            "state",
        ),
    ],
)
def test_bad_snapshots_raise_a_clear_error_and_change_nothing(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = path.read_bytes()
    with pytest.raises(SnapshotError, match=message):
        offline_sdk().load(path)
    assert path.read_bytes() == before


def test_missing_snapshot_file() -> None:
    with pytest.raises(FileNotFoundError, match="No snapshot file"):
        offline_sdk().load("/nonexistent/job.json")


def test_expired_tasks_end_the_job_instead_of_polling_forever() -> None:
    job = offline_sdk().create_job(program=ONE, qpu_id="qpu:uk:2:d865b5a184")
    job.task_id = uuid4()
    job.submitted()
    job.apply_task_info(TaskInfo(id=str(job.task_id), status="EXPIRED"))
    assert job.state is JobState.FAILED and "expired" in job.error.error_message
    assert len(job.history) == 1


def test_unknown_server_states_keep_polling_and_still_save(tmp_path: Path) -> None:
    sdk = offline_sdk()
    job = sdk.create_job(program=ONE, qpu_id="qpu:uk:2:d865b5a184")
    job.task_id = uuid4()
    job.submitted()
    job.apply_task_info(TaskInfo(id=str(job.task_id), status="MAINTENANCE"))
    assert job.state is JobState.UNKNOWN and job.state.is_active
    job.save(str(tmp_path / "unknown.json"))  # OQC's SDK crashes here
    restored = sdk.load(tmp_path / "unknown.json")
    assert restored.state is JobState.SUBMITTED and restored.task_id == job.task_id


def test_server_synonyms_map_to_states() -> None:
    job = offline_sdk().create_job(program=ONE, qpu_id="qpu:uk:2:d865b5a184")
    job.task_id = uuid4()
    job.submitted()
    job.apply_task_info(TaskInfo(id=str(job.task_id), status="in_progress"))
    assert job.state is JobState.RUNNING
    job.apply_task_info(TaskInfo(id=str(job.task_id), status="SUCCEEDED", results={"c": {"1": 3}}))
    assert job.completed and job.result.data == {"c": {"1": 3}}


def test_snapshot_model_is_the_sdks_shape() -> None:
    fields = set(JobSnapshot.model_fields)
    assert {
        "schema_version",
        "snapshot_kind",
        "program",
        "qpu_id",
        "config_json",
        "config_type",
        "tag",
        "hybrid_marker",
        "timings",
        "metrics",
        "metadata",
        "task_id",
        "state",
        "raise_on_error",
        "fetch_diagnostics",
        "result",
        "error",
        "history",
    } <= fields


# --- the job store's writer --------------------------------------------------------------------


#: Texts of any characters, short or long enough (over 256) to be spliced.
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30).flatmap(
    lambda text: st.sampled_from([text, (text + "\n") * 20])
)


@settings(max_examples=200, deadline=None)
@given(
    programs=st.lists(
        st.one_of(_TEXT, st.just("OPENQASM 2.0;\nrz(0.5) q[0];\n" * 30)), min_size=1, max_size=4
    ),
    config=st.one_of(st.none(), _TEXT),
    tag=st.one_of(st.none(), _TEXT, st.just("oqc-splice-")),
)
def test_the_store_writer_writes_what_pydantic_writes_byte_for_byte(
    programs: list[str], config: str | None, tag: str | None
) -> None:
    """``SplicedJson`` escapes each long program and config once and splices it in: the text must be
    ``model_dump_json()``'s exactly, whatever the strings hold (quotes, control characters, non-ASCII,
    text that looks like its marker), and stay so when the same writer writes again."""
    from oqc_provider.engine.snapshots import CompositeJobSnapshot, JobResultSnapshot, SplicedJson

    jobs = []
    for program in programs:
        result = JobResultSnapshot(program=program, config_json=config, data={"c": {"01": 2}})
        jobs.append(
            JobSnapshot(
                program=program,
                qpu_id="q",
                state="COMPLETED",
                config_json=config,
                tag=tag,
                result=result,
                history=[result],
            )
        )
    snapshot = CompositeJobSnapshot(jobs=jobs, annotations={"note": tag})
    writer = SplicedJson(limit=1000)  # small: the memory is also started again on the way
    expected = snapshot.model_dump_json()
    assert writer.dump(snapshot) == expected
    assert writer.dump(snapshot) == expected
