/**
 * The end of a container's log stream after its exit: lines that arrive late are kept, however
 * long the stream takes within LOG_DRAIN_MS (runners/shared/log-drain.ts), and a stream cut off at that bound says so in the
 * attempt's log. The container is a stand-in object (the attach stream is ours to write and end;
 * the multiplexing and its demultiplexing are dockerode's real code), and the clock is driven by
 * the test, so no test waits on real time. The real Podman path is test/runner-contract/ and
 * test/secrets-at-rest.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createRedactor, type Clock, type LogLine } from '../../core/index.ts';
import { LOG_DRAIN_MS, LogChannel, logCutOff } from '../shared/index.ts';
import { followContainer } from './follow-container.ts';

/** One frame of Docker's multiplexed attach stream (stream 1 = stdout, 2 = stderr). */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function manualClock() {
  let now = 0;
  const sleepers: { at: number; resolve: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const sleeper = { at: now + ms, resolve };
        sleepers.push(sleeper);
        signal?.addEventListener(
          'abort',
          () => {
            sleepers.splice(sleepers.indexOf(sleeper), 1);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      }),
  };
  return {
    clock,
    sleeping: () => sleepers.length,
    advance(ms: number) {
      now += ms;
      for (const sleeper of [...sleepers])
        if (sleeper.at <= now) {
          sleepers.splice(sleepers.indexOf(sleeper), 1);
          sleeper.resolve();
        }
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i += 1) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

function follow() {
  const attach = new PassThrough();
  let exit: (code: number) => void = () => {};
  const exited = new Promise<{ StatusCode: number }>(
    (resolve) => (exit = (code) => resolve({ StatusCode: code })),
  );
  let waited = false;
  const container = {
    attach: async () => attach,
    start: async () => {},
    wait: async () => {
      const status = await exited;
      waited = true;
      return status;
    },
    inspect: async () => ({ State: { OOMKilled: false } }),
    remove: async () => {},
    stop: async () => {},
  } as unknown as Docker.Container;
  const time = manualClock();
  const logs = new LogChannel();
  const dir = mkdtempSync(join(tmpdir(), 'follow-container-'));
  const handle = followContainer({
    // Never connected: only its modem's demultiplexer runs.
    docker: new Docker({ socketPath: join(dir, 'no.sock') }),
    container,
    clock: time.clock,
    redact: createRedactor([]),
    logs,
    outputs: [],
    outputsFile: join(dir, 'outputs'),
    messagesFile: join(dir, 'messages'),
    startedAt: 0,
    graceMs: 1000,
    isolation: { runner: 'container' } as never,
    mode: 'start',
  });
  const lines: LogLine[] = [];
  const collected = (async () => {
    for await (const line of handle.logs()) lines.push(line);
  })();
  return { attach, exit, waitedFor: () => waited, time, handle, lines, collected };
}

describe('a container log stream after the exit', () => {
  it('keeps the lines that arrive seconds after the exit (the old 2 s wait dropped them)', async () => {
    const c = follow();
    c.attach.write(frame(1, 'early\n'));
    c.exit(0);
    await until(c.waitedFor);
    await until(() => c.time.sleeping() > 0);
    c.time.advance(5_000); // a loaded machine: podman copies the last output 5 s later
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
    c.attach.write(frame(2, 'late on stderr\n'));
    c.attach.write(frame(1, 'last\n'));
    c.attach.end();
    const result = await c.handle.wait();
    await c.collected;
    expect(result.outcome).toBe('succeeded');
    expect(c.lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'early'],
      ['stderr', 'late on stderr'],
      ['stdout', 'last'],
    ]);
    expect(c.time.sleeping()).toBe(0); // the drain timer is cleared, nothing keeps the process up
  });

  it('stops waiting at the bound and says the last lines may be missing', async () => {
    const c = follow();
    c.attach.write(frame(1, 'before\n'));
    c.exit(3);
    await until(c.waitedFor);
    await until(() => c.time.sleeping() > 0);
    c.time.advance(LOG_DRAIN_MS);
    const result = await c.handle.wait();
    await c.collected;
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(c.lines[0]).toMatchObject({ stream: 'stdout', text: 'before' });
    expect(c.lines.at(-1)).toMatchObject({ stream: 'system', text: logCutOff(LOG_DRAIN_MS) });
    expect(c.lines.at(-1)!.text).toContain('did not end within 30 s');
  });
});
