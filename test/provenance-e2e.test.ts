/**
 * End to end: a real engine runs real processes with the provenance attestor (development key in
 * the data dir); then the CLI lists, exports and verifies receipts, and packs and verifies a
 * disclosure archive, all in-process against the same SQLite store.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { createEngine, openStore, asyncSqliteStore } from '../engine/index.ts';
import { createAttestor, DEV_KEY_WARNING, loadOrCreateDevKey } from '../provenance/index.ts';
import { planOf, processRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const cli = (args: string[], cwd: string) => runCaptured(args, cwd);

let dataDir: string;
let failedRun: string;
let cancelledRun: string;

beforeAll(async () => {
  dataDir = tempDir('maestro-prov-e2e-');
  const store = openStore({ dataDir });
  const attestor = createAttestor({ signer: await loadOrCreateDevKey(dataDir) });
  const engine = createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(processRunner()),
    attestor,
    concurrency: 2,
    leaseMs: 60_000,
  });
  failedRun = await engine.submit(
    planOf([
      shellTask('produce', 'mkdir -p out && printf "rows=42\\n" > out/report.txt', { artifacts: ['out'] }),
      shellTask('broken', 'echo nope >&2; exit 3'),
    ]),
  );
  await engine.execute(failedRun);
  cancelledRun = await engine.submit(planOf([shellTask('long', 'sleep 30')]));
  const done = engine.execute(cancelledRun);
  await new Promise<void>((resolve) => {
    const off = engine.subscribe((e) => {
      if (e.type === 'task' && e.to === 'running') {
        off();
        resolve();
      }
    });
  });
  await engine.cancel(cancelledRun, { by: 'user:alice' });
  await done;
  store.close();
}, 60_000);

describe('maestro receipts', () => {
  it('lists succeeded, failed and run receipts, verified, with the dev-key warning', async () => {
    const { code, stdout } = await cli(
      ['receipts', failedRun, '--data-dir', dataDir, '--format', 'json'],
      dataDir,
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    const rows = out.receipts.map(
      (r: { kind: string; taskId: string; status: string; verification: string }) => [
        r.kind,
        r.taskId,
        r.status,
        r.verification,
      ],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        ['attempt', 'produce', 'succeeded', 'ok'],
        ['attempt', 'broken', 'failed', 'ok'],
        ['run', '', 'failed', 'ok'],
      ]),
    );
    expect(out.warning).toBe(DEV_KEY_WARNING);
    const text = await cli(['receipts', failedRun, '--data-dir', dataDir], dataDir);
    expect(text.stdout).toContain('signed with a development key');
  });

  it('has a receipt for a cancelled attempt', async () => {
    const { stdout } = await cli(
      ['receipts', cancelledRun, '--data-dir', dataDir, '--format', 'json'],
      dataDir,
    );
    const statuses = JSON.parse(stdout).receipts.map(
      (r: { taskId: string; status: string }) => `${r.taskId}:${r.status}`,
    );
    expect(statuses).toEqual(expect.arrayContaining(['long:cancelled', ':cancelled']));
  });
});

describe('maestro verify', () => {
  it('verifies an exported receipt with its artifact, and rejects a different file with exit 1', async () => {
    const outDir = join(dataDir, 'exported');
    expect((await cli(['receipts', failedRun, '--data-dir', dataDir, '-o', outDir], dataDir)).code).toBe(0);
    expect(readdirSync(outDir).sort()).toEqual([
      'broken-1.sigstore.json',
      'produce-1.sigstore.json',
      'run-0.sigstore.json',
    ]);
    const artifact = join(dataDir, 'report-copy.txt');
    writeFileSync(artifact, 'rows=42\n');
    const key = join(dataDir, 'keys', 'dev-signing-key.pub.pem');
    const ok = await cli(
      ['verify', join(outDir, 'produce-1.sigstore.json'), '--artifact', artifact, '--key', key],
      dataDir,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('matches artifacts/out/report.txt');
    expect(ok.stdout).toContain('warning: signed with a development key');
    writeFileSync(artifact, 'rows=41\n');
    const bad = await cli(
      ['verify', join(outDir, 'produce-1.sigstore.json'), '--artifact', artifact, '--key', key],
      dataDir,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('artifact_mismatch');
  });
});

describe('maestro disclose', () => {
  it('packs a run and verifies the archive offline; a flipped byte is rejected by name', async () => {
    const archive = join(dataDir, 'run.tgz');
    const packed = await cli(['disclose', failedRun, '-o', archive, '--data-dir', dataDir], dataDir);
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.stdout).toContain('development key');
    const key = join(dataDir, 'keys', 'dev-signing-key.pub.pem');
    const verified = await cli(['disclose', 'verify', archive, '--key', key, '--format', 'json'], dataDir);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      runId: failedRun,
      receipts: 3,
      artifacts: 1,
      trust: 'pinned',
    });
    const bytes = readFileSync(archive);
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(bytes);
    const at = tar.indexOf('rows=42');
    tar[at] = tar[at]! ^ 1;
    writeFileSync(archive, gzipSync(tar));
    const rejected = await cli(['disclose', 'verify', archive, '--key', key], dataDir);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('digest_mismatch');
  });
});
