from __future__ import annotations

from dataclasses import dataclass

import pytest
from greet import SPEC, Greeting, greet

from maestro_sdk import (
    CancelToken,
    FakeClock,
    Log,
    Metric,
    TaskError,
    ValidationIssue,
    define_task,
    run_task,
)


def test_runs_the_lifecycle_with_typed_inputs_and_every_message():
    result = run_task(greet, {"who": "Ada", "times": 2})
    assert result.outcome == "succeeded"
    assert result.outputs == {"greeting": "hello Ada", "count": 2}
    assert result.logs == [Log("info", "hello Ada"), Log("info", "hello Ada")]
    assert result.metrics == [Metric("greetings", 2, "count")]
    assert result.states == [{"greeted": 1}, {"greeted": 2}]
    assert result.heartbeats == 2
    # On the wire, as the runner reads $MAESTRO_MESSAGES: outputs are strings, JSON for non-strings.
    outputs = [m for m in result.messages if m["type"] == "output"]
    assert outputs == [
        {"v": 1, "type": "output", "name": "greeting", "value": "hello Ada"},
        {"v": 1, "type": "output", "name": "count", "value": "2"},
    ]
    assert {"v": 1, "type": "progress", "done": 2, "total": 2} in result.messages


def test_execute_gets_the_dataclass_not_a_dict():
    seen = []

    def execute(inputs, ctx):
        seen.append(inputs)

    t = define_task(name="t", version="1.0.0", spec=SPEC, inputs=Greeting, execute=execute)
    run_task(t, {"who": "Ada"})
    assert seen == [Greeting(who="Ada", times=1, pause=0)]


def test_checks_inputs_against_the_spec_and_reports_every_problem_with_its_path():
    result = run_task(greet, {"times": 0, "pause": "soon", "extra": True})
    assert result.outcome == "invalid"
    assert result.errors == [
        ValidationIssue("/extra", "is not allowed (not in the spec)"),
        ValidationIssue("/pause", "'soon' is not of type 'number'"),
        ValidationIssue("/times", "0 is less than the minimum of 1"),
        ValidationIssue("/who", "is required"),
    ]
    assert result.messages == []  # none of the task's code saw the inputs


def test_paths_of_nested_values_are_json_pointers():
    spec = {
        "inputs": {
            "type": "object",
            "properties": {"targets": {"type": "array", "items": {"type": "object", "required": ["url/x"]}}},
        },
        "outputs": {"type": "object"},
    }
    t = define_task(name="t", version="1", spec=spec, execute=lambda i, c: None)
    result = run_task(t, {"targets": [{"url/x": "a"}, {}]})
    assert result.errors == [ValidationIssue("/targets/1/url~1x", "is required")]


def test_validate_runs_after_the_spec_and_its_problems_are_reported():
    result = run_task(greet, {"who": "admin"})
    assert result.outcome == "invalid"
    assert result.errors == [ValidationIssue("/who", "must not be admin")]


def test_an_output_the_spec_does_not_declare_fails_the_task():
    t = define_task(name="t", version="1", spec=SPEC, execute=lambda i, c: c.emit.output("secret", "x"))
    result = run_task(t, {"who": "Ada"})
    assert result.outcome == "failed"
    assert isinstance(result.error, TaskError) and result.error.code == "output_undeclared"
    assert not [m for m in result.messages if m["type"] == "output"]


def test_outputs_that_do_not_match_the_spec_fail_with_every_problem():
    t = define_task(name="t", version="1", spec=SPEC, execute=lambda i, c: {"count": "two"})
    result = run_task(t, {"who": "Ada"})
    assert result.outcome == "failed"
    assert result.error.code == "outputs_invalid"
    assert result.errors == [
        ValidationIssue("/count", "'two' is not of type 'integer'"),
        ValidationIssue("/greeting", "is required"),
    ]


def test_returning_an_outputs_dataclass():
    @dataclass
    class Out:
        greeting: str
        count: int | None = None

    t = define_task(name="t", version="1", spec=SPEC, outputs=Out, execute=lambda i, c: Out("hi"))
    assert run_task(t, {"who": "Ada"}).outputs == {"greeting": "hi"}


