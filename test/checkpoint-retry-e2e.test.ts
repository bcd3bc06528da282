/**
 * Checkpoint state across retries, end to end through `maestro run` on the local runner: a
 * connector-like repository task on the SDK reads 1,000 records, checkpoints after every 100,
 * and fails on record 600 of its first attempt. Its `retry:` policy starts a second attempt,
 * which must start from the last committed checkpoint: record 501 (checkpoint 500 was the last
 * the first attempt emitted; 600 was never reached). Not from the start, and not past the failure.
 * A secret the task put into its checkpoint is stored redacted, and the retry receives `***`.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';

const SECRET = 'tok-9f2c61d4b7e0a835';

const TASK_JSON = {
  name: 'records',
  version: '1.0.0',
  description: 'Reads records 1..total, checkpointing every 100.',
  inputs: {
    type: 'object',
    required: ['total'],
    additionalProperties: false,
    properties: { total: { type: 'integer', minimum: 1 } },
  },
  outputs: ['first', 'last', 'resumedToken'],
};

// The commit rule: a checkpoint is emitted after the records up to it are committed, so the
// last checkpoint is always work that is done; a failure between two checkpoints repeats the
// records after the last one (at-least-once), never skips any.
const TASK_TS = `import { defineTask, runMain } from '@summit-maestro/sdk';

export const records = defineTask({
  name: 'records',
  version: '1.0.0',
  spec: {
    inputs: ${JSON.stringify(TASK_JSON.inputs)},
    outputs: {
      type: 'object',
      properties: { first: { type: 'integer' }, last: { type: 'integer' }, resumedToken: { type: 'string' } },
    },
  },
  async execute(inputs, ctx) {
    const from = ctx.state as { cursor: number; token: string } | undefined;
    const first = (from?.cursor ?? 0) + 1;
    ctx.emit.log('first record ' + first);
    ctx.emit.output('first', first);
    if (from) ctx.emit.output('resumedToken', from.token);
    for (let record = first; record <= inputs.total; record++) {
      if (record === 600 && from === undefined) throw new Error('source went away at record 600');
      if (record % 100 === 0) ctx.emit.state({ cursor: record, token: ctx.secret('SOURCE_TOKEN') });
    }
    return { last: inputs.total };
  },
} as const);

if (import.meta.main) await runMain(records, process.env);
`;

const workflow = (limit: number) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: sync, namespace: demo }
spec:
  defaults: { runner: local }
  tasks:
    - id: sync
      uses: ./.maestro/tasks/records
      with: { total: 1000 }
      env:
        SOURCE_TOKEN: "\${secrets.SOURCE_TOKEN}"
      retry: { limit: ${limit}, backoff: { initial: 10ms, factor: 2, max: 10ms }, jitter: none }
`;

function makeRepo(limit = 1): string {
  const dir = tempDir('maestro-checkpoint-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  const files = {
    '.maestro/tasks/records/task.json': JSON.stringify(TASK_JSON, null, 2),
    '.maestro/tasks/records/index.ts': TASK_TS,
    '.maestro/workflows/sync.yaml': workflow(limit),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
  return dir;
}

const envFor = (dir: string) => ({
  PATH: process.env.PATH,
  HOME: dir,
  MAESTRO_PROVENANCE: 'off',
  MAESTRO_SECRET_SOURCE_TOKEN: SECRET,
});

async function attemptsOf(runId: string, dir: string, dataDir: string) {
  const show = await runCaptured(
    ['runs', 'show', runId, '--data-dir', dataDir, '--format', 'json'],
    dir,
    envFor(dir),
  );
  return (JSON.parse(show.stdout) as Shown).tasks.find((t) => t.id === 'sync')!.attempts;
}

interface Shown {
  status: string;
  tasks: Array<{
    id: string;
    attempts: Array<{ attempt: number; outcome: string; outputs: Record<string, string> }>;
  }>;
}

describe('checkpoint state across retries (maestro run, local runner)', () => {
  it('a connector failing at record 600 is retried from its last checkpoint (record 501), its secret stored redacted', async () => {
    const dir = makeRepo();
    const dataDir = join(dir, '..', `data-${Date.now()}`);
    const env = envFor(dir);
    const run = await runCaptured(['run', '.maestro/workflows/sync.yaml', '--data-dir', dataDir], dir, env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const show = await runCaptured(
      ['runs', 'show', runId, '--data-dir', dataDir, '--format', 'json'],
      dir,
      env,
    );
    const attempts = (JSON.parse(show.stdout) as Shown).tasks.find((t) => t.id === 'sync')!.attempts;
    expect(attempts.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(attempts[0]!.outputs.first).toBe('1');
    // The second attempt's first record: right after the last committed checkpoint.
    expect(attempts[1]!.outputs).toEqual({ first: '501', last: '1000', resumedToken: '***' });

    const logs = await runCaptured(['runs', 'logs', runId, '--data-dir', dataDir], dir, env);
    expect(logs.stdout).toContain('first record 501');
    expect(logs.stdout).toContain('starting from the checkpoint of an earlier attempt');
    expect(logs.stdout).not.toContain(SECRET);

    const db = new DatabaseSync(join(dataDir, 'maestro.db'), { readOnly: true });
    const rows = db.prepare('SELECT attempt, state FROM attempts ORDER BY attempt').all() as Array<{
      attempt: number;
      state: string | null;
    }>;
    db.close();
    expect(rows.map((r) => [r.attempt, r.state === null ? null : JSON.parse(r.state)])).toEqual([
      [1, { cursor: 500, token: '***' }],
      [2, { cursor: 1000, token: '***' }],
    ]);
  }, 90_000);

  it('maestro runs retry of a failed run resumes the failed task from its checkpoint; a fresh run starts from record 1', async () => {
    const dir = makeRepo(0);
    const dataDir = join(dir, '..', `data-${Date.now()}`);
    const env = envFor(dir);
    const failed = await runCaptured(
      ['run', '.maestro/workflows/sync.yaml', '--data-dir', dataDir],
      dir,
      env,
    );
    expect(failed.code).not.toBe(0);
    const runId = /run (r-\S+) /.exec(failed.stdout)![1]!;
    const retried = await runCaptured(['runs', 'retry', runId, '--data-dir', dataDir], dir, env);
    expect(retried.code, `${retried.stdout}\n${retried.stderr}`).toBe(0);
    const attempts = await attemptsOf(runId, dir, dataDir);
    expect(attempts.map((a) => [a.outcome, a.outputs.first])).toEqual([
      ['failed', '1'],
      ['succeeded', '501'],
    ]);
    // Another run of the same workflow never starts from this run's checkpoints.
    const fresh = await runCaptured(['run', '.maestro/workflows/sync.yaml', '--data-dir', dataDir], dir, env);
    expect(fresh.code).not.toBe(0);
    const freshId = /run (r-\S+) /.exec(fresh.stdout)![1]!;
    expect(freshId).not.toBe(runId);
    expect((await attemptsOf(freshId, dir, dataDir)).map((a) => [a.outcome, a.outputs.first])).toEqual([
      ['failed', '1'],
    ]);
  }, 90_000);
});
