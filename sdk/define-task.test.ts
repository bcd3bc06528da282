import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFakeClock, defineTask, runTask, TaskError } from './index.ts';

const copy = defineTask({
  name: 'copy',
  version: '1.0.0',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['rows', 'target'],
      properties: {
        rows: { type: 'integer', minimum: 1 },
        target: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: { url: { type: 'string' }, headers: { type: 'object' } },
        },
        dryRun: { type: 'boolean' },
      },
    },
    outputs: {
      type: 'object',
      required: ['copied'],
      properties: { copied: { type: 'integer' }, note: { type: 'string' } },
    },
  },
  validate(inputs) {
    return inputs.target.url.startsWith('https://')
      ? { ok: true, errors: [] }
      : { ok: false, errors: [{ path: '/target/url', message: 'must be an https URL' }] };
  },
  async execute(inputs, ctx) {
    expectTypeOf(inputs.rows).toEqualTypeOf<number>();
    expectTypeOf(inputs.dryRun).toEqualTypeOf<boolean | undefined>();
    ctx.emit.log(`copying ${inputs.rows} rows to ${inputs.target.url}`);
    ctx.emit.metric('rows', inputs.rows, 'rows');
    ctx.emit.progress({ done: 0, total: inputs.rows });
    ctx.heartbeat();
    ctx.emit.state({ cursor: inputs.rows });
    ctx.emit.artifact('report.json');
    ctx.emit.output('note', 'fine');
    return { copied: inputs.rows };
  },
});

// A task whose output names come from its inputs (as echo's do).
const open = defineTask({
  name: 'open',
  version: '1.0.0',
  spec: {
    inputs: { type: 'object', additionalProperties: { type: 'string' } },
    outputs: { type: 'object', additionalProperties: { type: 'string' } },
  },
  execute: (inputs, ctx) => {
    for (const [k, v] of Object.entries(inputs)) ctx.emit.output(k, v);
  },
});

