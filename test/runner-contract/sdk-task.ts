/**
 * A task written with the SDK, for the runner contract's messages case: it logs a line holding a
 * secret, a metric and a heartbeat, and reports its output through the SDK (so through
 * $MAESTRO_MESSAGES where the runner sets it, else the fallback into $MAESTRO_OUTPUT).
 */
import { defineTask, runMain } from '../../sdk/index.ts';

export const reporter = defineTask({
  name: 'contract-reporter',
  version: '1.0.0',
  spec: {
    inputs: { type: 'object', required: ['answer'], properties: { answer: { type: 'string' } } },
    outputs: {
      type: 'object',
      required: ['answer'],
      properties: { answer: { type: 'string' }, notes: { type: 'string' } },
    },
  },
  execute(inputs, ctx) {
    ctx.emit.log(`reporting ${inputs.answer} with ${ctx.secret('TOKEN')}`);
    ctx.emit.metric('rows', 3);
    ctx.heartbeat();
    ctx.emit.output('notes', 'line one\nline=two');
    return { answer: inputs.answer };
  },
});

if (import.meta.main) await runMain(reporter, process.env);
