// A task of your own on the TypeScript SDK: copy this folder to .maestro/tasks/<name>/ of your
// repository and use it as `uses: ./.maestro/tasks/<name>`. `maestro tasks test <this folder>`
// runs examples/*.json (its inputs and expected outputs) through the in-process harness.
import { defineTask, runMain } from '@summit-maestro/sdk';

export const hello = defineTask({
  name: 'hello',
  version: '1.0.0',
  spec: {
    inputs: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        times: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
      },
    },
    outputs: {
      type: 'object',
      required: ['greeting', 'count'],
      properties: { greeting: { type: 'string' }, count: { type: 'integer' } },
    },
  },
  async execute(inputs, ctx) {
    const times = inputs.times ?? 1;
    ctx.emit.log(`greeting ${inputs.name} ${times} time(s)`);
    return { greeting: Array.from({ length: times }, () => `hello ${inputs.name}`).join(', '), count: times };
  },
});

if (import.meta.main) await runMain(hello, process.env);
