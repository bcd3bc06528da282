"""run_main: the task as the process a runner starts (MAESTRO_INPUTS in, MAESTRO_MESSAGES out,
SIGTERM, exit codes), run in-process where that suffices and as a real child process for the
signal."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from greet import greet

from maestro_sdk import EXIT, define_task, run_main

HERE = Path(__file__).parent
SRC = HERE.parent / "src"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_inputs_in_messages_out_exit_zero(tmp_path):
    messages = tmp_path / "messages"
    code = run_main(greet, {"MAESTRO_INPUTS": '{"who": "Ada"}', "MAESTRO_MESSAGES": str(messages)})
    assert code == EXIT.OK
    got = lines(messages)
    assert all(m["v"] == 1 and isinstance(m["time"], int) for m in got)
    assert [(m["type"], m.get("name")) for m in got if m["type"] == "output"] == [
        ("output", "greeting"),
        ("output", "count"),
    ]
    assert {"type": "log", "level": "info", "message": "hello Ada"}.items() <= got[0].items()


def test_invalid_inputs_exit_2_naming_every_field(tmp_path):
    err = io.StringIO()
    code = run_main(greet, {"MAESTRO_INPUTS": '{"who": 5, "times": 0}'}, stderr=err)
    assert code == EXIT.INVALID
    assert err.getvalue() == (
        "greet: invalid inputs: /times: 0 is less than the minimum of 1; /who: 5 is not of type 'string'\n"
    )


def test_inputs_that_are_not_json_exit_2():
    err = io.StringIO()
    assert run_main(greet, {"MAESTRO_INPUTS": "{who"}, stderr=err) == EXIT.INVALID
    assert err.getvalue() == "greet: MAESTRO_INPUTS is not valid JSON\n"


def test_a_failure_says_its_code_and_hint_and_exits_1():
    t = define_task(name="t", version="1", spec=greet.spec, execute=lambda i, c: c.secret("TOKEN"))
    err = io.StringIO()
    assert run_main(t, {"MAESTRO_INPUTS": '{"who": "a"}'}, stderr=err) == EXIT.FAILED
    assert err.getvalue() == (
        "t [secret_missing]: t needs the secret TOKEN, which it was not given\n"
        "hint: pass it in the task's env: TOKEN: ${{ secrets.TOKEN }}\n"
    )


def test_outputs_invalid_lists_the_problems():
    t = define_task(name="t", version="1", spec=greet.spec, execute=lambda i, c: {"greeting": 1})
    err = io.StringIO()
    assert run_main(t, {"MAESTRO_INPUTS": '{"who": "a"}'}, stderr=err) == EXIT.FAILED
    assert "t [outputs_invalid]: t's outputs do not match its spec: /greeting: 1 is not of type 'string'" in err.getvalue()


def test_without_maestro_messages_outputs_go_to_maestro_output_as_delimited_blocks(tmp_path):
    t = define_task(
        name="t",
        version="1",
        spec={"inputs": {}, "outputs": {"type": "object", "properties": {"notes": {"type": "string"}}}},
        execute=lambda i, c: (c.emit.log("careful", "warn"), c.emit.metric("rows", 3), {"notes": "a\nb=c"})[-1],
    )
    output, err = tmp_path / "out", io.StringIO()
    assert run_main(t, {"MAESTRO_OUTPUT": str(output)}, stderr=err) == EXIT.OK
    text = output.read_text()
    delimiter = text.split("\n")[0].removeprefix("notes<<")
    assert delimiter.startswith("MAESTRO_") and len(delimiter) == 8 + 24
    assert text == f"notes<<{delimiter}\na\nb=c\n{delimiter}\n"
    assert err.getvalue() == "warn: careful\nmetric rows=3\n"


def test_without_either_file_outputs_are_printed():
    out = io.StringIO()
    assert run_main(greet, {"MAESTRO_INPUTS": '{"who": "Ada"}'}, stdout=out, stderr=io.StringIO()) == EXIT.OK
    assert out.getvalue() == "greeting=hello Ada\ncount=1\n"


def test_sigterm_cancels_the_task_it_writes_its_checkpoints_and_exits_143(tmp_path):
    """A real process: the runner's SIGTERM reaches ctx.cancel and wakes a sleep at once."""
    messages = tmp_path / "messages"
    child = subprocess.Popen(
        [sys.executable, "-c", "import os, greet, maestro_sdk as m; raise SystemExit(m.run_main(greet.greet, os.environ))"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}",
            "MAESTRO_INPUTS": '{"who": "Ada", "times": 3, "pause": 600}',
            "MAESTRO_MESSAGES": str(messages),
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until it is asleep: the first greeting's checkpoint is written before the pause.
    deadline = time.monotonic() + 30
    while not (messages.exists() and '"state"' in messages.read_text()):
        assert child.poll() is None and time.monotonic() < deadline, "the task did not start"
        time.sleep(0.02)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == EXIT.CANCELLED
    assert err == "greet [cancelled]: greet was asked to stop (SIGTERM)\nhint: the run was cancelled or hit its timeout\n"
    assert [m["value"] for m in lines(messages) if m["type"] == "state"] == [{"greeted": 1}]


def test_the_checkpoint_maestro_state_names_is_ctx_state(tmp_path):
    seen = []
    spec = {"inputs": {"type": "object"}, "outputs": {"type": "object", "properties": {}}}
    t = define_task(name="t", version="1", spec=spec, execute=lambda i, c: seen.append(c.state))
    (tmp_path / "state").write_text('{"cursor": 500, "token": "***"}')
    assert run_main(t, {"MAESTRO_INPUTS": '{"who": "a"}', "MAESTRO_STATE": str(tmp_path / "state")}) == EXIT.OK
    assert run_main(t, {"MAESTRO_INPUTS": '{"who": "a"}'}) == EXIT.OK
    assert seen == [{"cursor": 500, "token": "***"}, None]


def test_the_policy_maestro_policy_carries_is_ctx_policy():
    seen = []
    spec = {"inputs": {"type": "object"}, "outputs": {"type": "object", "properties": {}}}
    t = define_task(name="t", version="1", spec=spec, execute=lambda i, c: seen.append(c.policy))
    policy = '{"purpose": "disclosure", "authority": "dpo", "license": "CC-BY-4.0", "extra": {"x": 1}}'
    assert run_main(t, {"MAESTRO_INPUTS": "{}", "MAESTRO_POLICY_CONTEXT": policy}) == EXIT.OK
    assert run_main(t, {"MAESTRO_INPUTS": "{}", "MAESTRO_POLICY_CONTEXT": "not json"}) == EXIT.OK
    assert run_main(t, {"MAESTRO_INPUTS": "{}"}) == EXIT.OK
    assert seen == [{"purpose": "disclosure", "authority": "dpo", "license": "CC-BY-4.0"}, None, None]


def test_a_checkpoint_that_is_not_json_fails_the_task_saying_so(tmp_path):
    (tmp_path / "state").write_text("{cursor")
    err = io.StringIO()
    env = {"MAESTRO_INPUTS": '{"who": "a"}', "MAESTRO_STATE": str(tmp_path / "state")}
    assert run_main(greet, env, stderr=err) == EXIT.FAILED
    assert err.getvalue() == "greet: the checkpoint MAESTRO_STATE names is not readable JSON\n"
