"""The task the tests run: typed inputs (a dataclass checked against the spec), a sleep on the
task's clock, every kind of message, and a checkpoint per greeting."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_sdk import Context, ValidationResult, task

SPEC = {
    "inputs": {
        "type": "object",
        "required": ["who"],
        "additionalProperties": False,
        "properties": {
            "who": {"type": "string", "minLength": 1},
            "times": {"type": "integer", "minimum": 1},
            "pause": {"type": "number", "minimum": 0},
        },
    },
    "outputs": {
        "type": "object",
        "required": ["greeting"],
        "properties": {"greeting": {"type": "string"}, "count": {"type": "integer"}},
    },
}


@dataclass(frozen=True)
class Greeting:
    who: str
    times: int = 1
    pause: float = 0


def no_admins(inputs: Greeting) -> ValidationResult:
    if inputs.who == "admin":
        return ValidationResult.invalid(("/who", "must not be admin"))
    return ValidationResult.valid()


@task(name="greet", version="1.0.0", spec=SPEC, inputs=Greeting, validate=no_admins)
def greet(inputs: Greeting, ctx: Context) -> dict[str, object]:
    """Greets someone, a number of times, pausing between greetings."""
    for i in range(inputs.times):
        ctx.cancel.raise_if_cancelled()
        ctx.emit.log(f"hello {inputs.who}")
        ctx.emit.progress(done=i + 1, total=inputs.times)
        ctx.emit.state({"greeted": i + 1})
        ctx.heartbeat()
        if inputs.pause and i + 1 < inputs.times:
            ctx.sleep(inputs.pause)
    ctx.emit.metric("greetings", inputs.times, "count")
    return {"greeting": f"hello {inputs.who}", "count": inputs.times}
