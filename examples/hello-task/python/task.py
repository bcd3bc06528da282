"""hello-task, in Python: a Maestro task on the Python SDK (summit-maestro-sdk).

Typed inputs (the ``Hello`` dataclass, checked against ``SPEC`` when the task is defined),
a log line per greeting, a checkpoint after each, a heartbeat, a metric, and a pause on the
task's clock that the runner's SIGTERM (a cancel or the task's ``timeout:``) ends at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from maestro_sdk import Context, ValidationResult, run_main, task

SPEC = {
    "inputs": {
        "type": "object",
        "required": ["who"],
        "additionalProperties": False,
        "properties": {
            "who": {"type": "string", "minLength": 1, "description": "Whom to greet."},
            "times": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1},
            "pause": {"type": "number", "minimum": 0, "description": "Seconds between greetings."},
        },
    },
    "outputs": {
        "type": "object",
        "required": ["greeting", "count"],
        "properties": {"greeting": {"type": "string"}, "count": {"type": "integer"}},
    },
}


@dataclass(frozen=True)
class Hello:
    who: str
    times: int = 1
    pause: float = 0


def not_blank(inputs: Hello) -> ValidationResult:
    # A check the schema cannot say: minLength counts spaces.
    if not inputs.who.strip():
        return ValidationResult.invalid(("/who", "must not be blank"))
    return ValidationResult.valid()


@task(name="hello", version="1.0.0", spec=SPEC, inputs=Hello, validate=not_blank)
def hello(inputs: Hello, ctx: Context) -> dict[str, object]:
    """Greets someone, a number of times."""
    for i in range(inputs.times):
        ctx.cancel.raise_if_cancelled()
        ctx.emit.log(f"hello {inputs.who} ({i + 1}/{inputs.times})")
        ctx.emit.state({"greeted": i + 1})  # a retry could start from here
        ctx.heartbeat()
        if inputs.pause and i + 1 < inputs.times:
            ctx.sleep(inputs.pause)  # ends at once, raising Cancelled, on SIGTERM
    ctx.emit.metric("greetings", inputs.times)
    return {"greeting": f"hello {inputs.who}", "count": inputs.times}


if __name__ == "__main__":
    raise SystemExit(run_main(hello, os.environ))
