"""The task's unit tests: the SDK's harness (run_task) runs the same lifecycle the runner does,
in-process, with a fake clock and a cancel token standing for the runner's SIGTERM."""

from maestro_sdk import CancelToken, FakeClock, Log, ValidationIssue, run_task
from task import hello


def test_greets_with_typed_outputs():
    result = run_task(hello, {"who": "Ada", "times": 2})
    assert result.outcome == "succeeded"
    assert result.outputs == {"greeting": "hello Ada", "count": 2}
    assert result.logs == [Log("info", "hello Ada (1/2)"), Log("info", "hello Ada (2/2)")]
    assert result.states[-1] == {"greeted": 2}


def test_every_input_problem_is_named_with_its_path():
    result = run_task(hello, {"who": 5, "times": 0})
    assert result.outcome == "invalid"
    assert [e.path for e in result.errors] == ["/times", "/who"]
    assert run_task(hello, {"who": "  "}).errors == [ValidationIssue("/who", "must not be blank")]


def test_a_timeout_during_a_pause_cancels_it_after_the_last_checkpoint():
    clock, cancel = FakeClock(), CancelToken()
    clock.call_at(90, cancel.cancel)  # the runner's SIGTERM, 90 s in
    result = run_task(hello, {"who": "Ada", "times": 10, "pause": 60}, clock=clock, cancel=cancel)
    assert result.outcome == "cancelled"
    assert clock.now() == 90
    assert result.states == [{"greeted": 1}, {"greeted": 2}]
