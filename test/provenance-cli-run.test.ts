/**
 * The path a user takes: `maestro run` (the real CLI engine: SQLite store, local runner, OPA
 * policy with its decision log, the attestor with the development key), then `maestro receipts`,
 * `maestro verify`, `maestro disclose` and `maestro disclose verify`, all through runCli.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTgzStrict } from '../provenance/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';

const MANIFEST = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: receipts-demo, namespace: test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: produce
      artifacts: [out]
      run: mkdir -p out && printf 'rows=42\\n' > out/report.txt
    - id: broken
      needs: [produce]
      run: echo failing >&2; exit 3
`;

let dir: string;
let dataDir: string;
let runId: string;

const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  runCaptured(args, dir, { PATH: process.env.PATH, HOME: dir, ...extraEnv });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-prov-cli-'));
  dataDir = join(dir, 'data');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'workflows', 'demo.yaml'), MANIFEST);
  const run = await cli(['run', '.maestro/workflows/demo.yaml', '--data-dir', dataDir]);
  const match = /run (\S+) failed/.exec(run.stdout);
  if (!match) throw new Error(`maestro run did not end failed:\n${run.stdout}\n${run.stderr}`);
  runId = match[1]!;
}, 120_000);

describe('after maestro run', () => {
  it('maestro receipts lists a verified receipt per attempt and for the run, with the dev-key warning', async () => {
    const { code, stdout } = await cli(['receipts', runId, '--data-dir', dataDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^produce#1\s+succeeded\s+sha256:[0-9a-f]{64}\s+ok$/m);
    expect(stdout).toMatch(/^broken#1\s+failed\s+sha256:[0-9a-f]{64}\s+ok$/m);
    expect(stdout).toMatch(/^run\s+failed\s+sha256:[0-9a-f]{64}\s+ok$/m);
    expect(stdout).toContain('warning: receipts signed with a development key');
  });

  it('maestro disclose packs the run with its policy decisions, and disclose verify accepts it', async () => {
    const packed = await cli([
      'disclose',
      runId,
      '-o',
      'run.tgz',
      '--data-dir',
      dataDir,
      '--manifest',
      '.maestro/workflows/demo.yaml',
    ]);
    expect(packed.code, packed.stderr).toBe(0);
    const files = await readTgzStrict(readFileSync(join(dir, 'run.tgz')));
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'artifacts/produce/1/out/report.txt',
        'receipts/produce/1.sigstore.json',
        'receipts/broken/1.sigstore.json',
        'receipts/run.sigstore.json',
        'run/plan.json',
        'run/manifest.yaml',
        'verification/public-key.pem',
      ]),
    );
    const decisions = files.get('policy/decisions.jsonl');
    expect(decisions, 'the default policy logs a decision per task').toBeDefined();
    const lines = decisions!
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(new Set(lines.map((l: { runId: string }) => l.runId))).toEqual(new Set([runId]));
    const key = join(dataDir, 'keys', 'dev-signing-key.pub.pem');
    const verified = await cli(['disclose', 'verify', 'run.tgz', '--key', key]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`run ${runId}`);
    expect(verified.stdout).toContain('development key');
  });
});

describe('with an operator key (MAESTRO_SIGNING_KEY)', () => {
  it('signs with it, without the dev-key warning, and the task sees neither the key nor its path', async () => {
    const { privateKeyPem: pem, publicKeyPem } = freshKeyPairPem();
    const keyDir = join(dir, 'operator');
    mkdirSync(keyDir, { mode: 0o700 });
    const keyPath = join(keyDir, 'signing-key.pem');
    writeFileSync(keyPath, pem, { mode: 0o600 });
    writeFileSync(join(keyDir, 'signing-key.pub.pem'), publicKeyPem);
    writeFileSync(
      join(dir, '.maestro', 'workflows', 'env.yaml'),
      `apiVersion: maestro/v1
kind: Workflow
metadata: { name: env-dump, namespace: test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: dump
      artifacts: [env.txt]
      run: env > env.txt
`,
    );
    const env = { MAESTRO_SIGNING_KEY: keyPath };
    const opData = join(dir, 'op-data');
    const run = await cli(['run', '.maestro/workflows/env.yaml', '--data-dir', opData], env);
    const id = /run (\S+) succeeded/.exec(run.stdout)?.[1];
    expect(id, run.stdout + run.stderr).toBeDefined();
    const listed = await cli(
      [
        'receipts',
        id!,
        '--data-dir',
        opData,
        '--key',
        join(keyDir, 'signing-key.pub.pem'),
        '--format',
        'json',
      ],
      env,
    );
    const out = JSON.parse(listed.stdout);
    expect(out.warning).toBeUndefined();
    expect(
      out.receipts.map((r: { verification: string; development: boolean }) => [
        r.verification,
        r.development,
      ]),
    ).toEqual([
      ['ok', false],
      ['ok', false],
    ]);
    const packed = await cli(['disclose', id!, '-o', 'op.tgz', '--data-dir', opData], env);
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.stdout).not.toContain('development key');
    const dumped = await readTgzStrict(readFileSync(join(dir, 'op.tgz')));
    const taskEnv = dumped.get('artifacts/dump/1/env.txt')!.toString('utf8');
    expect(taskEnv).toContain('MAESTRO_ARTIFACTS=');
    expect(taskEnv).not.toContain('MAESTRO_SIGNING_KEY');
    expect(taskEnv).not.toContain(keyPath);
    expect(taskEnv).not.toContain('PRIVATE KEY');
  });
});
