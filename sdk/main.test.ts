import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, defineTask, EXIT, runMain } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-sdk-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = 0;
});

const greet = defineTask({
  name: 'greet',
  version: '1.0.0',
  spec: {
    inputs: { type: 'object', required: ['who'], properties: { who: { type: 'string' } } },
    outputs: { type: 'object', properties: { greeting: { type: 'string' }, count: { type: 'integer' } } },
  },
  async execute(inputs, ctx) {
    ctx.emit.log(`greeting ${inputs.who}`);
    ctx.emit.log('two\nlines', 'warn');
    ctx.emit.metric('greetings', 1);
    ctx.emit.progress({ done: 1, total: 1, message: 'done' });
    ctx.emit.artifact('out.txt');
    ctx.emit.state({ n: 1 });
    ctx.heartbeat();
    return { greeting: `hello\n${inputs.who}`, count: 1 };
  },
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
}

describe('runMain (the task as a process)', () => {
  it('hands the checkpoint MAESTRO_STATE names to the task as ctx.state; none without it', async () => {
    const seen: unknown[] = [];
    const resume = defineTask({
      name: 'resume',
      version: '1.0.0',
      spec: { inputs: { type: 'object' }, outputs: { type: 'object', properties: {} } },
      execute: (_inputs, ctx) => void seen.push(ctx.state),
    });
    const state = join(dir, 'state.json');
    writeFileSync(state, '{"cursor":500,"token":"***"}');
    const streams = io();
    expect(await runMain(resume, { MAESTRO_STATE: state }, { ...streams, onTerminate: () => {} })).toBe(
      EXIT.ok,
    );
    expect(await runMain(resume, {}, { ...streams, onTerminate: () => {} })).toBe(EXIT.ok);
    expect(seen).toEqual([{ cursor: 500, token: '***' }, undefined]);
  });

  it('fails, saying so, when the checkpoint MAESTRO_STATE names is not JSON', async () => {
    const state = join(dir, 'bad-state.json');
    writeFileSync(state, '{cursor');
    const streams = io();
    expect(
      await runMain(
        greet,
        { MAESTRO_INPUTS: '{"who":"a"}', MAESTRO_STATE: state },
        { ...streams, onTerminate: () => {} },
      ),
    ).toBe(EXIT.failed);
    expect(streams.err.join('')).toBe('greet: the checkpoint MAESTRO_STATE names is not readable JSON\n');
  });

  it('writes every message as a v1 JSON line to $MAESTRO_MESSAGES and exits 0', async () => {
    const messages = join(dir, 'messages.jsonl');
    writeFileSync(messages, '');
    const streams = io();
    const code = await runMain(
      greet,
      { MAESTRO_INPUTS: '{"who":"Ada"}', MAESTRO_MESSAGES: messages },
      { ...streams, clock: createFakeClock(42), cwd: dir, onTerminate: () => {} },
    );
    expect(code).toBe(EXIT.ok);
    expect(process.exitCode).toBe(0);
    const lines = readFileSync(messages, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual([
      'log',
      'log',
      'metric',
      'progress',
      'artifact',
      'state',
      'heartbeat',
      'output',
      'output',
    ]);
    expect(lines.every((l) => l.v === 1 && l.time === 42)).toBe(true);
    expect(lines.at(-2)).toMatchObject({ name: 'greeting', value: 'hello\nAda' });
    expect(lines.at(-1)).toMatchObject({ name: 'count', value: '1' });
    expect(streams.out).toEqual([]);
    expect(streams.err).toEqual([]);
  });

  it('without $MAESTRO_MESSAGES: outputs into $MAESTRO_OUTPUT in the delimiter form, the rest on stderr', async () => {
    const output = join(dir, 'outputs.env');
    writeFileSync(output, '');
    const streams = io();
    const code = await runMain(
      greet,
      { MAESTRO_INPUTS: '{"who":"Ada"}', MAESTRO_OUTPUT: output },
      {
        ...streams,
        onTerminate: () => {},
      },
    );
    expect(code).toBe(EXIT.ok);
    const text = readFileSync(output, 'utf8');
    expect(text).toMatch(
      /^greeting<<(MAESTRO_[0-9a-f]{24})\nhello\nAda\n\1\ncount<<(MAESTRO_[0-9a-f]{24})\n1\n\2\n$/,
    );
    expect(streams.err.join('')).toBe(
      [
        'greeting Ada',
        'warn: two\nlines',
        'metric greetings=1',
        'progress 1/1 done',
        'artifact reported: out.txt',
        'state checkpoint (7 bytes)',
        'heartbeat',
        '',
      ].join('\n'),
    );
  });

  it('with neither file (run by hand) outputs are printed as name=value', async () => {
    const streams = io();
    await runMain(greet, { MAESTRO_INPUTS: '{"who":"Bo"}' }, { ...streams, onTerminate: () => {} });
    expect(streams.out).toEqual(['greeting=hello\nBo\n', 'count=1\n']);
  });

  it('invalid inputs: exit 2 and every problem with its path on stderr; bad JSON likewise', async () => {
    const streams = io();
    expect(
      await runMain(greet, { MAESTRO_INPUTS: '{"who":3,"x":1}' }, { ...streams, onTerminate: () => {} }),
    ).toBe(EXIT.invalid);
    expect(streams.err).toEqual(['greet: invalid inputs: /who: must be string\n']);
    expect(process.exitCode).toBe(EXIT.invalid);
    const bad = io();
    expect(await runMain(greet, { MAESTRO_INPUTS: '{' }, { ...bad, onTerminate: () => {} })).toBe(
      EXIT.invalid,
    );
    expect(bad.err).toEqual(['greet: MAESTRO_INPUTS is not valid JSON\n']);
    const missing = io();
    await runMain(greet, {}, { ...missing, onTerminate: () => {} });
    expect(missing.err).toEqual(['greet: invalid inputs: /who: is required\n']);
  });

  it('SIGTERM aborts ctx.signal: the task stops, says why, and exits 143', async () => {
    let terminate: () => void = () => {};
    const clock = createFakeClock();
    const waiter = defineTask({
      name: 'waiter',
      version: '1.0.0',
      spec: { inputs: { type: 'object' }, outputs: { type: 'object', properties: {} } },
      execute: (_inputs, ctx) => ctx.clock.sleep(60_000, ctx.signal),
    });
    const streams = io();
    const running = runMain(waiter, {}, { ...streams, clock, onTerminate: (stop) => (terminate = stop) });
    while (clock.sleepers === 0) await new Promise((r) => setImmediate(r));
    terminate();
    expect(await running).toBe(EXIT.cancelled);
    expect(streams.err).toEqual(['waiter [cancelled]: waiter was asked to stop (SIGTERM)\n']);
  });

  it('a failure names its code and hint; a thrown non-error is said as it is', async () => {
    const picky = defineTask({
      name: 'picky',
      version: '1.0.0',
      spec: {
        inputs: { type: 'object' },
        outputs: { type: 'object', required: ['x'], properties: { x: { type: 'string' } } },
      },
      execute: () => {},
    });
    const streams = io();
    expect(await runMain(picky, {}, { ...streams, onTerminate: () => {} })).toBe(EXIT.failed);
    expect(streams.err).toEqual([
      "picky [outputs_invalid]: picky's outputs do not match its spec: /x: is required\n",
      'hint: fix the task: what it emits must match spec.outputs\n',
    ]);
    const thrower = defineTask({
      name: 'thrower',
      version: '1.0.0',
      spec: { inputs: { type: 'object' }, outputs: { type: 'object', properties: {} } },
      execute: () => {
        throw 'plain';
      },
    });
    const other = io();
    expect(await runMain(thrower, {}, { ...other, onTerminate: () => {} })).toBe(EXIT.failed);
    expect(other.err).toEqual(['thrower: plain\n']);
  });
});
