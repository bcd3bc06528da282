/**
 * An App run whose process dies is finished by another replica: replica A (its own process) is
 * killed with SIGKILL while a task of a run it dispatched runs; replica B (the App and a worker on
 * the same PostgreSQL database, its own data dir) claims the run once A's lease ran out, fetches
 * the repository again with the installation token (derived from the stored run: A's memory is
 * gone), re-attempts the interrupted task and finishes the run, and reports its check run. Before,
 * the token allow-list lived only in the dispatching process: B's fetch was anonymous, the stand-in
 * (as GitHub for a private repository) answered 401, and the run failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../api/index.ts';
import { closeChecked, startHarness, startStandIn, type Harness } from './github-standin/app-harness.ts';
import { postSignedPush, spawnAppProcess } from './github-standin/app-process-client.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

let server: PostgresServer;
let witness: Witness;
let keys: string;
beforeAll(async () => {
  server = await startPostgres();
  witness = await startWitness();
  keys = mkdtempSync(join(tmpdir(), 'maestro-resume-keys-'));
  for (const name of ['approvals', 'receipts'])
    writeFileSync(join(keys, `${name}.pem`), freshKeyPairPem().privateKeyPem, { mode: 0o600 });
});
afterAll(async () => {
  server?.stop();
  await witness?.close();
  rmSync(keys, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an App run whose replica died', () => {
  it('is resumed by another replica after one lease TTL, fetching its source with the installation token', async () => {
    const setup = await startStandIn();
    const env = {
      MAESTRO_APPROVAL_SIGNING_KEY: join(keys, 'approvals.pem'),
      MAESTRO_SIGNING_KEY: join(keys, 'receipts.pem'),
      MAESTRO_DATABASE_URL: server.createDatabase('app_replicas_resume'),
      MAESTRO_LEASE_TTL: '2s',
    };
    // The first attempt of `slow` waits (A is killed meanwhile); the re-attempt passes at once.
    const manifest = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: deploy, namespace: demo }
spec:
  triggers:
    push: { branches: [main] }
  defaults:
    runner: local
  tasks:
    - id: slow
      run: test "$(curl -s -X POST --data x ${witness.url}/slow)" -gt 1 || sleep 600
    - id: read
      run: cat README.md
      needs: [slow]
`;
    const sha = setup.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { '.maestro/workflows/deploy.yaml': manifest, 'README.md': 'private code' },
    });
    const dataA = mkdtempSync(join(tmpdir(), 'maestro-replica-a-'));
    const { child, port } = await spawnAppProcess(setup, dataA, { app: { env, runUpdateIntervalMs: 100 } });
    let b: Harness | undefined;
    let worker: { close(): Promise<void> } | undefined;
    try {
      expect(port, 'replica A started').toBeDefined();
      b = await startHarness({ standIn: setup, env, runUpdateIntervalMs: 100 });
      worker = startWorker(b.runtime.engines.trusted, pino({ level: 'silent' }), { pollMs: 50 });
      expect(await postSignedPush(port!, setup, sha)).toBe(202);
      await witness.waitFor('slow', 60_000);
      const fetchesByA = setup.standin.gitRequests.length;
      expect(fetchesByA).toBeGreaterThan(0);
      child.kill('SIGKILL');
      let status = '';
      for (let i = 0; i < 600 && !['succeeded', 'failed'].includes(status); i++) {
        await sleep(200);
        status = (await b.runtime.engineStore.listRuns())[0]?.status ?? '';
      }
      const [run] = await b.runtime.engineStore.listRuns();
      expect(run!.status).toBe('succeeded');
      expect((await b.runtime.engineStore.listAttempts(run!.id, 'slow')).length).toBe(2);
      // B fetched the commit itself (its data dir had no export), with a token, never refused.
      const byB = setup.standin.gitRequests.slice(fetchesByA);
      expect(byB.length).toBeGreaterThan(0);
      expect(byB.filter((r) => r.status === 401)).toEqual([]);
      expect(byB.every((r) => r.token !== undefined)).toBe(true);
      // And B reported the run's check run to the end (A, which created it, is gone).
      await b.idle();
      const [check, ...more] = setup.standin.checkRunsNamed('maestro / run demo/deploy', sha);
      expect(more).toEqual([]);
      expect(check!.conclusion).toBe('success');
    } finally {
      child.kill('SIGKILL');
      await worker?.close();
      if (b) await closeChecked(b);
      else await setup.standin.stop();
      rmSync(dataA, { recursive: true, force: true });
    }
  }, 180_000);
});
