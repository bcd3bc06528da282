"""The runner contract's messages case, in Python: the task of sdk-task.ts written with the Python
SDK (sdk/python). It logs a line holding a secret, a metric and a heartbeat, and reports its
outputs through the SDK: $MAESTRO_MESSAGES where the runner sets it, else $MAESTRO_OUTPUT."""

import os

from maestro_sdk import define_task, run_main

SPEC = {
    "inputs": {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}},
    "outputs": {
        "type": "object",
        "required": ["answer"],
        "properties": {"answer": {"type": "string"}, "notes": {"type": "string"}},
    },
}


def execute(inputs, ctx):
    ctx.emit.log(f"reporting {inputs['answer']} with {ctx.secret('TOKEN')}")
    ctx.emit.metric("rows", 3)
    ctx.heartbeat()
    ctx.emit.output("notes", "line one\nline=two")
    return {"answer": inputs["answer"]}


reporter = define_task(name="contract-reporter", version="1.0.0", spec=SPEC, execute=execute)

if __name__ == "__main__":
    raise SystemExit(run_main(reporter, os.environ))
