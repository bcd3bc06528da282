/**
 * The Action's modes `run` and `verify`, as GitHub's runner runs them: the committed bundle in a
 * spawned `node action/dist/index.js` with INPUT_* variables, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY, on a workspace that is a git checkout (what actions/checkout leaves).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { readTgzStrict } from '../provenance/index.ts';
import { captureIo } from './cli-helpers.ts';
import { runActionStep, type StepResult } from './helpers/action-step.ts';
import { freshKeySignerPem } from './helpers/provenance-keys.ts';

const BUILD = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: build, namespace: action-test }
spec:
  params:
    who: { type: string, default: world }
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: compile
      run: cp greeting.txt built.txt && echo "who=\${params.who}" >> "$MAESTRO_OUTPUT"
      outputs: [who]
      artifacts: [built.txt]
    - id: env-dump
      needs: [compile]
      run: cat "$MAESTRO_ARTIFACTS/compile/built.txt" && env > env.txt
      artifacts: [env.txt]
`;
const BROKEN = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: broken, namespace: action-test }
spec:
  defaults: { runner: local, timeout: 30s }
  tasks:
    - id: first
      run: echo ok
    - id: breaks
      needs: [first]
      run: echo failing >&2; exit 3
`;
const GITHUB_TOKEN = 'ghs_notARealTokenButSecretEnoughForTheTest';

let root: string;
let workspace: string;
let keyDir: string;
let publicKey: string;
let signingEnv: Record<string, string>;
let good: StepResult;

function git(...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: workspace });
}

async function maestro(args: string[]) {
  const io = captureIo(root, { PATH: process.env['PATH'], HOME: root });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'maestro-action-run-'));
  workspace = join(root, 'repo');
  mkdirSync(join(workspace, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(workspace, '.maestro', 'workflows', 'build.yaml'), BUILD);
  writeFileSync(join(workspace, '.maestro', 'workflows', 'broken.yaml'), BROKEN);
  writeFileSync(join(workspace, 'greeting.txt'), 'hello from the repository\n');
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  // The operator's key lives outside the workspace, as a workflow would write it from a secret.
  keyDir = join(root, 'keys');
  mkdirSync(keyDir, { mode: 0o700 });
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(keyDir, 'signing.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(keyDir, 'signing.pub.pem'), publicKey);
  signingEnv = { MAESTRO_SIGNING_KEY: join(keyDir, 'signing.pem'), GITHUB_TOKEN, GITHUB_EVENT_NAME: 'push' };
  good = await runActionStep(
    { mode: 'run', workflow: '.maestro/workflows/build.yaml', params: 'who=octocat' },
    { workspace, env: signingEnv },
  );
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('mode run', () => {
  it('runs the workflow on the checkout and sets run-id, status and receipts-dir', () => {
    expect(good.code, good.stdout).toBe(0);
    expect(good.outputs['run-id']).toMatch(/^r-[0-9a-f-]+$/);
    expect(good.outputs['status']).toBe('succeeded');
    expect(good.outputs['receipts-dir']).toBe(join(good.runnerTemp, 'maestro-receipts'));
    expect(good.stdout).toContain(`run ${good.outputs['run-id']} succeeded`);
  });

  it('writes a job summary with the DAG in mermaid and every task with its state and duration', () => {
    expect(good.summary).toContain('## Maestro: run');
    expect(good.summary).toMatch(
      /```mermaid\nflowchart TD\n {2}t0\["compile"\]\n {2}t1\["env-dump"\]\n {2}t0 --> t1\n```/,
    );
    expect(good.summary).toMatch(/^\| compile \| ✅ succeeded \| 1 \| \d+(\.\d)? m?s \|$/m);
    expect(good.summary).toMatch(/^\| env-dump \| ✅ succeeded \| 1 \| \d+(\.\d)? m?s \|$/m);
    expect(good.summary).toContain(
      `| \`.maestro/workflows/build.yaml\` | action-test/build | \`${good.outputs['run-id']}\` | ✅ succeeded |`,
    );
    expect(good.summary).toContain('Trust: `trusted`');
  });

  it('writes receipts that `maestro verify` accepts with the operator key, and a disclosure bundle', async () => {
    const dir = join(good.outputs['receipts-dir']!, good.outputs['run-id']!);
    const receipts = readdirSync(join(dir, 'receipts')).sort();
    expect(receipts).toEqual(['compile-1.sigstore.json', 'env-dump-1.sigstore.json', 'run-0.sigstore.json']);
    for (const file of receipts) {
      const v = await maestro([
        'verify',
        join(dir, 'receipts', file),
        '--key',
        join(keyDir, 'signing.pub.pem'),
        '--format',
        'json',
      ]);
      expect(v.code, v.out + v.err).toBe(0);
    }
    const compile = await maestro([
      'verify',
      join(dir, 'receipts', 'compile-1.sigstore.json'),
      '--key',
      join(keyDir, 'signing.pub.pem'),
      '--format',
      'json',
    ]);
    const subjects = (JSON.parse(compile.out) as { subjects: { name: string }[] }).subjects.map(
      (s) => s.name,
    );
    expect(subjects.some((n) => n.endsWith('built.txt'))).toBe(true);
    const disclosed = await maestro([
      'disclose',
      'verify',
      join(dir, 'disclosure.tgz'),
      '--key',
      join(keyDir, 'signing.pub.pem'),
    ]);
    expect(disclosed.code, disclosed.err).toBe(0);
    expect(disclosed.out).toContain(`run ${good.outputs['run-id']}`);
    // The task read the repository's own file, and saw none of the step's credentials.
    const files = await readTgzStrict(readFileSync(join(dir, 'disclosure.tgz')));
    expect(files.get('artifacts/compile/1/built.txt')?.toString()).toBe('hello from the repository\n');
    const env = files.get('artifacts/env-dump/1/env.txt')!.toString();
    expect(env).toContain('MAESTRO_OUTPUT=');
    expect(env).not.toContain(GITHUB_TOKEN);
    expect(env).not.toContain('INPUT_');
    expect(env).not.toContain('signing.pem');
  });

  it('a failing workflow: status failed, the step fails, the summary shows the failed task', async () => {
    const step = await runActionStep(
      { mode: 'run', workflow: '.maestro/workflows/broken.yaml' },
      { workspace, env: signingEnv },
    );
    expect(step.code).toBe(1);
    expect(step.outputs['status']).toBe('failed');
    expect(step.stdout).toMatch(
      new RegExp(`^::error::run ${step.outputs['run-id']} \\(action-test/broken\\) failed`, 'm'),
    );
    expect(step.summary).toMatch(/^\| first \| ✅ succeeded \| 1 \|/m);
    expect(step.summary).toMatch(/^\| breaks \| ❌ failed \| \d \|/m);
    // A failed run still leaves its receipts for the workflow to upload.
    expect(readdirSync(join(step.outputs['receipts-dir']!, step.outputs['run-id']!, 'receipts'))).toContain(
      'breaks-1.sigstore.json',
    );
  }, 60_000);

  it('a pull request from a fork runs untrusted (no network for any task)', async () => {
    const event = join(root, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        repository: { full_name: 'o/r' },
        pull_request: { head: { repo: { full_name: 'fork/r' } } },
      }),
    );
    const step = await runActionStep(
      { mode: 'run', workflow: '.maestro/workflows/build.yaml' },
      { workspace, env: { ...signingEnv, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } },
    );
    expect(step.summary).toContain('Trust: `untrusted`');
  }, 60_000);

  it('refuses a runbook or an invalid manifest before running anything', async () => {
    writeFileSync(
      join(root, 'bad.yaml'),
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: x }\nspec: { tasks: [] }\n',
    );
    const step = await runActionStep(
      { mode: 'run', workflow: join(root, 'bad.yaml') },
      { workspace, env: signingEnv },
    );
    expect(step.code).toBe(1);
    expect(step.outputs['status']).toBe('failed');
    expect(step.outputs['run-id']).toBeUndefined();
    expect(step.stdout).toMatch(/^::error::1 manifest\(s\) have errors, nothing was run/m);
  });
});

describe('mode verify', () => {
  it('verifies every receipt and the disclosure bundle with the pinned key (PEM text)', async () => {
    const step = await runActionStep(
      { mode: 'verify', 'receipts-dir': good.outputs['receipts-dir']!, key: publicKey },
      { workspace },
    );
    expect(step.code, step.stdout).toBe(0);
    expect(step.outputs).toMatchObject({ verified: 'true', count: '4' });
    expect(step.summary).toContain('4 of 4 bundle(s) verified against the pinned key');
  });

  it('fails with a key that did not sign them', async () => {
    const step = await runActionStep(
      { mode: 'verify', 'receipts-dir': good.outputs['receipts-dir']!, key: freshKeySignerPem() },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.outputs).toMatchObject({ verified: 'false', count: '0' });
    expect(step.stdout).toMatch(/^::error::4 of 4 bundle\(s\) failed verification/m);
  });

  it('fails on a tampered receipt and a tampered disclosure bundle, and says which', async () => {
    const copy = join(root, 'tampered');
    execFileSync('cp', ['-r', good.outputs['receipts-dir']!, copy]);
    const dir = join(copy, good.outputs['run-id']!);
    const receipt = join(dir, 'receipts', 'compile-1.sigstore.json');
    const bundle = JSON.parse(readFileSync(receipt, 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      subject: { digest: { sha256: string } }[];
    };
    statement.subject[0]!.digest.sha256 = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(receipt, JSON.stringify(bundle));
    const tgz = readFileSync(join(dir, 'disclosure.tgz'));
    const at = tgz.length - 100;
    tgz[at] = tgz[at]! ^ 0xff;
    writeFileSync(join(dir, 'disclosure.tgz'), tgz);
    const step = await runActionStep(
      { mode: 'verify', 'receipts-dir': copy, key: join(keyDir, 'signing.pub.pem') },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.outputs).toMatchObject({ verified: 'false', count: '2' });
    expect(step.stdout).toMatch(/^::error::receipt [^\n]*compile-1\.sigstore\.json REJECTED/m);
    expect(step.stdout).toMatch(/^::error::disclosure [^\n]*disclosure\.tgz REJECTED/m);
  });

  it('fails closed when nothing is pinned, or nothing is found', async () => {
    const unpinned = await runActionStep(
      { mode: 'verify', 'receipts-dir': good.outputs['receipts-dir']! },
      { workspace },
    );
    expect(unpinned.code).toBe(1);
    expect(unpinned.outputs).toMatchObject({ verified: 'false', count: '0' });
    expect(unpinned.stdout).toContain('::error::mode "verify" needs a pinned signer');
    const empty = mkdtempSync(join(root, 'empty-'));
    const none = await runActionStep(
      { mode: 'verify', 'receipts-dir': empty, key: publicKey },
      { workspace },
    );
    expect(none.code).toBe(1);
    expect(none.outputs).toMatchObject({ verified: 'false' });
    expect(none.stdout).toContain('no *.sigstore.json or *.tgz under');
  });
});