describe('defineTask and runTask', () => {
  it('runs the lifecycle: typed inputs, outputs from emit and from the return value, every kind of message', async () => {
    const result = await runTask(copy, { rows: 3, target: { url: 'https://x.example' } });
    expect(result.outcome).toBe('succeeded');
    expect(result.outputs).toEqual({ note: 'fine', copied: 3 });
    expect(result.logs).toEqual([{ level: 'info', message: 'copying 3 rows to https://x.example' }]);
    expect(result.metrics).toEqual([{ name: 'rows', value: 3, unit: 'rows' }]);
    expect(result.states).toEqual([{ cursor: 3 }]);
    expect(result.artifacts).toEqual(['report.json']);
    expect(result.heartbeats).toBe(1);
    // On the wire every output is a string (an integer as JSON text).
    expect(result.messages.filter((m) => m.type === 'output')).toEqual([
      { v: 1, type: 'output', name: 'note', value: 'fine' },
      { v: 1, type: 'output', name: 'copied', value: '3' },
    ]);
  });

  it('checks inputs against the spec and reports every problem with its path, before validate or execute', async () => {
    const result = await runTask(copy, { rows: 0, target: { headers: 1 }, extra: true });
    expect(result.outcome).toBe('invalid');
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { path: '/extra', message: 'is not allowed (not in the spec)' },
        { path: '/rows', message: 'must be >= 1' },
        { path: '/target/url', message: 'is required' },
        { path: '/target/headers', message: 'must be object' },
      ]),
    );
    expect(result.errors).toHaveLength(4);
    expect(result.messages).toEqual([]);
  });

  it("the task's own validate runs after the schema and its errors come back as they are", async () => {
    const result = await runTask(copy, { rows: 1, target: { url: 'http://plain' } });
    expect(result).toMatchObject({
      outcome: 'invalid',
      errors: [{ path: '/target/url', message: 'must be an https URL' }],
    });
  });

  it('an output the spec does not declare fails the task (output_undeclared), and is not sent', async () => {
    const task = defineTask({
      name: 'sneaky',
      version: '1.0.0',
      spec: {
        inputs: { type: 'object' },
        outputs: { type: 'object', properties: { ok: { type: 'string' } } },
      },
      execute(_inputs, ctx) {
        (ctx.emit.output as (name: string, value: unknown) => void)('PATH', '/evil');
      },
    });
    const result = await runTask(task, {});
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(TaskError);
    expect((result.error as TaskError).code).toBe('output_undeclared');
    expect(result.messages).toEqual([]);
  });

  it('names from the inputs are outputs only when spec.outputs says additionalProperties outright', async () => {
    const named = await runTask(open, { a: '1', b: '2' });
    expect(named.outcome).toBe('succeeded');
    expect(named.outputs).toEqual({ a: '1', b: '2' });
    const wrong = await runTask(open, { a: 3 });
    expect(wrong.outcome).toBe('invalid');
    expect(wrong.errors).toEqual([{ path: '/a', message: 'must be string' }]);
  });
  it('outputs that break the output spec fail the task (outputs_invalid) with every problem', async () => {
    const task = defineTask({
      name: 'forgetful',
      version: '1.0.0',
      spec: {
        inputs: { type: 'object' },
        outputs: {
          type: 'object',
          required: ['a', 'b'],
          properties: { a: { type: 'string' }, b: { type: 'string' } },
        },
      },
      execute: () => ({ a: 'x' }),
    });
    const result = await runTask(task, {});
    expect(result.outcome).toBe('failed');
    expect((result.error as TaskError).code).toBe('outputs_invalid');
    expect(result.errors).toEqual([{ path: '/b', message: 'is required' }]);
  });

  it('init runs first with the context; secrets come from the harness, a missing one is secret_missing', async () => {
    const seen: string[] = [];
    const task = defineTask({
      name: 'secretive',
      version: '1.0.0',
      spec: { inputs: { type: 'object' }, outputs: { type: 'object', properties: {} } },
      init(ctx) {
        seen.push(`init ${ctx.secret('TOKEN')}`);
      },
      execute(_inputs, ctx) {
        seen.push('execute');
        ctx.secret('OTHER');
      },
    });
    const result = await runTask(task, {}, { secrets: { TOKEN: 't0k' } });
    expect(seen).toEqual(['init t0k', 'execute']);
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'secret_missing',
      hint: "pass it in the task's env: OTHER: ${{ secrets.OTHER }}",
    });
  });

  it('with a fake clock a long wait takes no time, and aborting the signal cancels it', async () => {
    const clock = createFakeClock(1_000);
    const sleeper = defineTask({
      name: 'sleeper',
      version: '1.0.0',
      spec: {
        inputs: { type: 'object' },
        outputs: { type: 'object', properties: { at: { type: 'number' } } },
      },
      async execute(_inputs, ctx) {
        await ctx.clock.sleep(600_000, ctx.signal);
        ctx.emit.state({ slept: true });
        await ctx.clock.sleep(600_000, ctx.signal);
        return { at: ctx.clock.now() };
      },
    });
    const controller = new AbortController();
    const running = runTask(sleeper, {}, { clock, signal: controller.signal });
    await waitUntil(() => clock.sleepers === 1);
    await clock.advance(600_000);
    await waitUntil(() => clock.sleepers === 1);
    controller.abort(new Error('stop'));
    const result = await running;
    expect(result.outcome).toBe('cancelled');
    expect(result.states).toEqual([{ slept: true }]);
    expect(result.outputs).toEqual({});

    const done = runTask(sleeper, {}, { clock });
    await waitUntil(() => clock.sleepers === 1);
    await clock.advance(600_000);
    await waitUntil(() => clock.sleepers === 1);
    await clock.advance(600_000);
    expect((await done).outputs).toEqual({ at: 1_000 + 600_000 * 3 });
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error('condition never held');
}

describe('ctx.emit.image', () => {
  it('writes the image message the engine stores an SBOM for (docs/task-protocol.md)', async () => {
    const reference = `registry.example/team/app@sha256:${'d'.repeat(64)}`;
    const build = defineTask({
      name: 'build-image',
      version: '1.0.0',
      spec: { inputs: { type: 'object' }, outputs: { type: 'object' } },
      execute(_inputs, ctx) {
        ctx.emit.image(reference);
        return {};
      },
    });
    const result = await runTask(build, {});
    expect(result.messages).toContainEqual(expect.objectContaining({ v: 1, type: 'image', reference }));
  });
});
