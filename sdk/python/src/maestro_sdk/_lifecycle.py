"""One run of a task's lifecycle, shared by the process entry (``run_main``) and the harness
(``run_task``), so a unit test exercises exactly the code a runner starts: init(ctx) → the
spec's input check → validate(inputs) → execute(inputs, ctx) → the spec's output check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._context import Context, Deps
from ._errors import TaskError, ValidationIssue
from ._task import Task
from ._typed import build, plain

Outcome = Literal["succeeded", "invalid", "failed", "cancelled"]


@dataclass
class Ending:
    outcome: Outcome
    #: The input problems (``invalid``) or output problems (``failed``, code ``outputs_invalid``).
    errors: list[ValidationIssue] = field(default_factory=list)
    #: What ended a ``failed`` or ``cancelled`` task.
    error: BaseException | None = None
    #: The outputs emitted, as typed values (on the wire they are strings).
    outputs: dict[str, Any] = field(default_factory=dict)


def run_lifecycle(task: Task[Any], raw_inputs: Any, deps: Deps) -> Ending:
    outputs: dict[str, Any] = {}
    ctx = Context(task, deps, outputs)
    try:
        if task.init is not None:
            task.init(ctx)
        checked = task.check_inputs(raw_inputs)
        if not checked.ok:
            return Ending("invalid", checked.errors, outputs=outputs)
        inputs = build(task.inputs_type, raw_inputs)
        if task.validate is not None:
            custom = task.validate(inputs)
            if not custom.ok:
                return Ending("invalid", custom.errors, outputs=outputs)
        returned = task.execute(inputs, ctx)
        for name, value in _returned_outputs(task, returned).items():
            ctx.emit.output(name, value)
        ended = task.check_outputs(outputs)
        if not ended.ok:
            error = TaskError(
                "outputs_invalid",
                f"{task.name}'s outputs do not match its spec",
                fault="system",
                hint="fix the task: what it emits must match spec.outputs",
            )
            return Ending("failed", ended.errors, error, outputs)
        return Ending("succeeded", outputs=outputs)
    except Exception as error:  # the task's own failure, reported; never a crash of the SDK
        return Ending("cancelled" if deps.cancel.cancelled else "failed", error=error, outputs=outputs)


def _returned_outputs(task: Task[Any], returned: Any) -> Mapping[str, Any]:
    """``execute`` may return nothing, a mapping of outputs, or an instance of the outputs type."""
    value = plain(returned)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TaskError(
            "outputs_invalid",
            f"{task.name}'s execute returned {type(returned).__name__}, not its outputs",
            fault="system",
            hint="return a dict of outputs (or the outputs dataclass), or None after ctx.emit.output",
        )
    return value
