"""The job engine: OQC's SDK API (Job, CompositeJob, history, reconfiguration, snapshots) over QCaaS.

Code written for ``oqc-qcaas-sdk`` runs after changing its imports to this package. Nothing here
imports Qiskit, pytket or Aer.
"""

from oqc_provider.engine.composite import CompositeJob, Progress
from oqc_provider.engine.cost import CostEstimate, QpuPrice, TaskCost
from oqc_provider.engine.errors import (
    BudgetExceededError,
    JobFailed,
    JobNotSubmittedError,
    JobStillActive,
    PriceNotPublishedError,
    SnapshotError,
    SubmissionIncomplete,
)
from oqc_provider.engine.events import EventPublisher, JobEvent, JobEventKind
from oqc_provider.engine.job import Job
from oqc_provider.engine.outputs import AttrPolicy, JobError, JobOutput, JobOutputProxy, JobResult
from oqc_provider.engine.queues import ExecutionWindow, QueueStatus
from oqc_provider.engine.sdk import OqcSdk
from oqc_provider.engine.snapshots import CURRENT_SCHEMA_VERSION, CompositeJobSnapshot, JobSnapshot
from oqc_provider.engine.states import JobState
from oqc_provider.engine.sync import LoopThread, SyncSdk
from oqc_provider.engine.tracker import QpuTally, Tracker

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "AttrPolicy",
    "BudgetExceededError",
    "CompositeJob",
    "CompositeJobSnapshot",
    "CostEstimate",
    "EventPublisher",
    "ExecutionWindow",
    "Job",
    "JobError",
    "JobEvent",
    "JobEventKind",
    "JobFailed",
    "JobNotSubmittedError",
    "JobOutput",
    "JobOutputProxy",
    "JobResult",
    "JobSnapshot",
    "JobState",
    "JobStillActive",
    "LoopThread",
    "OqcSdk",
    "PriceNotPublishedError",
    "Progress",
    "QpuPrice",
    "QpuTally",
    "QueueStatus",
    "SnapshotError",
    "SubmissionIncomplete",
    "SyncSdk",
    "TaskCost",
    "Tracker",
]
