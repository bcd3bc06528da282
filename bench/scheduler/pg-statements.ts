/**
 * Where the PostgreSQL round trips of one run go: `maestro server` on a private PostgreSQL
 * server (as the bench starts them), N runs of the no-op workflow one after the other with
 * `log_statement = all`, then every statement as the server logged it (one line per round trip:
 * a multi-statement simple query is one), literals blanked, counted per run.
 *
 *   node bench/scheduler/pg-statements.ts [runs, default 20] [--trace]
 *
 * `--trace` then prints the last run's statements in the order the server received them, with
 * milliseconds since its API request's first statement and the backend's pid (which connection):
 * the sequential chain between the request and the first task's lease.
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

const RUNS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);
const TRACE = process.argv.includes('--trace');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The statements of a piece of the server's log (default prefix: `%m [%p] `), literals blanked. */
function statements(log: string): { at: number; pid: string; text: string }[] {
  const found: { at: number; pid: string; text: string }[] = [];
  const line = /^(\S+ \S+) \S+ \[(\d+)\] LOG: {2}(?:statement|execute [^:]*): ([^\n]*)/gm;
  for (const m of log.matchAll(line)) {
    const text = m[3]!
      .replace(/\s+/g, ' ')
      .replace(/'[^']*'/g, "'…'")
      .slice(0, 110);
    if (/log_statement|pg_reload_conf/.test(text)) continue;
    found.push({ at: Date.parse(m[1]!.replace(' ', 'T') + 'Z'), pid: m[2]!, text });
  }
  return found;
}

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
    let lastFrom = from;
    for (let i = 0; i < RUNS; i++) {
      lastFrom = readFileSync(logFile, 'utf8').length;
      ids.push(await target.submit(i));
      await sleep(200); // one at a time: no claim or renewal of another run in between
    }
    await target.settle(ids, 30_000);
    await sleep(1000);
    await setLogging('none');
    const counts = new Map<string, number>();
    const log = readFileSync(logFile, 'utf8');
    for (const { text } of statements(log.slice(from))) counts.set(text, (counts.get(text) ?? 0) + 1);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`round trips per run (statements as sent): ${(total / RUNS).toFixed(1)}`);
    for (const [text, n] of [...counts].sort((a, b) => b[1] - a[1]))
      console.log(`${(n / RUNS).toFixed(2).padStart(6)}  ${text}`);
    if (TRACE) {
      const last = statements(log.slice(lastFrom));
      const t0 = last[0]?.at ?? 0;
      console.log(`\nthe last run's statements in order (ms since the first, backend pid):`);
      for (const s of last) console.log(`${(s.at - t0).toFixed(0).padStart(6)}  [${s.pid}]  ${s.text}`);
    }
  } finally {
    await target.close();
  }
} finally {
  await admin.end().catch(() => {});
  postgres.stop();
  rmSync(work, { recursive: true, force: true });
}
