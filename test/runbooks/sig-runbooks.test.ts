/**
 * The SIG runbooks end to end through `maestro run` against the SIG reference server, on the
 * `sig.ingest` and `sig.export` reference tasks: `ingest-backfill` re-ingests the records of a
 * time range in idempotent batches (run again, SIG stores nothing twice); `disclosure-packager`
 * builds the disclosure bundle of a run for a request id on the host (the grant: the bundle is
 * made from the store and signed with the key, which no sandbox shows), verifies it against the
 * signer's public key, and registers it as a SIG claim whose subject is the bundle's digest.
 */
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';
import { openStore } from '../../engine/index.ts';
import { runCaptured } from '../cli-helpers.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { filesHolding } from '../helpers/find-secret.ts';

const root = join(import.meta.dirname, '..', '..');
const runbook = (name: string) => join(root, 'blueprints', 'runbooks', `${name}.yaml`);
let sig: SigDevServer;
let sigUrl: string;
let source: Server;
let sourceUrl: string;

/** 30 records, one every 4 hours from 2026-03-01T00:00:00Z. */
const RECORDS = Array.from({ length: 30 }, (_, i) => ({
  id: `m-${i}`,
  kind: 'metric',
  occurredAt: new Date(Date.UTC(2026, 2, 1, 4 * i)).toISOString().replace('.000', ''),
  payload: { value: i },
}));

beforeAll(async () => {
  sig = createSigDevServer();
  sigUrl = await sig.listen();
  source = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(RECORDS));
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  sourceUrl = `http://127.0.0.1:${(source.address() as AddressInfo).port}/records.json`;
});
afterAll(async () => {
  await sig?.close();
  source?.close();
});

function outputsOf(dataDir: string, ids: string[]) {
  const store = openStore({ dataDir });
  try {
    const runs = store.listRuns();
    const run = runs[0]!;
    return {
      run,
      outputs: new Map(ids.map((id) => [id, store.listAttempts(run.id, id).at(-1)?.outputs ?? {}])),
    };
  } finally {
    store.close();
  }
}

describe('ingest-backfill', () => {
  const backfill = async () => {
    const dataDir = tempDir('maestro-backfill-');
    const args = ['run', runbook('ingest-backfill'), '--param', `sourceUrl=${sourceUrl}`];
    args.push('--param', 'from=2026-03-02T00:00:00Z', '--param', 'to=2026-03-05T08:00:00Z');
    args.push('--param', 'batchSize=7');
    const ran = await runCaptured(args, root, {
      MAESTRO_DATA_DIR: dataDir,
      HOME: dataDir,
      PATH: process.env.PATH,
      MAESTRO_SECRET_SIG_INGEST_URL: sigUrl,
    });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    return { dataDir, ...outputsOf(dataDir, ['select', 'ingest']) };
  };

  it('sends exactly the range in keyed batches; a re-run stores nothing twice', async () => {
    const first = await backfill();
    // From 03-02T00 (record 6) to before 03-05T08 (record 26): 20 records, in 3 batches of 7.
    expect(first.outputs.get('select')).toEqual({ count: '20' });
    expect(first.outputs.get('ingest')).toMatchObject({
      accepted: '20',
      duplicates: '0',
      batches: '3',
      replayed: '0',
    });
    expect([...sig.received.records.keys()].sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `m-${i + 6}`).sort(),
    );
    const key = 'backfill.2026-03-02T00:00:00Z.2026-03-05T08:00:00Z';
    expect([...sig.received.batches.keys()].sort()).toEqual([`${key}.0`, `${key}.1`, `${key}.2`]);
    expect(sig.received.violations).toEqual([]);

    const again = await backfill();
    // SIG answers each batch key it has already stored with its first answer, marked replayed.
    expect(again.outputs.get('ingest')).toMatchObject({ batches: '3', replayed: '3' });
    expect(sig.received.records.size).toBe(20);
    // The SIG URL is a secret: in no file of the data dir.
    expect(filesHolding(again.dataDir, sigUrl)).toEqual([]);
  }, 240_000);
});

describe('disclosure-packager', () => {
  it('packages a run on the host (granted), verifies the bundle and registers it as a SIG claim', async () => {
    const dir = tempDir('maestro-disclose-');
    const runsDir = join(dir, 'runs-data');
    const hello = join(root, 'examples', 'quickstart', '.maestro', 'workflows', 'hello.yaml');
    const env = { HOME: dir, PATH: process.env.PATH };
    const first = await runCaptured(['run', hello, '--data-dir', runsDir], root, env);
    expect(first.code, first.stderr).toBe(0);
    const runId = outputsOf(runsDir, []).run.id;

    const operator = join(dir, 'operator');
    writeFileSync(join(dir, 'runners.yaml'), 'local:\n  hostAccess: granted\n');
    const cli = `${join(root, 'node_modules', '.bin', 'node')} ${join(root, 'bin', 'maestro.ts')}`;
    const args = ['run', runbook('disclosure-packager'), '--runners', join(dir, 'runners.yaml')];
    args.push('--param', 'requestId=req-7', '--param', `runId=${runId}`, '--param', `dataDir=${runsDir}`);
    args.push(
      '--param',
      `publicKey=${join(runsDir, 'keys', 'dev-signing-key.pub.pem')}`,
      '--param',
      `cli=${cli}`,
    );
    const ran = await runCaptured(args, root, {
      ...env,
      MAESTRO_DATA_DIR: operator,
      MAESTRO_SECRET_SIG_INGEST_URL: sigUrl,
    });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    const { outputs } = outputsOf(operator, ['package', 'verify', 'register']);
    expect(outputs.get('verify')).toEqual({ verified: 'true' });
    const digest = outputs.get('package')!.digest!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const claimId = outputs.get('register')!.claimId!;
    const claim = sig.received.claims.get(claimId)!;
    expect(claim).toMatchObject({ kind: 'disclosure', subject: { name: 'disclosure/req-7.tgz', digest } });
    expect(JSON.stringify(claim)).toContain('legal:ombuds');
    // The bundle the claim names is the one the package step kept (by its bytes).
    const store = openStore({ dataDir: operator });
    try {
      const [run] = store.listRuns();
      const kept = store.listAttempts(run!.id, 'package')[0]!;
      expect(JSON.stringify(kept)).toContain(digest);
    } finally {
      store.close();
    }
    expect(filesHolding(operator, sigUrl)).toEqual([]);
  }, 300_000);
});
