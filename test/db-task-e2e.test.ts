/**
 * tasks/db through `maestro run` (local runner, sandboxed, real policy, signed receipts) against a
 * real PostgreSQL started here: a seeding task with an idempotency key, a report task whose rows
 * feed the next task and whose CSV is kept as an artifact. The connection URL (with its password)
 * is a secret passed in env:. The attack: a statement that selects the URL itself into the rows
 * output. The password must appear nowhere the run leaves behind: logs, outputs, stored inputs,
 * receipts, artifacts (every file of the data dir is searched).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../engine/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: orders, namespace: demo }
spec:
  defaults: { runner: local, timeout: 60s }
  tasks:
    - id: seed
      uses: tasks/db@1
      env: { DATABASE_URL: "\${secrets.DB_URL}" }
      with:
        driver: postgres
        idempotencyKey: seed-orders-v1
        statements:
          - sql: CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, customer text, total numeric)
          - sql: INSERT INTO orders VALUES ($1, $2, $3), ($4, $5, $6)
            params: [1, "Ada", 12.5, 2, "Grace, \\"the admiral\\"", 30]
    - id: report
      needs: [seed]
      uses: tasks/db@1
      env: { DATABASE_URL: "\${secrets.DB_URL}" }
      artifacts: [out/orders.csv]
      with:
        driver: postgres
        sql: SELECT id, customer, total FROM orders WHERE total > $1 ORDER BY id
        params: [10]
        resultFile: out/orders.csv
        format: csv
    - id: leak
      needs: [seed]
      uses: tasks/db@1
      env: { DATABASE_URL: "\${secrets.DB_URL}" }
      with:
        driver: postgres
        sql: SELECT $1::text AS url, count(*) AS n FROM orders
        params: ["\${secrets.DB_URL}"]
    - id: announce
      needs: [report, leak]
      run: echo "report rows=\${tasks.report.outputs.rowCount} leak=\${tasks.leak.outputs.rows}"
`;

let server: PostgresServer;
let dir: string;
let url: string;
let password: string;

beforeAll(async () => {
  server = await startPostgres();
  url = server.createDatabase('shop');
  password = decodeURIComponent(new URL(url).password);
  dir = tempDir('maestro-db-e2e-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'workflows', 'orders.yaml'), WORKFLOW);
}, 60_000);
afterAll(() => server?.stop());

const env = () => ({ PATH: process.env.PATH, HOME: dir, MAESTRO_SECRET_DB_URL: url });
const maestro = (args: string[], dataDir: string) =>
  runCaptured([...args, '--data-dir', dataDir], dir, env());

async function attempts(runId: string, dataDir: string) {
  const shown = await maestro(['runs', 'show', runId, '--format', 'json'], dataDir);
  const tasks = (
    JSON.parse(shown.stdout) as {
      tasks: Array<{ id: string; attempts: Array<{ outputs: Record<string, string> }> }>;
    }
  ).tasks;
  return Object.fromEntries(tasks.map((t) => [t.id, t.attempts.at(-1)!.outputs]));
}

describe('tasks/db end to end (maestro run, local runner, real PostgreSQL)', () => {
  it('seeds once, reports rows to the next task and as a CSV artifact; the URL’s password is nowhere in the data dir', async () => {
    const dataDir = join(dir, 'data');
    const run = await maestro(['run', '.maestro/workflows/orders.yaml'], dataDir);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const outputs = await attempts(runId, dataDir);
    expect(outputs.seed).toMatchObject({ affected: '2', skipped: 'false' });
    expect(outputs.report).toMatchObject({ rowCount: '2', resultFile: 'out/orders.csv' });
    // The secret the statement selected came back redacted, in the output and in its log line.
    expect(JSON.parse(outputs.leak!.rows!)).toEqual([{ url: '***', n: '2' }]);
    const logs = await maestro(['runs', 'logs', runId], dataDir);
    expect(logs.stdout).toContain('report rows=2 leak=[{"url":"***","n":"2"}]');
    expect(logs.stdout).toMatch(/db: 2 statement\(s\) on postgres 127\.0\.0\.1:\d+\/shop/);

    const store = openStore({ dataDir });
    const [report] = store.listAttempts(runId, 'report');
    store.close();
    expect(readFileSync(join(report!.artifactsDir, 'out', 'orders.csv'), 'utf8')).toBe(
      'id,customer,total\r\n1,Ada,12.5\r\n2,"Grace, ""the admiral""",30\r\n',
    );
    expect(filesHolding(dataDir, password)).toEqual([]);
  }, 120_000);

  it('a second run of the same workflow skips the seed (its idempotency key was applied): no duplicate rows', async () => {
    const dataDir = join(dir, 'data-2');
    const run = await maestro(['run', '.maestro/workflows/orders.yaml'], dataDir);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const outputs = await attempts(/run (r-\S+) /.exec(run.stdout)![1]!, dataDir);
    expect(outputs.seed).toMatchObject({ affected: '0', skipped: 'true' });
    expect(outputs.report).toMatchObject({ rowCount: '2' });
    expect(filesHolding(dataDir, password)).toEqual([]);
  }, 120_000);
});
