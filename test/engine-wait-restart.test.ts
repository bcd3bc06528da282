/**
 * The `wait` task's durable timer across a kill -9: an engine process starts a run whose first
 * task waits an hour, is killed while it waits, and a second engine process resumes the run. The
 * wait ends at the stored time (not an hour after the resume, not a millisecond early), nothing
 * ran while it waited (no attempt, no process), and its transition says why it waited. Time is
 * the test's: both processes read their clock from a file the test writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAsyncStore } from '../engine/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import type { PlanTask } from '../core/index.ts';

const root = join(import.meta.dirname, '..');
const node = join(root, 'node_modules', '.bin', 'node');
const helper = join(import.meta.dirname, 'helpers', 'wait-engine.ts');
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

const dir = tempDir('maestro-wait-restart-');
const clockFile = join(dir, 'clock');
const setClock = (ms: number) => writeFileSync(clockFile, String(ms));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function engineProcess(args: string[]): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(node, [helper, join(dir, 'data'), clockFile, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let waited = 0; ; waited += 25) {
    const value = await probe();
    if (value !== undefined) return value;
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitTask(): Promise<PlanTask> {
  const entry = (await loadBuiltinCatalog()).versions('wait')[0]!;
  return {
    ...shellTask('pause', 'unused'),
    action: {
      type: 'catalog',
      ref: 'tasks/wait@1',
      name: 'wait',
      version: entry.version,
      digest: entry.digest,
    },
    with: { for: '1h' } as unknown as PlanTask['with'],
    outputs: ['waitedMs', 'status', 'polls'],
  };
}

describe('tasks/wait: a durable timer survives kill -9 of its engine', () => {
  it('ends at the stored time on the resuming engine; nothing ran while it waited', async () => {
    setClock(T0);
    const plan = planOf([await waitTask(), shellTask('after', 'echo after', { needs: ['pause'] })]);
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const first = engineProcess(['start', planFile]);
    const runId = await until('the run id', () => /run (\S+)/.exec(first.out())?.[1]);
    const store = await openAsyncStore({ dataDir: join(dir, 'data') });
    try {
      const held = await until('the wait stored as a timer', async () => {
        const t = await store.getTask(runId, 'pause').catch(() => undefined);
        return t?.reason === 'waiting_until' ? t : undefined;
      });
      expect(held).toMatchObject({ state: 'ready', notBefore: T0 + HOUR, attempts: 0 });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Nothing ran for the wait: no attempt, so no process or pod held it.
      expect(await store.listAttempts(runId, 'pause')).toEqual([]);

      // The second engine comes up a millisecond before the stored time: the timer is re-armed
      // from the store, not started afresh (which would end an hour after this).
      setClock(T0 + HOUR - 1);
      const second = engineProcess(['resume', runId]);
      await until('the resume', async () =>
        (await store.listLogs(runId, null)).some((l) => l.text.startsWith('resumed by')) ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect((await store.getTask(runId, 'pause')).state).toBe('ready'); // not a millisecond early

      setClock(T0 + HOUR);
      await until('the run to end', () => (/done (\S+)/.exec(second.out()) ? true : undefined));
      expect(second.out(), second.out()).toContain('done succeeded');
      const [attempt] = await store.listAttempts(runId, 'pause');
      expect(attempt).toMatchObject({ startedAt: T0 + HOUR, outputs: { waitedMs: String(HOUR) } });
      const transitions = await store.listTransitions(runId, 'pause');
      const waiting = transitions.find((t) => t.reason === 'waiting_until')!;
      expect(waiting).toMatchObject({ from: 'queued', to: 'ready', time: T0 });
      expect(waiting.detail).toContain(new Date(T0 + HOUR).toISOString());
      // Stored by the first engine, started by the second: the wait outlived its process.
      const started = transitions.find((t) => t.to === 'running')!;
      expect(started.by).not.toBe(waiting.by);
      expect((await store.getTask(runId, 'after')).state).toBe('succeeded');
    } finally {
      await store.close();
    }
  }, 120_000);
});
