"""What the emulator and its simulator processes send each other survives the trip unchanged."""

from __future__ import annotations

import io
import json
from dataclasses import fields, replace

from oqc_provider.emulator.executor import Outcome
from oqc_provider.emulator.frames import (
    outcome_from_json,
    outcome_to_json,
    read_frame,
    record_from_json,
    record_to_json,
    write_frame,
)
from oqc_provider.emulator.store_rows import TaskRecord
from oqc_provider.qcaas.models import TaskStatus


def test_outcomes_cross_the_pipe_unchanged_with_every_field():
    outcomes = [
        Outcome(
            "a", results={"c": {"00": 60, "11": 40}}, metadata={"physical_qubit_indices": [0, 1]}, started=1.5
        ),
        Outcome("b", error=(400, "Qubit 9 does not exist on Lucy Simulator.")),
    ]
    pipe = io.BytesIO()
    write_frame(pipe, ["done", [outcome_to_json(outcome) for outcome in outcomes]])
    pipe.seek(0)
    kind, data = read_frame(pipe)  # type: ignore[misc]
    assert kind == "done"
    back = [outcome_from_json(item) for item in data]
    # Results travel as the JSON text the store keeps and serves as it is.
    assert [json.loads(item.results) if item.results is not None else None for item in back] == [
        outcome.results for outcome in outcomes
    ]
    assert [replace(item, results=None) for item in back] == [replace(o, results=None) for o in outcomes]
    assert set(data[0]) == {field.name for field in fields(Outcome)}  # no field left behind


def test_task_records_cross_the_pipe_unchanged_with_every_field():
    record = TaskRecord(
        id="task-1",
        qpu_id="qpu:uk:2:d865b5a184",
        status=TaskStatus.RUNNING,
        tag="tag",
        program='OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n',
        config='{"$data": {"repeats": 10}}',
        external_config={"seed": 7, "nested": {"a": [1, 2]}},
        created_at=1.5,
        due_at=2.5,
        results={"c": {"0": 10}},
        task_error={"error": "none"},
        execution_metadata={"optimized_instruction_count": 3},
        timings={"RUNNING": 2.0},
    )
    pipe = io.BytesIO()
    write_frame(pipe, ["run", [record_to_json(record)]])
    pipe.seek(0)
    kind, data = read_frame(pipe)  # type: ignore[misc]
    assert kind == "run"
    assert record_from_json(data[0]) == record
    assert set(data[0]) == {field.name for field in fields(TaskRecord)}  # no field left behind
