/**
 * A narrowed engine (runtime.createEngine, used for fork code) keeps only what its scope names:
 * a scope that leaves the secrets or the runners out (a JavaScript caller, a cast) gets none,
 * never the runtime's. Before: it got every configured secret and every configured runner.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeConfigFromEnv, openRuntime, type EngineScope, type Runtime } from '../runtime/index.ts';
import { planOf, shellTask } from './helpers/engine-fixtures.ts';

const opened: Runtime[] = [];
afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
});

async function runtimeWithSecret(): Promise<Runtime> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-engine-scope-'));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    MAESTRO_POLICY: 'off',
    MAESTRO_PROVENANCE: 'off',
    MAESTRO_SECRET_TOKEN: 'trusted-only-token',
  };
  const runtime = await openRuntime(runtimeConfigFromEnv(env, { cwd: dir, flags: { dataDir: dir } }));
  opened.push(runtime);
  return runtime;
}

const needsToken = () =>
  planOf([
    shellTask('deploy', 'test -n "$MAESTRO_EXPR_0"', {
      env: { MAESTRO_EXPR_0: '${secrets.TOKEN}' },
      secrets: ['TOKEN'],
    }),
  ]);

describe('a narrowed engine of the runtime', () => {
  it('given no secrets in its scope, its tasks receive none of the runtime’s', async () => {
    const runtime = await runtimeWithSecret();
    const trusted = runtime.engine;
    const ok = await trusted.submit(needsToken(), { trust: 'trusted' });
    expect((await trusted.execute(ok)).status).toBe('succeeded');

    const narrowed = runtime.createEngine({ runnerKinds: ['local'] } as unknown as EngineScope);
    const runId = await narrowed.submit(needsToken());
    await narrowed.execute(runId);
    const task = await runtime.store.getTask(runId, 'deploy');
    expect(task.state).toBe('failed');
    expect((await runtime.store.listTransitions(runId, 'deploy')).at(-1)?.detail).toMatch(/secret TOKEN/);
  });

  it('an untrusted run executed by the trusted engine (a worker claiming a fork’s App run) gets none of its secrets', async () => {
    // Workers claim every run with the runtime's trusted engine: a fork's run whose App replica
    // died, or that an API approval sent back to queued, is executed there. Before, its tasks
    // received the operator's secrets (the untrusted engine, which has none, never saw it).
    const runtime = await runtimeWithSecret();
    const runId = await runtime.engine.submit(needsToken(), { trust: 'untrusted' });
    await runtime.engine.execute(runId);
    expect((await runtime.store.getTask(runId, 'deploy')).state).toBe('failed');
    expect((await runtime.store.listTransitions(runId, 'deploy')).at(-1)?.detail).toMatch(/secret TOKEN/);
  });

  it('given no runner kinds in its scope, it has no runner', async () => {
    const runtime = await runtimeWithSecret();
    const narrowed = runtime.createEngine({ secrets: {} } as unknown as EngineScope);
    await expect(narrowed.submit(planOf([shellTask('build', 'true')]))).rejects.toThrow(/local/);
  });
});
