/**
 * The `demo-seed` and `schema-replay` runbooks end to end, each stored on a real server and
 * triggered through POST /v1/runbooks/{namespace}/{name}/trigger (on the allow-list, allowed by
 * the real OPA policy). demo-seed acts through the Maestro API with a token made by
 * `maestro tokens create` for the demo namespace only, given to the server as the secret
 * MAESTRO_TOKEN, and through the SIG reference server's ingest API; schema-replay reads the
 * records SIG stored (served as a JSON array on 127.0.0.1, as an export or a presigned URL would
 * be) and reports, record by record, what a new schema version would refuse; it runs through
 * `maestro run` (the schema as an object param, JSON on the command line).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';
import { openStore } from '../../engine/index.ts';
import { startApi, type ApiHarness } from '../api/api-harness.ts';
import { runCaptured } from '../cli-helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const TRIGGER = '/v1/runbooks/{namespace}/{name}/trigger';
const request = { contractVersion: 3, purpose: 'demo', authority: 'team:platform', license: 'internal' };

let api: ApiHarness;
let sig: SigDevServer;
let sigUrl: string;
let seedToken: string;
let trigger: string;
let records: Server;
let recordsUrl: string;

beforeAll(async () => {
  sig = createSigDevServer();
  sigUrl = await sig.listen();
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-runbooks-'));
  const made = await runCaptured(
    ['tokens', 'create', '--name', 'demo-seed', '--scope', 'workflows:write,runs:write,runs:read'],
    root,
    { MAESTRO_DATA_DIR: dataDir, HOME: dataDir, PATH: process.env.PATH },
  );
  expect(made.code, made.stderr).toBe(0);
  seedToken = made.stdout.trim();
  api = await startApi({
    dataDir,
    runbooks: 'namespaces:\n  ops: [demo-seed, schema-replay]\n',
    env: { MAESTRO_SECRET_MAESTRO_TOKEN: seedToken },
  });
  for (const name of ['demo-seed', 'schema-replay']) {
    const raw = readFileSync(join(root, 'blueprints', 'runbooks', `${name}.yaml`), 'utf8');
    expect((await api.call('POST', '/v1/workflows', { raw, contentType: 'application/yaml' })).status).toBe(
      201,
    );
  }
  trigger = await api.mint(['runbooks:trigger'], { user: 'sig', namespaces: ['ops'] });
  // What SIG stored, exported as a JSON array.
  records = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([...sig.received.records.values()].map((r) => r.record)));
  });
  await new Promise<void>((resolve) => records.listen(0, '127.0.0.1', resolve));
  recordsUrl = `http://127.0.0.1:${(records.address() as AddressInfo).port}/records.json`;
}, 120_000);
afterAll(async () => {
  await api?.close();
  await sig?.close();
  records?.close();
});

async function triggered(name: string, params: Record<string, unknown>) {
  const answer = await api.call('POST', TRIGGER, {
    token: trigger,
    params: { namespace: 'ops', name },
    body: { ...request, correlationId: `${name}-1`, params },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const done = await api.settle(answer.body.runId as string);
  const outputs = (id: string) =>
    done.body.tasks.find((t: { id: string }) => t.id === id).attempts.at(-1).outputs as Record<
      string,
      string
    >;
  return { run: done.body.run, tasks: done.body.tasks, outputs };
}

describe('demo-seed', () => {
  it('loads demo workflows and runs through the API, and records into SIG; again, it adds no records', async () => {
    const first = await triggered('demo-seed', { maestroUrl: api.url, sigUrl, namespace: 'demo', runs: 2 });
    expect(first.run.status, JSON.stringify(first.tasks)).toBe('succeeded');
    expect(first.outputs('runs').succeeded).toBe('4');
    expect(first.outputs('records')).toEqual({ accepted: '12', duplicates: '0' });
    const listed = await api.call('GET', '/v1/runs', { query: { limit: 500 } });
    const demo = listed.body.items.filter((r: { namespace: string }) => r.namespace === 'demo');
    expect(demo.map((r: { workflow: string }) => r.workflow).sort()).toEqual([
      'demo-etl',
      'demo-etl',
      'demo-hello',
      'demo-hello',
    ]);
    // The demo runs are the token's: their actor is the token's user, not the trigger's.
    expect(new Set(demo.map((r: { actor: string }) => r.actor))).toEqual(new Set(['token:demo-seed']));
    expect(sig.received.records.size).toBe(12);
    expect(sig.received.violations).toEqual([]);

    const again = await triggered('demo-seed', { maestroUrl: api.url, sigUrl, namespace: 'demo', runs: 1 });
    expect(again.run.status).toBe('succeeded');
    expect(sig.received.records.size).toBe(12);
    // The token never reached the logs or the stored inputs.
    const logs = await api.call('GET', '/v1/runs/{id}/logs', { params: { id: first.run.id } });
    expect(JSON.stringify(logs.body)).not.toContain(seedToken);
  });
});

/** schema-replay through `maestro run` (its params known to the policy before each attempt). */
async function replayed(schema: unknown, version: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-replay-'));
  const args = ['run', join(root, 'blueprints', 'runbooks', 'schema-replay.yaml')];
  args.push('--param', `recordsUrl=${recordsUrl}`, '--param', `schema=${JSON.stringify(schema)}`);
  args.push('--param', `version=${version}`);
  const ran = await runCaptured(args, root, {
    MAESTRO_DATA_DIR: dataDir,
    HOME: dataDir,
    PATH: process.env.PATH,
  });
  const store = openStore({ dataDir });
  try {
    const [run] = store.listRuns();
    const byTask = new Map(
      ['fetch', 'replay', 'report'].map((id) => [id, store.listAttempts(run!.id, id).at(-1)?.outputs]),
    );
    return { code: ran.code, stderr: ran.stdout + ran.stderr, outputs: (id: string) => byTask.get(id) };
  } finally {
    store.close();
  }
}

describe('schema-replay (maestro run)', () => {
  const v3 = JSON.parse(readFileSync(join(root, 'schemas/sig/ingest/v3/ingest.schema.json'), 'utf8'));
  const record = v3.$defs.Record;

  it('reports that the stored records are valid under the version they were sent in', async () => {
    const done = await replayed(record, 'ingest v3');
    expect(done.code, done.stderr).toBe(0);
    expect(done.outputs('replay')).toMatchObject({ valid: 'true', errors: '0' });
    expect(done.outputs('report')).toEqual({ breaks: '0', records: '' });
  });

  it('names the records a new version would refuse (an enum value removed), changing nothing', async () => {
    const draft = structuredClone(record);
    draft.properties.kind.enum = ['event', 'log', 'trace'];
    const before = sig.received.records.size;
    const done = await replayed(draft, 'ingest v4 draft');
    expect(done.code, done.stderr).toBe(0);
    expect(done.outputs('replay')).toMatchObject({ valid: 'false', errors: '4' });
    // demo-seed made every third record a metric: indices 0, 3, 6 and 9.
    expect(done.outputs('report')).toEqual({ breaks: '4', records: '0,3,6,9' });
    expect(sig.received.records.size).toBe(before);
  });
});
