/**
 * The engine on PostgreSQL, end to end: with MAESTRO_DATABASE_URL=postgres://… `maestro run`
 * executes a run whose run, tasks, transitions, attempts, outputs, logs and receipts are rows of
 * that database (read here with pg, not through maestro), no SQLite engine database appears in the
 * data dir, and `maestro runs show` and `maestro receipts` read the run back from PostgreSQL. The
 * worker role of `maestro server` executes a posted run on the same database. A real server from
 * Debian's packages (test/setup/postgres-server.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

const MANIFEST = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: pg-demo, namespace: test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: produce
      artifacts: [out]
      outputs: [rows]
      run: mkdir -p out && printf 'rows=42\\n' > out/report.txt && echo "rows=42" >> "$MAESTRO_OUTPUT"
    - id: consume
      needs: [produce]
      run: echo "got \${tasks.produce.outputs.rows} rows" && cat "$MAESTRO_ARTIFACTS/produce/out/report.txt"
`;

let server: PostgresServer;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'maestro-pg-e2e-'));
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'workflows', 'demo.yaml'), MANIFEST);
}, 120_000);
afterAll(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function query<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every file under `root`, relative to it. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' });
}

describe('the engine on PostgreSQL', () => {
  it('maestro run stores the run, its tasks, attempts, logs and receipts in PostgreSQL, not SQLite', async () => {
    const url = server.createDatabase('cli_run');
    const dataDir = join(dir, 'data-cli');
    const env = { PATH: process.env.PATH, HOME: dir, MAESTRO_DATABASE_URL: url };
    const run = await runCaptured(['run', '.maestro/workflows/demo.yaml', '--data-dir', dataDir], dir, env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const runId = /run (\S+) succeeded/.exec(run.stdout)?.[1];
    expect(runId, run.stdout).toBeDefined();
    // The password never reaches the output.
    expect(run.stdout + run.stderr).not.toContain(new URL(url).password);

    const [stored] = await query<{ status: string; workflow: string }>(
      url,
      'SELECT status, workflow FROM runs WHERE id = $1',
      [runId],
    );
    expect(stored).toEqual({ status: 'succeeded', workflow: 'pg-demo' });
    const tasks = await query<{ task_id: string; state: string }>(
      url,
      'SELECT task_id, state FROM tasks WHERE run_id = $1 ORDER BY position',
      [runId],
    );
    expect(tasks).toEqual([
      { task_id: 'produce', state: 'succeeded' },
      { task_id: 'consume', state: 'succeeded' },
    ]);
    const attempts = await query<{ task_id: string; status: string; outcome: string }>(
      url,
      'SELECT task_id, status, outcome FROM attempts WHERE run_id = $1 ORDER BY task_id',
      [runId],
    );
    expect(attempts).toEqual([
      { task_id: 'consume', status: 'finished', outcome: 'succeeded' },
      { task_id: 'produce', status: 'finished', outcome: 'succeeded' },
    ]);
    // The dependant resolved its need's output from the store, and read its artifact.
    const logs = await query<{ text: string }>(
      url,
      "SELECT text FROM logs WHERE run_id = $1 AND task_id = 'consume' ORDER BY id",
      [runId],
    );
    expect(logs.map((l) => l.text)).toEqual(expect.arrayContaining(['got 42 rows', 'rows=42']));
    const receipts = await query<{ task_id: string; attempt: number }>(
      url,
      'SELECT task_id, attempt FROM receipts WHERE run_id = $1 ORDER BY task_id',
      [runId],
    );
    expect(receipts).toEqual([
      { task_id: '', attempt: 0 },
      { task_id: 'consume', attempt: 1 },
      { task_id: 'produce', attempt: 1 },
    ]);
    const transitions = await query<{ n: string }>(
      url,
      'SELECT count(*) AS n FROM transitions WHERE run_id = $1',
      [runId],
    );
    expect(Number(transitions[0]!.n)).toBeGreaterThanOrEqual(8);
    // Nothing went to an engine database or a decision log in the data dir (keys may).
    expect(
      filesUnder(dataDir).filter((f) => f.startsWith('maestro.db') || f.startsWith('decisions.db')),
    ).toEqual([]);
    // The policy decisions, one per task, are in PostgreSQL's chain, which audit reads and verifies.
    const decisions = await query<{ task_id: string; allow: boolean }>(
      url,
      'SELECT task_id, allow FROM policy_decision_log WHERE run_id = $1 ORDER BY seq',
      [runId],
    );
    expect(decisions).toEqual([
      { task_id: 'produce', allow: true },
      { task_id: 'consume', allow: true },
    ]);
    const audited = await runCaptured(['audit', 'verify', '--data-dir', dataDir], dir, env);
    expect(audited.code, audited.stdout + audited.stderr).toBe(0);
    expect(audited.stdout).toMatch(/^ok: the live decision log: 2 entries, chain intact/);

    // The commands that read runs read them from PostgreSQL.
    const shown = await runCaptured(
      ['runs', 'show', runId!, '--format', 'json', '--data-dir', dataDir],
      dir,
      env,
    );
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout) as { status: string; tasks: { id: string; state: string }[] };
    expect(detail.status).toBe('succeeded');
    expect(detail.tasks.map((t) => [t.id, t.state])).toEqual([
      ['produce', 'succeeded'],
      ['consume', 'succeeded'],
    ]);
    const listed = await runCaptured(['receipts', runId!, '--data-dir', dataDir], dir, env);
    expect(listed.code, listed.stdout + listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^produce#1\s+succeeded\s+sha256:[0-9a-f]{64}\s+ok$/m);
    expect(listed.stdout).toMatch(/^run\s+succeeded\s+sha256:[0-9a-f]{64}\s+ok$/m);
  }, 120_000);

  it('maestro server executes a posted run on PostgreSQL with its worker role', async () => {
    const url = server.createDatabase('server_run');
    const dataDir = join(dir, 'data-server');
    const env = { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', MAESTRO_DATABASE_URL: url };
    const node = join(process.cwd(), 'node_modules/.bin/node');
    const created = spawnSync(
      node,
      [
        'bin/maestro.ts',
        'tokens',
        'create',
        '--name',
        'ci',
        '--scope',
        'runs:write,runs:read,workflows:write',
        '--data-dir',
        dataDir,
      ],
      { env, encoding: 'utf8' },
    );
    expect(created.status, created.stderr).toBe(0);
    const auth = { authorization: `Bearer ${created.stdout.trim()}` };
    const child: ChildProcess = spawn(
      node,
      ['bin/maestro.ts', 'server', '--port', '0', '--data-dir', dataDir],
      {
        env: { ...env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      let base: string | undefined;
      for (let i = 0; i < 600 && !base; i += 1) {
        base = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
        if (!base) await new Promise((r) => setTimeout(r, 50));
      }
      expect(base, output).toBeDefined();
      const wf = await fetch(`${base}/v1/workflows`, {
        method: 'POST',
        body: MANIFEST,
        headers: { ...auth, 'content-type': 'application/yaml' },
      });
      expect(wf.status, await wf.clone().text()).toBe(201);
      const { digest } = (await wf.json()) as { digest: string };
      const started = await fetch(`${base}/v1/runs`, {
        method: 'POST',
        body: JSON.stringify({ workflow: digest }),
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(started.status).toBe(202);
      const { id } = (await started.json()) as { id: string };
      let status = 'queued';
      for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(status); i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        const rows = await query<{ status: string }>(url, 'SELECT status FROM runs WHERE id = $1', [id]);
        status = rows[0]?.status ?? 'missing';
      }
      expect(status, output).toBe('succeeded');
      const attempts = await query<{ task_id: string; outcome: string }>(
        url,
        'SELECT task_id, outcome FROM attempts WHERE run_id = $1 ORDER BY task_id',
        [id],
      );
      expect(attempts).toEqual([
        { task_id: 'consume', outcome: 'succeeded' },
        { task_id: 'produce', outcome: 'succeeded' },
      ]);
      // The API reads the run from the same database.
      const detail = (await (await fetch(`${base}/v1/runs/${id}`, { headers: auth })).json()) as {
        run: { status: string };
      };
      expect(detail.run.status).toBe('succeeded');
      expect(output).not.toContain(new URL(url).password);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  }, 120_000);
});
