"""summit-maestro-sdk: write a Summit Maestro task in Python (README.md; the protocol it speaks is
docs/task-protocol.md). It imports nothing of the engine: a task depends on this package and
jsonschema alone."""

from ._cancel import CancelToken
from ._clock import Clock, FakeClock, SystemClock
from ._connector import (
    CATALOG_SCHEMA,
    CONFIGURED_CATALOG_SCHEMA,
    ConnectionStatus,
    ConnectorContext,
    ConnectorEmit,
    configure_all,
)
from ._context import Context, Emit, LogLevel
from ._destination import DESTINATION_OPERATIONS, DestinationContext, define_destination
from ._errors import Cancelled, Fault, TaskError, ValidationIssue, ValidationResult
from ._harness import Log, Metric, TaskRunResult, run_task
from ._lifecycle import Outcome
from ._main import EXIT, run_main
from ._messages import PROTOCOL_VERSION, Message
from ._records import read_records
from ._source import SOURCE_OPERATIONS, SourceContext, SourceEmit, define_source
from ._task import Task, define_task, task

__version__ = "0.1.0"

__all__ = [
    "CATALOG_SCHEMA",
    "CONFIGURED_CATALOG_SCHEMA",
    "DESTINATION_OPERATIONS",
    "EXIT",
    "PROTOCOL_VERSION",
    "SOURCE_OPERATIONS",
    "CancelToken",
    "Cancelled",
    "Clock",
    "ConnectionStatus",
    "ConnectorContext",
    "ConnectorEmit",
    "Context",
    "DestinationContext",
    "Emit",
    "FakeClock",
    "Fault",
    "Log",
    "LogLevel",
    "Message",
    "Metric",
    "Outcome",
    "SourceContext",
    "SourceEmit",
    "SystemClock",
    "Task",
    "TaskError",
    "TaskRunResult",
    "ValidationIssue",
    "ValidationResult",
    "configure_all",
    "define_destination",
    "define_source",
    "define_task",
    "read_records",
    "run_main",
    "run_task",
    "task",
]
