/**
 * Claim latency of `maestro server --role worker` replicas on PostgreSQL: a run accepted by an
 * `--role api` server (its `queued` transition) until an idle worker claimed and started it (its
 * `running` transition), both times as the store recorded them. Two workers, one run at a time
 * (each waits for the previous to finish, so a worker is always idle), a one-task workflow.
 * Wake-ups are PostgreSQL's LISTEN/NOTIFY with the 250 ms poll as the fallback (api/worker.ts).
 *
 *   node bench/claim/run.ts [runs]   (default 40)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../test/helpers/replica-cluster.ts';
import { startPostgres } from '../../test/setup/postgres-server.ts';

const runs = Number(process.argv[2] ?? 40);
const MANIFEST = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: claim, namespace: bench }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: only
      run: "true"
`;

const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'maestro-claim-bench-'));
const cluster = await startCluster({ dir, databaseUrl: server.createDatabase('claim_bench') });
try {
  const digest = await cluster.postWorkflow(MANIFEST);
  await cluster.startWorker('w1');
  await cluster.startWorker('w2');
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const id = await cluster.startRun(digest);
    for (;;) {
      const status = (await cluster.statuses([id])).get(id);
      if (status === 'succeeded' || status === 'failed') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const rows = await cluster.query<{ to_state: string; time: string }>(
      "SELECT to_state, time FROM transitions WHERE run_id = $1 AND task_id IS NULL AND to_state IN ('queued', 'running') ORDER BY id",
      [id],
    );
    const queued = Number(rows.find((r) => r.to_state === 'queued')!.time);
    const running = Number(rows.find((r) => r.to_state === 'running')!.time);
    latencies.push(running - queued);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    `claim latency over ${runs} runs (ms): p50 ${at(0.5)}, p95 ${at(0.95)}, max ${latencies.at(-1)}, mean ${(
      latencies.reduce((a, b) => a + b, 0) / runs
    ).toFixed(0)}`,
  );
} finally {
  await cluster.close();
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
