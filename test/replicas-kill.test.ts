/**
 * Drills (1) and (3) of issue 12, with real `maestro server --role worker` processes on one real
 * PostgreSQL, runs submitted through a real `--role api` server, and a 10-task workflow (one task,
 * eight in parallel, one after them) whose every task reports its run and task id to a witness
 * HTTP server on 127.0.0.1 (sandboxed tasks cannot write host files; trusted API runs keep the
 * loopback network).
 *
 * (1) Three replicas; one of them, chosen by a seeded generator, is SIGKILLed every few seconds
 * and started again. At the end every run succeeded, and every task reported exactly once, or
 * more often only where the store shows an attempt of it interrupted by the kill (a lost lease).
 * MAESTRO_DRILL_RUNS sets the number of runs (default 24 for `npm test`, about 45 s; the 200
 * ran in 247 s on the two-core machine, with 24 kills and 42 tasks re-attempted: docs/server.md).
 *
 * (3) PostgreSQL restarted (pg_ctl stop -m fast, then start) while runs execute on two replicas:
 * the servers reconnect and finish every run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type Replica } from './helpers/replica-cluster.ts';
import { waitFor } from './helpers/wait-for.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

const RUNS = Number(process.env.MAESTRO_DRILL_RUNS ?? 24);
const TASKS = ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08', 't09', 't10'];

let server: PostgresServer;
let witness: Witness;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  witness = await startWitness();
  dir = mkdtempSync(join(tmpdir(), 'maestro-replicas-'));
}, 120_000);
afterAll(async () => {
  await witness?.close();
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function manifest(name: string, w: Witness): string {
  const task = (id: string, needs: string[]) =>
    `    - id: ${id}\n      needs: [${needs.join(', ')}]\n      run: sleep 0.2 && echo "\${run.id}" | ${w.report(id)}\n`;
  const middle = TASKS.slice(1, 9);
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ${name}, namespace: drill }
spec:
  defaults: { runner: local, timeout: 120s }
  tasks:
${task('t01', [])}${middle.map((id) => task(id, ['t01'])).join('')}${task('t10', middle)}`;
}

/** Waits until every run is final; returns their statuses. */
function allFinal(cluster: Cluster, ids: readonly string[], explain: () => string, timeoutMs: number) {
  return waitFor(
    'every run to finish',
    async () => {
      const statuses = await cluster.statuses(ids);
      const open = [...statuses.values()].filter((s) => s === 'queued' || s === 'running').length;
      return open === 0 && statuses.size === ids.length ? statuses : undefined;
    },
    { timeoutMs, intervalMs: 500, explain },
  );
}

