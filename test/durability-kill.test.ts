/**
 * Durability: a real `maestro run` process is killed with SIGKILL at several points of a run, then
 * `maestro run --resume <run>` finishes it. No task is lost, no task whose attempt completed runs
 * again, and the interrupted attempt is recorded as interrupted and re-attempted (a crash is not the
 * task's failure: it does not use up the task's retry limit), its re-attempt's receipt naming it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../engine/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { startWitness, type Witness } from './helpers/witness.ts';

const root = join(import.meta.dirname, '..');
const node = join(root, 'node_modules', '.bin', 'node');
const bin = join(root, 'bin', 'maestro.ts');

/** Tasks mark their start and end on a witness on 127.0.0.1 (the sandbox shows them no host file). */
function manifest(marks: Witness): string {
  const mark = marks.report('marks');
  const task = (id: string, needs: string[]) => `
    - id: ${id}
      ${needs.length ? `needs: [${needs.join(', ')}]` : ''}
      run: echo "start ${id}" | ${mark}; sleep 1; echo "end ${id}" | ${mark}`;
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: durable, namespace: test }
spec:
  defaults:
    runner: local
    retry: { limit: 2, backoff: { initial: 10ms, factor: 2, max: 100ms } }
  tasks:${task('a', [])}${task('b1', ['a'])}${task('b2', ['a'])}${task('c', ['b1', 'b2'])}
`;
}

function startMaestro(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(node, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function until(what: () => string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

function lines(witness: Witness): string[] {
  return witness.reports('marks').map((r) => r.body.trim());
}

/** A chain t01 → … → t12 with no retries; t05 runs long enough to be killed in the middle. */
function chain(marks: Witness): string {
  const mark = marks.report('marks');
  const ids = Array.from({ length: 12 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
  const tasks = ids.map(
    (id, i) => `
    - id: ${id}
      ${i > 0 ? `needs: [${ids[i - 1]}]` : ''}
      run: echo "start ${id}" | ${mark}; sleep ${id === 't05' ? 1 : 0.1}; echo "end ${id}" | ${mark}`,
  );
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: chain, namespace: test }
spec:
  defaults:
    runner: local
    retry: { limit: 0 }
  tasks:${tasks.join('')}
`;
}

/** The Maestro part of a stored receipt's statement (read, not verified: the kill is the subject here). */
function maestroFields(receipt: { bundle: unknown }): Record<string, unknown> {
  const envelope = (receipt.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope;
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
    predicate: { buildDefinition: { internalParameters: { maestro: Record<string, unknown> } } };
  };
  return statement.predicate.buildDefinition.internalParameters.maestro;
}

async function killAndResume(
  killWhen: (marks: string[]) => boolean,
  workflow: (marks: Witness) => string = manifest,
  resume: { env?: Record<string, string>; exitCode?: number } = {},
) {
  const dir = tempDir('maestro-durable-');
  const dataDir = join(dir, 'data');
  const marks = await startWitness();
  const file = join(dir, 'wf', '.maestro', 'workflows', 'durable.yaml');
  mkdirSync(join(dir, 'wf', '.maestro', 'workflows'), { recursive: true });
  writeFileSync(file, workflow(marks));
  const env = { MAESTRO_DATA_DIR: dataDir };
  const first = startMaestro(['run', file, '--concurrency', '2'], env);
  const what = () => `the kill point; marks: ${lines(marks).join(', ')}; maestro said:\n${first.out()}`;
  await until(what, () => {
    if (first.child.exitCode !== null)
      throw new Error(`maestro ended before the kill point:\n${first.out()}`);
    return killWhen(lines(marks));
  });
  first.child.kill('SIGKILL');
  await exited(first.child);
  const runId = /run (r-[0-9a-f-]+)/.exec(first.out())?.[1];
  expect(runId, first.out()).toBeDefined();
  const before = (() => {
    const store = openStore({ dataDir });
    try {
      return store
        .listAttempts(runId!)
        .filter((a) => a.status === 'finished')
        .map((a) => a.taskId);
    } finally {
      store.close();
    }
  })();
  // The launcher ends the killed engine's tasks; give any stray report time to land, so the marks are final.
  await new Promise((r) => setTimeout(r, 1500));
  const second = startMaestro(['run', '--resume', runId!], { ...env, ...resume.env });
  const code = await exited(second.child);
  expect(code, second.out()).toBe(resume.exitCode ?? 0);
  const store = openStore({ dataDir });
  // Receipts are signed after a result is stored, off the critical path; a kill in between leaves
  // an attempt without one, which the resume signs. Every attempt with a result has its receipt.
  const signed = new Set(store.listReceipts(runId!).map((r) => `${r.taskId}#${r.attempt}`));
  const unsigned = store
    .listAttempts(runId!)
    .filter((a) => a.status === 'finished' && a.outcome !== 'interrupted')
    .map((a) => `${a.taskId}#${a.attempt}`)
    .filter((key) => !signed.has(key));
  expect(unsigned, 'attempts without a receipt').toEqual([]);
  try {
    return { runId: runId!, store, marks: lines(marks), completedBeforeKill: before };
  } finally {
    // the caller reads the store, then the test ends; closing is left to process exit
    await marks.close();
  }
}

