"""A task as a process, started by a runner (docs/task-protocol.md): inputs from
``MAESTRO_INPUTS``, messages to ``MAESTRO_MESSAGES`` (or the fallback channels where a runner
does not set it), the runner's SIGTERM as the cancel token, and the ending as the exit code. The
task's entry passes its environment in (``run_main(task, os.environ)``): the SDK reads none."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from ._cancel import CancelToken
from ._clock import Clock, SystemClock
from ._context import Deps
from ._errors import TaskError
from ._lifecycle import Ending, run_lifecycle
from ._messages import FallbackSink, FileSink, MessageSink
from ._schema import describe_issues
from ._task import Task


class EXIT:
    """0 done; 1 failed; 2 invalid inputs (the user's fault); 143 stopped by SIGTERM."""

    OK = 0
    FAILED = 1
    INVALID = 2
    CANCELLED = 143


def run_main(
    task: Task[Any],
    env: Mapping[str, str],
    *,
    clock: Clock | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    cwd: str | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Runs ``task`` once and returns its exit code: ``raise SystemExit(run_main(task, os.environ))``."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    clock = clock or SystemClock()
    token = cancel or CancelToken()
    _on_sigterm(lambda: token.cancel(f"{task.name} was asked to stop (SIGTERM)"))
    try:
        inputs = json.loads(env.get("MAESTRO_INPUTS") or "{}")
    except json.JSONDecodeError:
        err.write(f"{task.name}: MAESTRO_INPUTS is not valid JSON\n")
        return EXIT.INVALID
    try:
        state = _read_state(env.get("MAESTRO_STATE"))
    except (OSError, ValueError):
        err.write(f"{task.name}: the checkpoint MAESTRO_STATE names is not readable JSON\n")
        return EXIT.FAILED
    messages = env.get("MAESTRO_MESSAGES")
    sink: MessageSink = (
        FileSink(messages, clock.now) if messages else FallbackSink(env.get("MAESTRO_OUTPUT"), out, err)
    )
    deps = Deps(
        sink=sink,
        clock=clock,
        cancel=token,
        workspace=cwd or os.getcwd(),
        artifacts_dir=env.get("MAESTRO_ARTIFACTS"),
        secret=env.get,
        state=state,
        policy=_read_policy(env.get("MAESTRO_POLICY_CONTEXT")),
    )
    code = report(task.name, run_lifecycle(task, inputs, deps), err)
    err.flush()
    return code


def _read_state(path: str | None) -> Any:
    """``MAESTRO_STATE`` names a file holding the JSON checkpoint to start from; unset at first."""
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _read_policy(text: str | None) -> dict[str, str] | None:
    """``MAESTRO_POLICY_CONTEXT``: the plan's policy context as JSON. Only its three string fields
    are kept (anything else is not the engine's), as the TypeScript SDK does."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    policy = {k: v for k in ("purpose", "authority", "license") if isinstance(v := value.get(k), str)}
    return policy or None


def _on_sigterm(stop: Any) -> None:
    # Signal handlers can only be set from the main thread; elsewhere (a test) the caller cancels.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop())


def report(name: str, ending: Ending, err: TextIO) -> int:
    """Says on stderr why the task did not succeed (the runner's failure message): its exit code."""
    if ending.outcome == "succeeded":
        return EXIT.OK
    if ending.outcome == "invalid":
        err.write(f"{name}: invalid inputs: {describe_issues(ending.errors)}\n")
        return EXIT.INVALID
    error = ending.error
    message = error.message if isinstance(error, TaskError) else f"{type(error).__name__}: {error}"
    code = f" [{error.code}]" if isinstance(error, TaskError) else ""
    details = f": {describe_issues(ending.errors, '(outputs)')}" if ending.errors else ""
    err.write(f"{name}{code}: {message}{details}\n")
    if isinstance(error, TaskError) and error.hint:
        err.write(f"hint: {error.hint}\n")
    return EXIT.CANCELLED if ending.outcome == "cancelled" else EXIT.FAILED
