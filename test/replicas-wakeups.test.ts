/**
 * Wake-ups of worker replicas on PostgreSQL (issue 12: "LISTEN/NOTIFY off the hot path, or short
 * polling"): real `maestro server` processes on one real PostgreSQL, one `--role api` server the
 * runs are submitted through and `--role worker` replicas that execute them. Each claim is logged
 * with the reason of the look that made it (api/worker.ts `wake`), so the test asserts which path
 * woke the worker, not how fast it was.
 *
 * (1) A worker whose poll is 10 minutes claims a run submitted through the other server: only
 *     the notification can have woken it (its first look, `start`, and the one after its
 *     listener connected, `listening`, came before the run existed).
 * (2) Its listener's connection killed (pg_terminate_backend): it reconnects and is woken again.
 * (3) Notifications dropped (MAESTRO_WAKEUPS=poll: no listener at all): the 250 ms poll runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type Replica } from './helpers/replica-cluster.ts';
import { waitFor } from './helpers/wait-for.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

let server: PostgresServer;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'maestro-wakeups-'));
}, 120_000);
afterAll(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const manifest = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: wake, namespace: drill }
spec:
  defaults: { runner: local, timeout: 60s }
  tasks:
    - id: only
      run: "true"
`;

/** The pino lines of a replica, parsed. */
function lines(replica: Replica): Record<string, unknown>[] {
  return replica
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Why `replica` claimed `runId` (the `wake` of its "run claimed" line), once it has. */
function claimedBy(replica: Replica, runId: string): Promise<unknown> {
  return waitFor(
    `${replica.name} to claim ${runId}`,
    () => lines(replica).find((l) => l.msg === 'run claimed' && l.runId === runId)?.wake,
    { timeoutMs: 90_000, explain: () => replica.output() },
  );
}

const listenings = (replica: Replica) =>
  lines(replica).filter((l) => l.msg === 'wake-ups: listening for runs');

async function succeeded(cluster: Cluster, runId: string): Promise<void> {
  await waitFor(
    `${runId} to succeed`,
    async () => ((await cluster.statuses([runId])).get(runId) === 'succeeded' ? true : undefined),
    {
      timeoutMs: 90_000,
    },
  );
}

describe('worker wake-ups on PostgreSQL', () => {
  it('wakes a worker at once through NOTIFY, again after its listener was cut, and polls when notifications are dropped', async () => {
    const cluster = await startCluster({ dir, databaseUrl: server.createDatabase('wakeups') });
    try {
      const digest = await cluster.postWorkflow(manifest);
      // (1) A poll that never comes within the test: only a notification can wake it.
      const listener = await cluster.startWorker('listener', { MAESTRO_WORKER_POLL_MS: '600000' });
      await waitFor('the listener to listen', () => listenings(listener).length === 1 || undefined, {
        timeoutMs: 60_000,
        explain: () => listener.output(),
      });
      const first = await cluster.startRun(digest);
      expect(await claimedBy(listener, first)).toBe('notify');
      await succeeded(cluster, first);

      // (2) The listener's session killed by the database: it reconnects, then is woken again.
      const killed = await cluster.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'maestro-wakeups'`,
      );
      expect(killed).toEqual([{ killed: true }]);
      await waitFor('the listener to listen again', () => listenings(listener).length === 2 || undefined, {
        timeoutMs: 60_000,
        explain: () => listener.output(),
      });
      const second = await cluster.startRun(digest);
      expect(await claimedBy(listener, second)).toBe('notify');
      await succeeded(cluster, second);
      listener.child.kill('SIGKILL');
      await listener.exited;

      // (3) Notifications dropped: a worker that does not listen still runs the next run, by its poll.
      const poller = await cluster.startWorker('poller', { MAESTRO_WAKEUPS: 'poll' });
      const third = await cluster.startRun(digest);
      // `start`: its first look, if that look came after the run was stored. Never `notify`.
      expect(['poll', 'start']).toContain(await claimedBy(poller, third));
      await succeeded(cluster, third);
      expect(listenings(poller)).toEqual([]);
    } finally {
      await cluster.close();
    }
  }, 400_000);
});
