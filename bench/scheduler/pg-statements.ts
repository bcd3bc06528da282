/**
 * Where the PostgreSQL round trips of one run go: `maestro server` on a private PostgreSQL
 * server (as the bench starts them), N runs of the no-op workflow one after the other with
 * `log_statement = all`, then every statement as the server logged it (one line per round trip:
 * a multi-statement simple query is one), literals blanked, counted per run.
 *
 *   node bench/scheduler/pg-statements.ts [runs, default 20]
 *
 * A diagnosis, not a figure of the bench: the statements do not depend on the load, their
 * latencies do (RESULTS.md quotes this beside the bench's transactions per run).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../../test/setup/postgres-server.ts';
import { startMaestro } from './maestro-target.ts';

const RUNS = Number(process.argv[2] ?? 20);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const postgres = await startPostgres();
const work = mkdtempSync(join(tmpdir(), 'maestro-pg-statements-'));
const url = postgres.createDatabase('maestro_bench');
const admin = new pg.Client({ connectionString: url });
const setLogging = async (value: 'all' | 'none') => {
  await admin.query(`ALTER SYSTEM SET log_statement = '${value}'`);
  await admin.query('SELECT pg_reload_conf()');
  await sleep(500);
};
try {
  const target = await startMaestro({ label: 'pg', work, sandbox: 'bwrap', databaseUrl: url });
  try {
    // Warm-up: the first runs load the policy, the launcher and the prepared statements.
    for (let i = 0; i < 3; i++) await target.submit(i);
    await target.settle([], 30_000);
    await admin.connect();
    await setLogging('all');
    const logFile = join(postgres.socketDir, 'server.log');
    const from = readFileSync(logFile, 'utf8').length;
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      ids.push(await target.submit(i));
      await sleep(200); // one at a time: no claim or renewal of another run in between
    }
    await target.settle(ids, 30_000);
    await sleep(1000);
    await setLogging('none');
    const counts = new Map<string, number>();
    for (const m of readFileSync(logFile, 'utf8')
      .slice(from)
      .matchAll(/LOG: {2}(?:statement|execute [^:]*): ([^\n]*)/g)) {
      const text = m[1]!
        .replace(/\s+/g, ' ')
        .replace(/'[^']*'/g, "'…'")
        .slice(0, 110);
      if (/log_statement|pg_reload_conf/.test(text)) continue;
      counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`round trips per run (statements as sent): ${(total / RUNS).toFixed(1)}`);
    for (const [text, n] of [...counts].sort((a, b) => b[1] - a[1]))
      console.log(`${(n / RUNS).toFixed(2).padStart(6)}  ${text}`);
  } finally {
    await target.close();
  }
} finally {
  await admin.end().catch(() => {});
  postgres.stop();
  rmSync(work, { recursive: true, force: true });
}