describe('durability: kill -9 of a real maestro run, then --resume', () => {
  it('while the first task runs: the interrupted attempt is recorded and retried', async () => {
    const { runId, store, marks } = await killAndResume((m) => m.includes('start a'));
    expect(store.getRun(runId).status).toBe('succeeded');
    const attempts = store.listAttempts(runId, 'a');
    expect(attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
    expect(store.listTransitions(runId, 'a').some((t) => t.reason === 'reattempt_scheduled')).toBe(true);
    for (const id of ['b1', 'b2', 'c']) expect(marks.filter((l) => l === `start ${id}`)).toHaveLength(1);
    store.close();
  });

  it('a 12-task chain with retry limit 0 killed at task 5: the resume finishes every task', async () => {
    const { runId, store, marks } = await killAndResume((m) => m.includes('start t05'), chain);
    expect(store.getRun(runId).status).toBe('succeeded');
    const ids = Array.from({ length: 12 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
    for (const id of ids) expect(store.getTask(runId, id).state, id).toBe('succeeded');
    for (const id of ids.filter((id) => id !== 't05')) {
      expect(
        marks.filter((l) => l === `start ${id}`),
        id,
      ).toHaveLength(1);
      expect(store.listAttempts(runId, id), id).toHaveLength(1);
    }
    // The interrupted attempt and its re-attempt are both stored...
    const [lost, again] = store.listAttempts(runId, 't05');
    expect([lost?.outcome, again?.outcome]).toEqual(['interrupted', 'succeeded']);
    expect(marks.filter((l) => l === 'start t05')).toHaveLength(2);
    // ...and the re-attempt's receipt names the interrupted one and why it ran.
    const receipt = store.listReceipts(runId).find((r) => r.taskId === 't05' && r.attempt === 2);
    expect(maestroFields(receipt!).reattemptOf).toEqual({
      attempt: 1,
      attemptId: lost!.id,
      interruptedBy: lost!.message,
      reattempt: 1,
    });
    expect(lost!.message).toContain('stopped (crash or kill)');
    const first = store.listReceipts(runId).find((r) => r.taskId === 't04')!;
    expect(maestroFields(first)).not.toHaveProperty('reattemptOf');
    store.close();
  });

  it('MAESTRO_REATTEMPTS=0 on the resuming engine: the interrupted task fails with reason interrupted', async () => {
    const { runId, store, marks } = await killAndResume((m) => m.includes('start t05'), chain, {
      env: { MAESTRO_REATTEMPTS: '0' },
      exitCode: 1,
    });
    expect(store.getRun(runId).status).toBe('failed');
    expect(store.getTask(runId, 't05')).toMatchObject({ state: 'failed', reason: 'interrupted' });
    expect(store.listAttempts(runId, 't05').map((a) => a.outcome)).toEqual(['interrupted']);
    expect(store.getTask(runId, 't06')).toMatchObject({ state: 'skipped', reason: 'dependency_failed' });
    expect(marks.filter((l) => l === 'start t05')).toHaveLength(1);
    store.close();
  });

  it('while the fan-out runs: the finished task does not run again', async () => {
    const { runId, store, marks, completedBeforeKill } = await killAndResume(
      (m) => m.includes('start b1') && m.includes('start b2'),
    );
    expect(completedBeforeKill).toContain('a');
    expect(store.getRun(runId).status).toBe('succeeded');
    expect(marks.filter((l) => l === 'start a')).toHaveLength(1);
    expect(store.listAttempts(runId, 'a')).toHaveLength(1);
    for (const id of ['b1', 'b2']) {
      const outcomes = store.listAttempts(runId, id).map((a) => a.outcome);
      expect(outcomes.at(-1)).toBe('succeeded');
      expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
    }
    expect(marks.filter((l) => l === 'start c')).toHaveLength(1);
    store.close();
  });

  it('while the last task runs: only it runs again', async () => {
    const { runId, store, marks } = await killAndResume((m) => m.includes('start c'));
    expect(store.getRun(runId).status).toBe('succeeded');
    for (const id of ['a', 'b1', 'b2']) {
      expect(marks.filter((l) => l === `start ${id}`)).toHaveLength(1);
      expect(store.listAttempts(runId, id)).toHaveLength(1);
    }
    expect(store.listAttempts(runId, 'c').map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
    store.close();
  });
});
