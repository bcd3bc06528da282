// The repository's own task, on the TypeScript SDK: `uses: ./.maestro/tasks/order-lines`. Its
// inputs are typed from the spec (checked again here at run time, every problem with its path), its
// outputs are typed, and the order it writes to the workspace is kept as an artifact by the
// workflow (`artifacts: [order.json]`) for the schema check that needs it.
import { writeFileSync } from 'node:fs';
import { defineTask, runMain, workspaceFile } from '@summit-maestro/sdk';

export const orderLines = defineTask({
  name: 'order-lines',
  version: '1.0.0',
  spec: {
    inputs: {
      type: 'object',
      required: ['orderId', 'lines'],
      additionalProperties: false,
      properties: {
        orderId: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' },
        lines: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['sku', 'qty', 'unitCents'],
            additionalProperties: false,
            properties: {
              sku: { type: 'string', minLength: 1 },
              qty: { type: 'integer', minimum: 1 },
              unitCents: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
    },
    outputs: {
      type: 'object',
      required: ['subtotalCents', 'lineCount'],
      properties: { subtotalCents: { type: 'integer' }, lineCount: { type: 'integer' } },
    },
  },
  async execute(inputs, ctx) {
    const subtotalCents = inputs.lines.reduce((sum, line) => sum + line.qty * line.unitCents, 0);
    const order = { orderId: inputs.orderId, lines: inputs.lines, subtotalCents };
    writeFileSync(workspaceFile(ctx.workspace, 'order.json', '/orderId'), JSON.stringify(order, null, 2));
    ctx.emit.metric('lines', inputs.lines.length);
    ctx.emit.log(`order ${inputs.orderId}: ${inputs.lines.length} line(s), subtotal ${subtotalCents} cents`);
    return { subtotalCents, lineCount: inputs.lines.length };
  },
} as const);

if (import.meta.main) await runMain(orderLines, process.env);
