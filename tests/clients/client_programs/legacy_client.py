"""Programs written against OQC's legacy ``oqc-qcaas-client``, as its users write them.

Run by the tests in the clients' venv (``tests/clients/client_venv.py``), never imported by pytest:
``python legacy_client.py SCENARIO`` with the settings in the environment (``OQC_URL``,
``OQC_AUTH_TOKEN``, ``OQC_DEVICE``, the names OQC's PennyLane plugin reads) and the scenario's input
as JSON on stdin. The answer is one JSON line after ``OQC-CLIENT-ANSWER``; anything the client raises
ends the program with its traceback, which the test shows.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import sys
import time
from typing import Any

ANSWER_PREFIX = "OQC-CLIENT-ANSWER "


def client() -> Any:
    from qcaas_client.client import OQCClient

    return OQCClient(url=os.environ["OQC_URL"], authentication_token=os.environ["OQC_AUTH_TOKEN"])


def compiler_config(spec: dict[str, Any]) -> Any:
    """A CompilerConfig as a user builds one: shots, counts, and the optimisations asked for."""
    from compiler_config.config import (
        CompilerConfig,
        MetricsType,
        QuantumResultsFormat,
        Tket,
        TketOptimizations,
    )

    config = CompilerConfig(repeats=spec["shots"], results_format=QuantumResultsFormat().binary_count())
    if spec.get("tket") is not None:
        config.optimizations = Tket(tket_optimization=TketOptimizations[spec["tket"]])
    if spec.get("metrics"):
        config.metrics = functools.reduce(operator.or_, (MetricsType[name] for name in spec["metrics"]))
    return config


def connect(_: Any) -> dict[str, Any]:
    """What a user checks first: did the client initialise, which QPUs, what features."""
    oqc = client()
    device = os.environ["OQC_DEVICE"]
    return {
        "initialized": oqc.is_client_initialized,
        "server_version": oqc.server_version,
        "qpus": oqc.get_qpus(),
        "features": oqc.get_features(device),
        "status": oqc.get_system_status(device),
        "calibration_keys": sorted(oqc.get_calibration(device)),
        "next_window": oqc.get_next_window(device),
        "estimates": oqc.get_qpu_execution_estimates(device),
    }


def execute(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """``execute_tasks``: the client's blocking submit-and-wait, with metrics."""
    from qcaas_client.client import QPUTask

    oqc = client()
    device = os.environ["OQC_DEVICE"]
    tasks = [QPUTask(program=program, config=compiler_config(spec)) for program in spec["programs"]]
    results = oqc.execute_tasks(tasks, qpu_id=device, include_metrics=True)
    return [
        {
            "id": str(result.id),
            "result": result.result,
            "metrics": result.metrics,
            "error": None if result.error_details is None else vars(result.error_details),
        }
        for result in results
    ]


def schedule(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """``schedule_tasks`` then the single-purpose task endpoints, polled against a deadline."""
    from qcaas_client.client import QPUTask, TaskStatus

    oqc = client()
    device = os.environ["OQC_DEVICE"]
    tasks = [QPUTask(program=program, config=compiler_config(spec)) for program in spec["programs"]]
    scheduled = oqc.schedule_tasks(tasks, qpu_id=device)
    terminal = {TaskStatus.COMPLETED.value, TaskStatus.FAILED.value, TaskStatus.CANCELLED.value}
    answers = []
    for task in scheduled:
        deadline = time.monotonic() + spec.get("timeout", 300.0)
        while (status := oqc.get_task_status(task.task_id, device)) not in terminal:
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task.task_id} still {status}")
            time.sleep(0.05)  # the client has no wait of its own here; the deadline bounds it
        results = oqc.get_task_results(task.task_id, device)
        errors = oqc.get_task_errors(task.task_id, device)
        answers.append(
            {
                "id": str(task.task_id),
                "status": status,
                "result": None if results is None else results.result,
                "error": None if errors is None else vars(errors),
                "metrics": oqc.get_task_metrics(task.task_id, device),
                "metadata": oqc.get_task_metadata(task.task_id, device),
                "timings": oqc.get_task_timings(task.task_id, device),
                "all_info_status": oqc.get_task(task.task_id, device)["status"],
            }
        )
    return answers


def windows(spec: dict[str, Any]) -> dict[str, Any]:
    """A task scheduled outside the QPU's window: what the client reads about windows and waits."""
    from qcaas_client.client import QPUTask

    oqc = client()
    device = os.environ["OQC_DEVICE"]
    [task] = oqc.schedule_tasks(QPUTask(program=spec["program"], config=compiler_config(spec)), qpu_id=device)
    answer = {
        "next_window": oqc.get_next_window(device),
        "estimates": oqc.get_qpu_execution_estimates(device),
        "task_estimates": oqc.get_task_execution_estimates(task.task_id, device),
        "status": oqc.get_task_status(task.task_id, device),
    }
    oqc.cancel_task(task.task_id, device)
    return answer


SCENARIOS = {"connect": connect, "execute": execute, "schedule": schedule, "windows": windows}


def main() -> None:
    scenario = SCENARIOS[sys.argv[1]]
    answer = scenario(json.loads(sys.stdin.read() or "null"))
    print(ANSWER_PREFIX + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
