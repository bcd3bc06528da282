/**
 * Approval timeouts swept by several replicas at once, on a real PostgreSQL: two runtimes (the
 * composition root, as two `maestro server` processes open it, each with its own data dir) on one
 * database, each parked run's approval task past its timeout. The sweep's named lease
 * `sweep:approvals` lets one sweep at a time; and when two sweeps do overlap (here: the second
 * replica's clock is past the first's lease, as after a sweep slower than the lease), only the
 * sweep whose compare-and-set on the task won logs the rejection, records its decision and counts
 * it. Before, both did: the second decision append hit the log's unique decision id and failed
 * that replica's sweep, after both had logged the rejection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../compiler/index.ts';
import { systemClock, type Clock, type Plan } from '../core/index.ts';
import { SWEEP_LEASE } from '../engine/index.ts';
import { openRuntime, runtimeConfigFromEnv, type Runtime } from '../runtime/index.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { waitFor } from './helpers/wait-for.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

let server: PostgresServer;
let keys: string;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startPostgres();
  keys = mkdtempSync(join(tmpdir(), 'maestro-sweep-keys-'));
  writeFileSync(join(keys, 'approvals.pem'), freshKeyPairPem().privateKeyPem, { mode: 0o600 });
});
afterAll(() => {
  server?.stop();
  for (const dir of [keys, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

let databases = 0;
async function replica(databaseUrl: string, clock: Clock = systemClock): Promise<Runtime> {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-sweep-replica-'));
  dirs.push(dataDir);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dataDir,
    MAESTRO_DATA_DIR: dataDir,
    MAESTRO_DATABASE_URL: databaseUrl,
    MAESTRO_APPROVAL_SIGNING_KEY: join(keys, 'approvals.pem'),
  };
  const config = runtimeConfigFromEnv(env, { cwd: dataDir, flags: { concurrency: 2 } });
  return openRuntime(config, { approvals: true, clock, logger: pino({ level: 'silent' }) });
}

function gated(runtime: Runtime): Plan {
  const text = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: release, namespace: demo }
spec:
  defaults: { runner: local }
  tasks:
    - id: gate
      uses: tasks/approval@1
      with: { reviewers: [alice], timeout: 1s }
    - id: ship
      run: "true"
      needs: [gate]
`;
  const { plan, diagnostics } = compileManifest(text, { file: 'release.yaml', catalog: runtime.catalog });
  if (!plan) throw new Error(JSON.stringify(diagnostics));
  return plan;
}

/** `count` runs parked on their approval task, submitted and executed through `runtime`. */
async function parkRuns(runtime: Runtime, count: number): Promise<string[]> {
  const plan = gated(runtime);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await runtime.engine.submit(plan, { actor: 'carol', trust: 'trusted' });
    expect((await runtime.engine.execute(id)).status).toBe('waiting_for_approval');
    ids.push(id);
  }
  await new Promise((r) => setTimeout(r, 1100));
  return ids;
}

const rejections = async (runtime: Runtime, id: string) => ({
  decisions: ((await runtime.decisions?.entriesOf(id)) ?? []).filter((e) =>
    e.decisionId.startsWith('approval-reject:'),
  ).length,
  lines: (await runtime.store.listLogs(id)).filter((l) => /timed out: rejected/.test(l.text)).length,
});

describe('approval sweeps on two replicas of one PostgreSQL', () => {
  it('two sweeps at once (one replica’s clock past the other’s sweep lease) reject each timed-out task once', async () => {
    const url = server.createDatabase(`approval_sweeps_${++databases}`);
    const a = await replica(url);
    // B sees A's sweep lease as expired the moment A takes it: both sweep at the same time.
    const skewed: Clock = { ...systemClock, now: () => Date.now() + 60 * 60_000 };
    const b = await replica(url, skewed);
    try {
      const ids = await parkRuns(a, 20);
      // A takes the lease first; B, an hour ahead, finds it expired and sweeps meanwhile.
      const sweepA = a.engine.sweepApprovals();
      await waitFor(
        'A to hold the sweep lease',
        async () => ((await a.store.getLease(SWEEP_LEASE)) ? true : undefined),
        {
          intervalMs: 1,
        },
      );
      const [fromA, fromB] = await Promise.all([sweepA, b.engine.sweepApprovals()]);
      expect(fromA.skipped || fromB.skipped).toBe(false);

      const rejected = [...fromA.rejected, ...fromB.rejected].sort();
      expect(rejected).toEqual(ids.map((id) => `${id}/gate`).sort());
      for (const id of ids) {
        expect(await a.store.getTask(id, 'gate')).toMatchObject({
          state: 'failed',
          reason: 'approval_timed_out',
        });
        expect(await rejections(a, id)).toEqual({ decisions: 1, lines: 1 });
        // Sent back to queued once, by one of the two.
        const queued = (await a.store.listTransitions(id, null)).filter((t) => t.to === 'queued');
        expect(queued.map((t) => t.reason)).toEqual(['created', 'resumed']);
      }
      expect([...fromA.settled, ...fromB.settled].sort()).toEqual([...ids].sort());
      // A sweep after that finds nothing to do on either replica.
      const again = await Promise.all([a.engine.sweepApprovals(), b.engine.sweepApprovals()]);
      expect(again.flatMap((r) => [...r.rejected, ...r.settled])).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('one sweep at a time: a sweeper that finds `sweep:approvals` held by another replica skips its turn', async () => {
    const url = server.createDatabase(`approval_sweeps_${++databases}`);
    const a = await replica(url);
    const b = await replica(url);
    try {
      const [id] = await parkRuns(a, 1);
      // A sweep of another replica under way holds the lease.
      const held = await b.store.acquireLease(SWEEP_LEASE, 'replica-c', Date.now(), 60_000);
      expect(await a.engine.sweepApprovals()).toMatchObject({ skipped: true, rejected: [] });
      expect((await a.store.getTask(id!, 'gate')).state).toBe('waiting_for_approval');
      await b.store.releaseLease(SWEEP_LEASE, 'replica-c', held.token);
      expect(await a.engine.sweepApprovals()).toMatchObject({ skipped: false, rejected: [`${id}/gate`] });
      // Let go after each sweep: the other replica may take the next turn.
      expect((await b.engine.sweepApprovals()).skipped).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