/** Each (run, task) the witness heard from, with how many times. */
function ledger(w: Witness): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of w.reports()) {
    const key = `${r.body.trim()}/${r.path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Small seeded generator (LCG): which replica dies, and when, is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

async function submitAll(cluster: Cluster, digest: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await cluster.startRun(digest));
  return ids;
}

describe('drills: replicas on one PostgreSQL', () => {
  it(`${RUNS} runs of a 10-task workflow while a replica is SIGKILLed every few seconds`, async () => {
    const cluster = await startCluster({
      dir: join(dir, 'kill'),
      databaseUrl: server.createDatabase('drill_kill'),
      env: { MAESTRO_LEASE_TTL: '2s' },
    });
    const names = ['w1', 'w2', 'w3'];
    const replicas = new Map<string, Replica>();
    let kills = 0;
    let stopping = false;
    try {
      const digest = await cluster.postWorkflow(manifest('kill', witness));
      for (const n of names) replicas.set(n, await cluster.startWorker(n));
      const ids = await submitAll(cluster, digest, RUNS);
      const random = seeded(12);
      // The killer: every 2-5 s one replica dies and is started again.
      const killer = (async () => {
        while (!stopping) {
          await new Promise((r) => setTimeout(r, 2000 + random() * 3000));
          if (stopping) return;
          const name = names[Math.floor(random() * names.length)]!;
          const victim = replicas.get(name)!;
          victim.child.kill('SIGKILL');
          await victim.exited;
          kills++;
          replicas.set(name, await cluster.startWorker(name));
        }
      })();
      const explain = () => [...replicas.values()].map((r) => r.output().slice(-3000)).join('\n---\n');
      const statuses = await allFinal(cluster, ids, explain, 1_500_000);
      stopping = true;
      await killer;
      expect(kills).toBeGreaterThan(0);
      const failed = ids.filter((id) => statuses.get(id) !== 'succeeded');
      const why = await cluster.query<Record<string, unknown>>(
        'SELECT run_id, task_id, from_state, to_state, reason, detail FROM transitions WHERE run_id = ANY ($1::text[]) ORDER BY id',
        [failed],
      );
      expect(failed, JSON.stringify(why, null, 1)).toEqual([]);

      // The ledger: every task of every run reported; more than once only after an interrupted attempt.
      const counts = ledger(witness);
      const attempts = await cluster.query<{ run_id: string; task_id: string; outcome: string }>(
        'SELECT run_id, task_id, outcome FROM attempts WHERE run_id = ANY ($1::text[])',
        [ids],
      );
      const interrupted = new Map<string, number>();
      for (const a of attempts)
        if (a.outcome === 'interrupted') {
          const key = `${a.run_id}/${a.task_id}`;
          interrupted.set(key, (interrupted.get(key) ?? 0) + 1);
        }
      const wrong: string[] = [];
      for (const id of ids)
        for (const t of TASKS) {
          const key = `${id}/${t}`;
          const heard = counts.get(key) ?? 0;
          // Once for the attempt that succeeded, at most once more per attempt a kill interrupted.
          if (heard < 1 || heard > 1 + (interrupted.get(key) ?? 0)) wrong.push(`${key}: heard ${heard}`);
        }
      expect(wrong).toEqual([]);
      // A re-attempt's transition says why it ran: after an interrupted attempt (a lost lease).
      const reattempts = await cluster.query<{ n: string }>(
        "SELECT count(*) AS n FROM transitions WHERE reason = 'reattempt_scheduled' AND run_id = ANY ($1::text[])",
        [ids],
      );
      expect(Number(reattempts[0]!.n)).toBe([...interrupted.values()].reduce((x, y) => x + y, 0));
      console.log(`drill 1: ${RUNS} runs, ${kills} kills, ${interrupted.size} tasks re-attempted`);
    } finally {
      stopping = true;
      await cluster.close();
    }
  }, 1_800_000);

  it('finishes every run when PostgreSQL restarts in the middle of them', async () => {
    const cluster = await startCluster({
      dir: join(dir, 'restart'),
      databaseUrl: server.createDatabase('drill_restart'),
      env: { MAESTRO_LEASE_TTL: '3s' },
    });
    try {
      const digest = await cluster.postWorkflow(manifest('restart', witness));
      const replicas = [await cluster.startWorker('w1'), await cluster.startWorker('w2')];
      const ids = await submitAll(cluster, digest, 8);
      await waitFor('runs to be executing', async () => {
        const running = [...(await cluster.statuses(ids)).values()].filter((s) => s === 'running');
        return running.length >= 2 ? true : undefined;
      });
      server.restart();
      const explain = () => replicas.map((r) => r.output().slice(-4000)).join('\n---\n');
      const statuses = await allFinal(cluster, ids, explain, 300_000);
      const failed = ids.filter((id) => statuses.get(id) !== 'succeeded');
      const why = await cluster.query<Record<string, unknown>>(
        'SELECT task_id, from_state, to_state, reason, by, detail FROM transitions WHERE run_id = ANY ($1::text[]) ORDER BY id',
        [failed],
      );
      expect(failed, `${JSON.stringify(why, null, 1)}\n${explain()}`).toEqual([]);
      // Both replicas lived through it: they reconnected rather than crashed.
      for (const r of replicas) expect(r.child.exitCode, r.output()).toBeNull();
      const counts = ledger(witness);
      for (const id of ids) for (const t of TASKS) expect(counts.get(`${id}/${t}`) ?? 0).toBeGreaterThan(0);
    } finally {
      await cluster.close();
    }
  }, 600_000);
});
