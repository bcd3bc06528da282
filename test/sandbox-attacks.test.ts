/**
 * The local runner's sandbox, attacked end to end through `maestro run` (issue 10, "Sandbox the
 * local runner"): a task that declares no secret tries to read the secrets file, the development
 * signing key and another attempt's directory, and to write the engine's database. Every attempt
 * reports what it got to a witness server on 127.0.0.1 (never a host file), and the sandbox is on
 * as it is for users. Against the code before the sandbox each of these attacks succeeded.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../cli/index.ts';
import { compileManifest } from '../compiler/index.ts';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import { createEngine, openStore, asyncSqliteStore } from '../engine/index.ts';
import { createLocalRunner } from '../runners/index.ts';
import { loadBuiltinCatalog } from '../tasks/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { shellIo, writeWorkflow } from './cli-helpers.ts';

const root = join(import.meta.dirname, '..');
const SECRET = 'tok-sandbox-0123456789abcdef';
/** What a task would do to forge state: write the engine's database with Node's own SQLite. */
const SQL_WRITE =
  'const db = new (require("node:sqlite").DatabaseSync)(process.argv[1], { timeout: 5000 }); db.exec("CREATE TABLE pwned (x)")';

const io = (env: Record<string, string> = {}) => shellIo(root, env);

const manifest = (dir: string, tasks: string) => writeWorkflow(dir, 'sandbox', tasks);

let witness: Witness;
beforeAll(async () => (witness = await startWitness()));
afterAll(() => witness.close());

describe('a task in the local runner cannot reach what it must not', () => {
  it('cannot read the secrets file, the signing key or another attempt, nor write the database', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    writeFileSync(join(dataDir, 'secrets.env'), `API_TOKEN=${SECRET}\n`);
    const key = join(dataDir, 'keys', 'dev-signing-key.pem');
    const db = join(dataDir, 'maestro.db');
    const file = manifest(
      dataDir,
      `    - id: first
      run: echo attempt-private-data > secret.txt && echo done | ${witness.report('first')}
    - id: attacker
      needs: [first]
      run: |
        { cat ../../../secrets.env 2>&1 || true; } | ${witness.report('secrets')}
        { cat ${key} 2>&1 || true; } | ${witness.report('key')}
        { cat ../first.1/secret.txt 2>&1 || true; } | ${witness.report('other-attempt')}
        { ls -a ../../.. 2>&1 || true; } | ${witness.report('data-dir')}
        { head -c 15 ${db} 2>&1 || true; } | ${witness.report('db-read')}
        { ${process.execPath} -e '${SQL_WRITE}' ${db} 2>&1 || true; } | ${witness.report('db-write')}
`,
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], run), run.out() + run.err()).toBe(0);
    // The key exists on the host and the task was next to it: the attack was real.
    expect(readFileSync(key, 'utf8')).toContain('PRIVATE KEY');
    expect((await witness.waitFor('first')).body.trim()).toBe('done');
    expect((await witness.waitFor('secrets')).body).not.toContain(SECRET);
    expect((await witness.waitFor('secrets')).body).toMatch(/No such file/);
    expect((await witness.waitFor('key')).body).not.toContain('PRIVATE KEY');
    expect((await witness.waitFor('other-attempt')).body).not.toContain('attempt-private-data');
    expect((await witness.waitFor('data-dir')).body).not.toMatch(/secrets\.env|maestro\.db|keys/);
    expect((await witness.waitFor('db-read')).body).not.toContain('SQLite format 3');
    // Whatever the write did, it did not reach the engine's database (the path, if the task can
    // name it at all, is in the sandbox's own empty /tmp).
    await witness.waitFor('db-write');
    const engineDb = new DatabaseSync(db, { readOnly: true });
    try {
      expect(engineDb.prepare("SELECT name FROM sqlite_master WHERE name = 'pwned'").all()).toEqual([]);
    } finally {
      engineDb.close();
    }
  });

  it("cannot read another process's environment through /proc (the engine's, a worker's)", async () => {
    // A process of the same user holding a secret in its environment, as the engine does.
    const canary = `canary-${process.pid}-${Date.now()}`;
    const holder = spawn('sleep', ['60'], { env: { PATH: '/usr/bin:/bin', HOLDER_TOKEN: canary } });
    onTestFinished(() => void holder.kill('SIGKILL'));
    const dataDir = tempDir('maestro-sandbox-');
    const file = manifest(
      dataDir,
      `    - id: snoop
      run: |
        { tr '\\0' ' ' < /proc/${holder.pid}/environ 2>&1 || true; } | ${witness.report('environ')}
        { ls /proc | grep -c '^[0-9]' || true; } | ${witness.report('pids')}
`,
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], run), run.out() + run.err()).toBe(0);
    expect((await witness.waitFor('environ')).body).not.toContain(canary);
    // Its own pid namespace: only the sandbox's few processes exist in its /proc.
    expect(Number((await witness.waitFor('pids')).body.trim())).toBeLessThan(10);
  });

  it('records the sandbox in the receipt of every attempt', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    const file = manifest(dataDir, `    - id: one\n      run: echo hi\n`);
    expect(await runCli(['run', file], io({ MAESTRO_DATA_DIR: dataDir }))).toBe(0);
    const store = openStore({ dataDir });
    try {
      const [run] = store.listRuns();
      const receipt = store.listReceipts(run!.id).find((r) => r.taskId === 'one')!;
      const bundle = receipt.bundle as { dsseEnvelope: { payload: string } };
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      expect(statement.predicate.buildDefinition.internalParameters.maestro.isolation).toEqual({
        sandbox: 'bwrap',
        network: 'on',
      });
    } finally {
      store.close();
    }
  });
});

