"""What ``execute`` is handed: ``ctx.emit`` (outputs, logs, metrics, artifacts, progress,
checkpoint state), ``ctx.heartbeat()``, ``ctx.cancel`` (the runner's SIGTERM), ``ctx.clock``,
``ctx.secret(name)``, the workspace and the artifacts directory."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._cancel import CancelToken
from ._clock import Clock
from ._errors import TaskError
from ._messages import PROTOCOL_VERSION, MessageSink, output_text
from ._typed import plain

if TYPE_CHECKING:
    from ._task import Task

LogLevel = Literal["debug", "info", "warn", "error"]
LEVELS = ("debug", "info", "warn", "error")
V = PROTOCOL_VERSION


@dataclass
class Deps:
    sink: MessageSink
    clock: Clock
    cancel: CancelToken
    workspace: str
    artifacts_dir: str | None
    secret: Callable[[str], str | None]
    #: The checkpoint to start from (``ctx.state``); None on a first attempt.
    state: Any = None
    #: The run's policy context (``ctx.policy``), from ``MAESTRO_POLICY_CONTEXT``; None without one.
    policy: dict[str, str] | None = None


class Emit:
    def __init__(self, task: Task[Any], deps: Deps, outputs: dict[str, Any]) -> None:
        self._task, self._deps, self._outputs = task, deps, outputs

    def output(self, name: str, value: Any) -> None:
        """An output declared in ``spec.outputs``; non-strings are sent as JSON text."""
        if not self._task.declares_output(name):
            raise TaskError(
                "output_undeclared",
                f"{self._task.name} emitted output {name!r}, which its spec does not declare",
                fault="system",
                hint=f"add {name} to spec.outputs.properties, or do not emit it",
            )
        value = plain(value)  # a dataclass value goes as the JSON object it stands for
        self._outputs[name] = value
        self._write({"type": "output", "name": name, "value": output_text(value)})

    def log(self, message: str, level: LogLevel = "info") -> None:
        if level not in LEVELS:
            raise TaskError("log_level_invalid", f"log level {level!r} is not one of {', '.join(LEVELS)}", fault="system")
        self._write({"type": "log", "level": level, "message": str(message)})

    def metric(self, name: str, value: float, unit: str | None = None) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TaskError("metric_invalid", f"metric {name!r} must be a finite number, not {value!r}", fault="system")
        self._write({"type": "metric", "name": name, "value": value, **({"unit": unit} if unit else {})})

    def artifact(self, path: str) -> None:
        """A file in the workspace the task produced (kept when the manifest declares it)."""
        self._write({"type": "artifact", "path": path})

    def image(self, reference: str) -> None:
        """An image the task built and pushed, by digest (registry/repository@sha256:...): the
        engine makes, signs and stores its SBOM when the attempt succeeds."""
        self._write({"type": "image", "reference": reference})

    def state(self, value: Any) -> None:
        """A checkpoint: the value a retry should start from (see docs/task-protocol.md)."""
        self._write({"type": "state", "value": value})

    def progress(self, done: float | None = None, total: float | None = None, message: str | None = None) -> None:
        fields = {"done": done, "total": total, "message": message}
        self._write({"type": "progress", **{k: v for k, v in fields.items() if v is not None}})

    def _write(self, message: dict[str, Any]) -> None:
        self._deps.sink.write({"v": V, **message})


class Context:
    def __init__(self, task: Task[Any], deps: Deps, outputs: dict[str, Any]) -> None:
        self._task, self._deps = task, deps
        self.emit = Emit(task, deps, outputs)
        #: Cancelled on the runner's SIGTERM (cancel, deadline); the grace before SIGKILL follows.
        self.cancel: CancelToken = deps.cancel
        #: Use it instead of ``time`` so tests can fake time: ``ctx.clock.now()``, ``ctx.sleep(s)``.
        self.clock: Clock = deps.clock
        #: The working directory: the run's source checkout, where artifacts are written.
        self.workspace: str = deps.workspace
        #: ``MAESTRO_ARTIFACTS``: what the tasks this one needs produced, one folder each.
        self.artifacts_dir: str | None = deps.artifacts_dir
        #: The checkpoint this attempt starts from (``MAESTRO_STATE``): the last ``emit.state`` of
        #: this task's previous failed attempt in the same run, or None. Secrets in it are ``***``.
        self.state: Any = deps.state
        #: The policy context the engine checked this attempt under (``MAESTRO_POLICY_CONTEXT``: the
        #: workflow's ``spec.policy``: ``purpose``, ``authority``, ``license``), or None when the
        #: run has none. Read it rather than asking for the same values in ``with:``.
        self.policy: dict[str, str] | None = deps.policy

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    def sleep(self, seconds: float) -> None:
        """Waits on the task's clock; raises ``Cancelled`` at once when the task is cancelled."""
        self.clock.sleep(seconds, self.cancel)

    def heartbeat(self) -> None:
        """Says the task is alive (keeps its lease once runners follow messages live)."""
        self._deps.sink.write({"v": V, "type": "heartbeat"})

    def secret(self, name: str) -> str:
        """A secret the manifest passes in ``env:``; ``secret_missing`` naming it when absent."""
        value = self._deps.secret(name)
        if value is None:
            raise TaskError(
                "secret_missing",
                f"{self._task.name} needs the secret {name}, which it was not given",
                hint=f"pass it in the task's env: {name}: ${{{{ secrets.{name} }}}}",
            )
        return value
