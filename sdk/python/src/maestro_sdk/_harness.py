"""The in-process harness for a task's pytest tests: the same lifecycle the runner starts
(``run_lifecycle``), with the messages kept in memory instead of a file, an injected clock
(``FakeClock`` for a task that waits) and a ``CancelToken`` standing for the runner's SIGTERM.
What the task emitted is returned as it was emitted, not redacted (the runner redacts), so a test
can catch a task that logs a secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._cancel import CancelToken
from ._clock import Clock, SystemClock
from ._context import Deps
from ._errors import ValidationIssue
from ._lifecycle import Outcome, run_lifecycle
from ._messages import MemorySink, Message
from ._task import Task


@dataclass(frozen=True)
class Log:
    level: str
    message: str


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str | None = None


@dataclass
class TaskRunResult:
    outcome: Outcome
    #: Input problems (``invalid``), or output problems (``failed`` with outputs_invalid).
    errors: list[ValidationIssue]
    error: BaseException | None
    #: The outputs emitted, as typed values.
    outputs: dict[str, Any]
    logs: list[Log] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    #: Every checkpoint, in order; the last is what a retry would start from.
    states: list[Any] = field(default_factory=list)
    heartbeats: int = 0
    #: Every message, as the runner would read it from $MAESTRO_MESSAGES.
    messages: list[Message] = field(default_factory=list)


def run_task(
    task: Task[Any],
    inputs: Any,
    *,
    secrets: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    cancel: CancelToken | None = None,
    workspace: str | None = None,
    artifacts_dir: str | None = None,
    state: Any = None,
    policy: Mapping[str, str] | None = None,
) -> TaskRunResult:
    """Runs ``task`` on ``inputs`` (the JSON ``with:`` value, checked against the spec)."""
    sink = MemorySink()
    given = dict(secrets or {})
    ending = run_lifecycle(
        task,
        inputs,
        Deps(
            sink=sink,
            clock=clock or SystemClock(),
            cancel=cancel or CancelToken(),
            workspace=workspace or os.getcwd(),
            artifacts_dir=artifacts_dir,
            secret=given.get,
            state=state,
            policy=dict(policy) if policy else None,
        ),
    )

    def of(kind: str) -> list[Message]:
        return [m for m in sink.messages if m["type"] == kind]

    return TaskRunResult(
        outcome=ending.outcome,
        errors=ending.errors,
        error=ending.error,
        outputs=ending.outputs,
        logs=[Log(m["level"], m["message"]) for m in of("log")],
        metrics=[Metric(m["name"], m["value"], m.get("unit")) for m in of("metric")],
        artifacts=[m["path"] for m in of("artifact")],
        states=[m["value"] for m in of("state")],
        heartbeats=len(of("heartbeat")),
        messages=sink.messages,
    )
