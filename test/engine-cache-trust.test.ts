/**
 * Cache keys and secrets, trust: rotating a secret a task receives invalidates its cache entry;
 * the key covers an HMAC of the values under a per-data-dir key (0600, outside any task's reach),
 * so it cannot be checked against guesses; a fork's (untrusted) run and a trusted run never share
 * an entry, in either direction, even on one store. Real processes through the local runner.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerRegistry, digestOf, policyOff, type Plan } from '../core/index.ts';
import { createEngine, openStore, type Engine, type SqliteStore, asyncSqliteStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const runners: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

/** One data dir and store; each engine may get its own secrets (a rotation between runs). */
function world() {
  const dataDir = tempDir();
  const store = openStore({ dataDir });
  const runner = recordingLocalRunner();
  runners.push(runner);
  const engine = (secrets: Record<string, string> = {}): Engine =>
    createEngine({
      policy: policyOff('cache test: keys, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(runner),
      secrets,
      leaseMs: 60_000,
    });
  return { dataDir, store, runner, engine };
}

const withSecret = (): Plan =>
  planOf([
    shellTask('deploy', 'echo "len=${#MAESTRO_EXPR_0}" >> "$MAESTRO_OUTPUT"', {
      env: { MAESTRO_EXPR_0: '${secrets.TOKEN}' },
      secrets: ['TOKEN'],
      outputs: ['len'],
      cache: { enabled: true },
    }),
  ]);
const plain = (): Plan =>
  planOf([
    shellTask('build', 'echo "out=built" >> "$MAESTRO_OUTPUT"', {
      outputs: ['out'],
      cache: { enabled: true },
    }),
  ]);

async function runOnce(engine: Engine, plan: Plan, trust?: 'trusted' | 'untrusted') {
  const runId = await engine.submit(plan, trust ? { trust } : {});
  await engine.execute(runId);
  return runId;
}

const stateOf = (store: SqliteStore, runId: string, taskId: string) => store.getTask(runId, taskId).state;

describe('cache keys cover the secrets a task receives', () => {
  it('a rotated secret misses the cache; the same secret hits it', async () => {
    const { store, engine } = world();
    const first = await runOnce(engine({ TOKEN: 'token-v1' }), withSecret(), 'trusted');
    const again = await runOnce(engine({ TOKEN: 'token-v1' }), withSecret(), 'trusted');
    expect(stateOf(store, again, 'deploy')).toBe('cached');
    const rotated = await runOnce(engine({ TOKEN: 'token-v2-rotated' }), withSecret(), 'trusted');
    expect(stateOf(store, rotated, 'deploy')).toBe('succeeded');
    expect(store.getTask(rotated, 'deploy').cacheKey).not.toBe(store.getTask(first, 'deploy').cacheKey);
  });

  it('the key is an HMAC under a per-data-dir key kept 0600: a guess of the secret cannot be checked', async () => {
    const a = world();
    const b = world();
    const ra = await runOnce(a.engine({ TOKEN: 'same-token' }), withSecret(), 'trusted');
    const rb = await runOnce(b.engine({ TOKEN: 'same-token' }), withSecret(), 'trusted');
    // Same plan, same secret, two data dirs: the keys differ, because only the HMAC key differs.
    expect(a.store.getTask(ra, 'deploy').cacheKey).not.toBe(b.store.getTask(rb, 'deploy').cacheKey);
    const keyFile = join(a.dataDir, 'keys', 'cache-hmac.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(a.dataDir, 'keys')).mode & 0o777).toBe(0o700);
    const stored = JSON.stringify([a.store.listAttempts(ra), a.store.getTask(ra, 'deploy')]);
    expect(stored).not.toContain('same-token');
    expect(stored).not.toContain(digestOf({ TOKEN: 'same-token' }).slice(7));
  });
});

describe('runs of different trust never share cache entries', () => {
  it('a fork run cannot poison the cache for a trusted run, nor read a trusted run’s entry', async () => {
    const { store, engine, runner } = world();
    const forkFirst = await runOnce(engine(), plain(), 'untrusted');
    const trusted = await runOnce(engine(), plain(), 'trusted');
    expect(stateOf(store, forkFirst, 'build')).toBe('succeeded');
    expect(stateOf(store, trusted, 'build')).toBe('succeeded'); // not served the fork's entry
    const forkAgain = await runOnce(engine(), plain(), 'untrusted');
    const trustedAgain = await runOnce(engine(), plain(), 'trusted');
    expect(stateOf(store, forkAgain, 'build')).toBe('cached');
    expect(stateOf(store, trustedAgain, 'build')).toBe('cached');
    expect(store.getTask(forkAgain, 'build').cacheKey).toBe(store.getTask(forkFirst, 'build').cacheKey);
    expect(store.getTask(trustedAgain, 'build').cacheKey).toBe(store.getTask(trusted, 'build').cacheKey);
    expect(store.getTask(trusted, 'build').cacheKey).not.toBe(store.getTask(forkFirst, 'build').cacheKey);
    expect(runner.started.filter((s) => s === 'build#1')).toHaveLength(2);
    expect(store.getRun(forkFirst).trust).toBe('untrusted');
    expect(store.getRun(trustedAgain).trust).toBe('trusted');
  });
});