describe('an operator who says `sandbox: none`', () => {
  it('runs trusted work unsandboxed, and the run log and the receipt say so', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    const config = join(dataDir, 'runners.yaml');
    writeFileSync(config, 'local:\n  sandbox: none\n');
    const file = manifest(dataDir, `    - id: one\n      run: echo hi\n`);
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file, '--runners', config], run), run.out() + run.err()).toBe(0);
    const store = openStore({ dataDir });
    try {
      const [record] = store.listRuns();
      const logs = store.listLogs(record!.id, 'one').map((l) => l.text);
      expect(logs).toContain('sandbox: none (the runners config says `sandbox: none`)');
      const receipt = store.listReceipts(record!.id).find((r) => r.taskId === 'one')!;
      const bundle = receipt.bundle as { dsseEnvelope: { payload: string } };
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
      expect(statement.predicate.buildDefinition.internalParameters.maestro.isolation).toEqual({
        sandbox: 'none',
        network: 'on',
        reason: 'the runners config says `sandbox: none`',
      });
    } finally {
      store.close();
    }
  });

  it('is refused a value it cannot mean, naming the file and the key', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    const config = join(dataDir, 'runners.yaml');
    writeFileSync(config, 'local:\n  sandbox: off\n');
    const file = manifest(dataDir, `    - id: one\n      run: echo hi\n`);
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file, '--runners', config], run)).toBe(1);
    expect(run.err()).toContain(`${config}: \`local.sandbox\` must be \`bwrap\` or \`none\``);
  });
});

describe('network: the same rule on every runner', () => {
  it('a trusted run reaches 127.0.0.1; a task that says network: none does not', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    const file = manifest(
      dataDir,
      `    - id: online
      run: echo reached | ${witness.report('trusted-net')}
    - id: offline
      network: none
      run: echo reached | ${witness.report('narrowed-net')} || echo "no network, as asked"
`,
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], run), run.out() + run.err()).toBe(0);
    expect((await witness.waitFor('trusted-net')).body.trim()).toBe('reached');
    expect(run.out()).toContain('no network, as asked');
    expect(witness.reports('narrowed-net')).toEqual([]);
  });

  it('an untrusted run (a fork pull request) cannot reach the witness; the same plan trusted can', async () => {
    const dataDir = tempDir('maestro-sandbox-');
    const source = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: net, namespace: sandbox }
spec:
  tasks:
    - id: call
      run: echo "$WHO" | ${witness.report('untrusted-net')} || { echo "offline"; exit 3; }
      env: { WHO: reached }
`;
    const { plan } = compileManifest(source, { file: 'net.yaml', catalog: await loadBuiltinCatalog() });
    const runner = createLocalRunner({ baseEnv: { PATH: '/usr/bin:/bin' } });
    const store = openStore({ dataDir });
    const engine = createEngine({
      policy: policyOff('sandbox test: network isolation, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(runner),
    });
    try {
      const untrusted = await engine.execute(await engine.submit(plan!, { trust: 'untrusted' }));
      expect(untrusted.status).toBe('failed');
      expect(witness.reports('untrusted-net')).toEqual([]);
      const logs = store.listLogs(untrusted.id).map((l) => l.text);
      expect(logs).toContain('offline');
      const trusted = await engine.execute(await engine.submit(plan!, { trust: 'trusted' }));
      expect(trusted.status).toBe('succeeded');
      expect((await witness.waitFor('untrusted-net')).body.trim()).toBe('reached');
    } finally {
      await runner.close();
      store.close();
    }
  });
});
