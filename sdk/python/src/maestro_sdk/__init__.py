"""summit-maestro-sdk: write a Summit Maestro task in Python (README.md; the protocol it speaks is
docs/task-protocol.md). It imports nothing of the engine: a task depends on this package and
jsonschema alone."""

from ._cancel import CancelToken
from ._clock import Clock, FakeClock, SystemClock
from ._context import Context, Emit, LogLevel
from ._errors import Cancelled, Fault, TaskError, ValidationIssue, ValidationResult
from ._harness import Log, Metric, TaskRunResult, run_task
from ._lifecycle import Outcome
from ._main import EXIT, run_main
from ._messages import PROTOCOL_VERSION, Message
from ._task import Task, define_task, task

__version__ = "0.1.0"

__all__ = [
    "EXIT",
    "PROTOCOL_VERSION",
    "CancelToken",
    "Cancelled",
    "Clock",
    "Context",
    "Emit",
    "FakeClock",
    "Fault",
    "Log",
    "LogLevel",
    "Message",
    "Metric",
    "Outcome",
    "SystemClock",
    "Task",
    "TaskError",
    "TaskRunResult",
    "ValidationIssue",
    "ValidationResult",
    "define_task",
    "run_main",
    "run_task",
    "task",
]
