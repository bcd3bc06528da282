/**
 * Drill (2) of issue 12: a worker stopped with SIGSTOP past its lease, then continued. Two real
 * `maestro server --role worker` processes on one real PostgreSQL (MAESTRO_LEASE_TTL=2s). Worker A
 * starts the run's slow task and is stopped; worker B claims the run once A's lease has expired,
 * closes A's attempt as interrupted and runs the task again; A is then continued. Every write A
 * still tries (its attempt's result, the task's transitions, its log lines) is refused by the
 * fence on the run's lease token: A gives the run up, and the task's result is B's.
 *
 * Against the old worker (it polled `queued` runs only) B never resumed the run: the wait for the
 * second start timed out with the run `running` under the stopped worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidOf, startCluster, type Cluster } from './helpers/replica-cluster.ts';
import { waitFor } from './helpers/wait-for.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

let server: PostgresServer;
let witness: Witness;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  witness = await startWitness();
  dir = mkdtempSync(join(tmpdir(), 'maestro-paused-'));
}, 120_000);
afterAll(async () => {
  await witness?.close();
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const manifest = (w: Witness) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: paused, namespace: drill }
spec:
  defaults: { runner: local, timeout: 120s }
  tasks:
    - id: slow
      outputs: [nonce]
      run: |
        nonce=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n')
        echo "$nonce" | ${w.report('started')}
        sleep 8
        echo "$nonce" | ${w.report('finished')}
        echo "nonce=$nonce" >> "$MAESTRO_OUTPUT"
    - id: after
      needs: [slow]
      run: echo "\${tasks.slow.outputs.nonce}" | ${w.report('after')}
`;

describe('drill: a worker paused past its lease', () => {
  it("refuses the paused worker's late writes; the task's result comes from the worker that took over", async () => {
    const cluster: Cluster = await startCluster({
      dir,
      databaseUrl: server.createDatabase('paused'),
      env: { MAESTRO_LEASE_TTL: '2s' },
    });
    try {
      const digest = await cluster.postWorkflow(manifest(witness));
      const a = await cluster.startWorker('worker-a');
      const runId = await cluster.startRun(digest);
      const first = await witness.waitFor('started', 90_000);
      a.child.kill('SIGSTOP');
      const b = await cluster.startWorker('worker-b');
      // B claims the run once A's lease has expired, and starts the task again.
      await waitFor('the second start', () => (witness.reports('started').length >= 2 ? true : undefined), {
        timeoutMs: 90_000,
        explain: () => b.output(),
      });
      const second = witness.reports('started')[1]!;
      a.child.kill('SIGCONT');
      await waitFor(
        'worker A to give the run up',
        () => (a.output().includes('run given up by this worker') ? true : undefined),
        { timeoutMs: 60_000, explain: () => a.output() },
      );
      const status = await waitFor(
        'the run to finish',
        async () => {
          const s = (await cluster.statuses([runId])).get(runId);
          return s === 'running' || s === 'queued' ? undefined : s;
        },
        { timeoutMs: 90_000, explain: () => b.output() },
      );
      expect(status, b.output()).toBe('succeeded');

      // Attempt 1 (A's) was closed as interrupted by B; attempt 2 (B's) is the task's result.
      const attempts = await cluster.query<{ attempt: number; outcome: string; id: string }>(
        "SELECT attempt, outcome, id FROM attempts WHERE run_id = $1 AND task_id = 'slow' ORDER BY attempt",
        [runId],
      );
      expect(attempts.map((x) => [x.attempt, x.outcome])).toEqual([
        [1, 'interrupted'],
        [2, 'succeeded'],
      ]);
      const [output] = await cluster.query<{ value: string }>(
        "SELECT value FROM outputs WHERE attempt_id = $1 AND name = 'nonce'",
        [attempts[1]!.id],
      );
      expect(output?.value).toBe(second.body.trim());
      expect(output?.value).not.toBe(first.body.trim());
      expect(witness.reports('after').map((r) => r.body.trim())).toEqual([second.body.trim()]);

      // Every transition after B's takeover is B's; none of A's landed after it.
      const transitions = await cluster.query<{ by: string; to_state: string; id: number }>(
        'SELECT id, by, to_state FROM transitions WHERE run_id = $1 ORDER BY id',
        [runId],
      );
      const byPid = (pid: number | undefined) => transitions.filter((t) => pidOf(t.by) === pid);
      const takeover = byPid(b.child.pid)[0]!;
      expect(takeover, JSON.stringify(transitions)).toBeDefined();
      expect(byPid(a.child.pid).filter((t) => t.id > takeover.id)).toEqual([]);
      const succeeded = transitions.filter((t) => t.to_state === 'succeeded');
      expect(succeeded.map((t) => pidOf(t.by))).toEqual([b.child.pid, b.child.pid, b.child.pid]);
      // A's late log lines (its lost attempt lease, its discarded result) were refused too.
      const late = await cluster.query<{ text: string }>(
        "SELECT text FROM logs WHERE run_id = $1 AND (text LIKE '%lost the attempt lease%' OR text LIKE '%result discarded%')",
        [runId],
      );
      expect(late).toEqual([]);
      // A stopped its run cleanly: it is alive, and says which lease it lost.
      expect(a.child.exitCode, a.output().slice(-6000)).toBeNull();
      expect(a.output()).toMatch(/lease_lost|another worker (holds|took)/);
    } finally {
      await cluster.close();
    }
  }, 300_000);
});
