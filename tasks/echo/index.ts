// tasks/echo: prints `message` and sets `message` plus every entry of `outputs` as outputs, built
// on the task SDK. Its spec is task.json's (checked equal by tasks/echo/echo.test.ts); its output
// names come from its inputs, so spec.outputs allows any name (`additionalProperties`).
import { defineTask, runMain, TaskError } from '../../sdk/index.ts';

export const echo = defineTask({
  name: 'echo',
  version: '1.0.0',
  description: 'Prints a message and sets the given outputs. Useful for wiring and for tests.',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        message: { type: 'string', description: 'Printed to standard output.' },
        outputs: {
          type: 'object',
          description: 'Outputs to set, name to value.',
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
      },
    },
    outputs: {
      type: 'object',
      properties: { message: { type: 'string', description: 'The message, as given.' } },
      additionalProperties: { type: 'string' },
    },
  },
  execute(inputs, ctx) {
    // Standard output, as its spec promises, not a log message: the runner logs and redacts
    // stdout line by line, so a multi-line message stays one log line per line.
    if (inputs.message !== undefined) process.stdout.write(`${inputs.message}\n`);
    const outputs: Record<string, string> = {
      ...(inputs.message === undefined ? {} : { message: inputs.message }),
    };
    for (const [k, v] of Object.entries(inputs.outputs ?? {})) outputs[k] = String(v);
    // Outputs are single lines (they feed `key=value` files and templates): refuse before setting any.
    for (const [k, v] of Object.entries(outputs))
      if (/[\r\n]/.test(v))
        throw new TaskError('output_line_break', `output ${k} holds a line break; outputs are single lines`, {
          hint: 'pass a multi-line value as a file (an artifact), not as an output',
        });
    for (const [k, v] of Object.entries(outputs)) ctx.emit.output(k, v);
  },
});

if (import.meta.main) await runMain(echo, process.env);
