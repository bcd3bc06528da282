// tasks/wait: sleeps for `duration`, then outputs `waitedMs`. Built on the task SDK: the spec
// checks the duration (task.json's schema, the same one the compiler checks `with:` against),
// the runner's SIGTERM (cancel, deadline) ends the wait at once, and tests run it on a fake clock.
import { defineTask, runMain } from '../../sdk/index.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export const wait = defineTask({
  name: 'wait',
  version: '1.0.0',
  description: 'Sleeps for a duration (e.g. to let a rollout settle), then succeeds.',
  spec: {
    // Kept equal to task.json by tasks/wait/wait.test.ts (the catalog reads task.json).
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['duration'],
      properties: {
        duration: {
          type: 'string',
          pattern: '^[0-9]{1,9}(ms|s|m|h)$',
          description: 'How long to wait: one number and a unit, e.g. 500ms, 2s, 10m, 1h.',
        },
      },
    },
    outputs: {
      type: 'object',
      required: ['waitedMs'],
      properties: { waitedMs: { type: 'integer', description: 'How long it waited, in milliseconds.' } },
    },
  },
  async execute({ duration }, ctx) {
    const [, amount, unit] = /^([0-9]+)(ms|s|m|h)$/.exec(duration) as unknown as [
      string,
      string,
      keyof typeof UNIT_MS,
    ];
    const ms = Number(amount) * UNIT_MS[unit];
    ctx.emit.log(`waiting ${duration}`);
    await ctx.clock.sleep(ms, ctx.signal);
    return { waitedMs: ms };
  },
});

if (import.meta.main) await runMain(wait, process.env);