def test_a_fake_clock_runs_a_long_wait_in_no_time_and_cancel_stops_it_where_it_falls():
    clock, cancel = FakeClock(), CancelToken()
    clock.call_at(150, lambda: cancel.cancel("timeout (SIGTERM)"))  # the runner's deadline
    result = run_task(greet, {"who": "Ada", "times": 5, "pause": 60}, clock=clock, cancel=cancel)
    assert result.outcome == "cancelled"
    assert isinstance(result.error, TaskError) and result.error.code == "cancelled"
    assert clock.now() == 150  # the third sleep was cut short at the cancel, not run out
    assert clock.slept == [60, 60, 60]
    assert result.states == [{"greeted": 1}, {"greeted": 2}, {"greeted": 3}]  # the last checkpoint a retry starts from
    assert "greeting" not in result.outputs


def test_secrets_are_given_by_name_and_a_missing_one_names_the_env_line():
    def execute(inputs, ctx):
        ctx.emit.log(f"token {ctx.secret('TOKEN')}")
        ctx.secret("OTHER")

    t = define_task(name="t", version="1", spec=SPEC, execute=execute)
    result = run_task(t, {"who": "Ada"}, secrets={"TOKEN": "s3cr3t"})
    assert result.logs == [Log("info", "token s3cr3t")]  # not redacted: a test can catch the leak
    assert result.error.code == "secret_missing"
    assert result.error.hint == "pass it in the task's env: OTHER: ${{ secrets.OTHER }}"


def test_init_runs_first_with_the_context():
    order = []
    t = define_task(
        name="t",
        version="1",
        spec=SPEC,
        init=lambda ctx: order.append(("init", ctx.workspace)),
        execute=lambda i, c: order.append("execute"),
    )
    run_task(t, {"who": "Ada"}, workspace="/w")
    assert order == [("init", "/w"), "execute"]


def test_a_task_that_raises_fails_with_its_error():
    def execute(inputs, ctx):
        raise RuntimeError("disk full")

    result = run_task(define_task(name="t", version="1", spec=SPEC, execute=execute), {"who": "A"})
    assert result.outcome == "failed"
    assert str(result.error) == "disk full"


@pytest.mark.parametrize(
    "emit, code",
    [
        (lambda c: c.emit.metric("rows", float("nan")), "metric_invalid"),
        (lambda c: c.emit.metric("rows", True), "metric_invalid"),
        (lambda c: c.emit.log("x", "loud"), "log_level_invalid"),
    ],
)
def test_messages_the_protocol_does_not_allow_are_refused(emit, code):
    result = run_task(define_task(name="t", version="1", spec=SPEC, execute=lambda i, c: emit(c)), {"who": "A"})
    assert result.error.code == code
    assert result.messages == []


def test_a_state_that_is_not_json_is_refused():
    t = define_task(name="t", version="1", spec=SPEC, execute=lambda i, c: c.emit.state({"at": float("inf")}))
    result = run_task(t, {"who": "A"})
    assert result.outcome == "failed"
    assert result.states == []


@dataclass
class Point:
    x: int
    y: int | None = None


def test_a_dataclass_output_value_is_sent_as_its_json_object():
    spec = {"inputs": {}, "outputs": {"type": "object", "properties": {"at": {"type": "object"}}}}
    t = define_task(name="t", version="1", spec=spec, execute=lambda i, c: c.emit.output("at", Point(1)))
    result = run_task(t, {})
    assert result.outcome == "succeeded"
    assert result.outputs == {"at": {"x": 1}}
    assert result.messages == [{"v": 1, "type": "output", "name": "at", "value": '{"x":1}'}]


def test_emit_image_writes_the_message_the_engine_stores_an_sbom_for():
    reference = "registry.example/team/app@sha256:" + "d" * 64

    def execute(inputs, ctx):
        ctx.emit.image(reference)
        return {"greeting": "x", "count": 1}

    result = run_task(define_task(name="t", version="1", spec=SPEC, execute=execute), {"who": "Ada"})
    assert result.outcome == "succeeded"
    assert [m["reference"] for m in result.messages if m["type"] == "image"] == [reference]
