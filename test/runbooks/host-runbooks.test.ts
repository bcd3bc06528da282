/**
 * The runbooks with host steps, end to end through `maestro run` on the real local runner:
 * `dev-bootstrap` sets up a developer's data dir, signing key, token, SIG reference server and
 * first run, every step on the host because the runners config grants host access; without the
 * grant (the attack: a runbook step asking for the host on a runner nobody granted it) every step
 * is refused before it starts and nothing is made. `chaos-drill` runs the control-plane drill
 * against real `maestro server` replicas on a real PostgreSQL (test/helpers/replica-cluster.ts):
 * through the API it starts runs, on the host it SIGKILLs a running task's process and one worker
 * replica, and through the API it verifies that every run still succeeded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/replica-cluster.ts';
import { startPostgres } from '../setup/postgres-server.ts';
import { openStore } from '../../engine/index.ts';
import { runCaptured } from '../cli-helpers.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { freePort } from '../helpers/free-port.ts';

const root = join(import.meta.dirname, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');
const cli = `${node} ${join(root, 'bin', 'maestro.ts')}`;
const started: number[] = [];
afterAll(() => {
  for (const pid of started)
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
});

/** The outer run, each step's attempts, the `maestro` part of each step's receipt, and the run's logs. */
function recordOf(dataDir: string, ids: string[]) {
  const store = openStore({ dataDir });
  try {
    const [run] = store.listRuns();
    const receipts = store.listReceipts(run!.id);
    const steps = new Map(
      ids.map((id) => {
        const r = receipts.find((x) => x.taskId === id)!;
        const payload = (r.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
        const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
        return [
          id,
          {
            attempts: store.listAttempts(run!.id, id),
            maestro: statement.predicate.buildDefinition.internalParameters.maestro,
          },
        ];
      }),
    );
    return {
      run: run!,
      steps,
      logs: store
        .listLogs(run!.id)
        .map((l) => l.text)
        .join('\n'),
    };
  } finally {
    store.close();
  }
}

async function bootstrap(grant: boolean) {
  const outer = tempDir('maestro-bootstrap-');
  const dev = join(outer, 'dev-data');
  const port = await freePort();
  const args = ['run', join(root, 'blueprints', 'runbooks', 'dev-bootstrap.yaml')];
  args.push('--param', `dataDir=${dev}`, '--param', `cli=${cli}`, '--param', `sigPort=${port}`);
  if (grant) {
    writeFileSync(join(outer, 'runners.yaml'), 'local:\n  hostAccess: granted\n');
    args.push('--runners', join(outer, 'runners.yaml'));
  }
  const ran = await runCaptured(args, root, { MAESTRO_DATA_DIR: outer, HOME: outer, PATH: process.env.PATH });
  return { ...ran, outer, dev, port };
}

describe('dev-bootstrap', () => {
  it('without the host-access grant, refuses every step and makes nothing', async () => {
    const { code, outer, dev } = await bootstrap(false);
    expect(code).toBe(1);
    expect(existsSync(dev)).toBe(false);
    const store = openStore({ dataDir: outer });
    try {
      const [run] = store.listRuns();
      const first = store.listAttempts(run!.id, 'data-dir');
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ outcome: 'runner_error', reason: 'host_access_not_granted' });
      for (const id of ['signing-key', 'token', 'sig-server', 'first-run'])
        expect(store.listAttempts(run!.id, id), id).toEqual([]);
    } finally {
      store.close();
    }
  }, 120_000);

  it('with the grant, sets up the data dir, key, token, SIG server and a first run; receipts say host', async () => {
    const { code, stdout, stderr, outer, dev, port } = await bootstrap(true);
    const pidFile = join(dev, 'sig-dev-server.pid');
    if (existsSync(pidFile)) started.push(Number(readFileSync(pidFile, 'utf8')));
    expect(code, stdout + stderr).toBe(0);
    expect(statSync(dev).mode & 0o777).toBe(0o700);
    expect(statSync(join(dev, 'keys', 'dev-signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dev, 'dev-token')).mode & 0o777).toBe(0o600);
    const token = readFileSync(join(dev, 'dev-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThan(20);
    // The SIG reference server outlived its step.
    const versions = await fetch(`http://127.0.0.1:${port}/versions`);
    expect(await versions.json()).toMatchObject({ contracts: { ingest: [1, 2, 3] } });
    // The first run is in the new data dir, and its receipts verify with the key the runbook made.
    const listed = spawnSync(
      node,
      [join(root, 'bin', 'maestro.ts'), 'runs', 'list', '--format', 'json', '--data-dir', dev],
      {
        encoding: 'utf8',
      },
    );
    const runs = JSON.parse(listed.stdout) as { id: string; status: string; workflow: string }[];
    expect(runs).toMatchObject([{ status: 'succeeded', workflow: 'hello' }]);
    const verified = spawnSync(
      node,
      [join(root, 'bin', 'maestro.ts'), 'receipts', runs[0]!.id, '--data-dir', dev],
      { encoding: 'utf8' },
    );
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    const steps = ['data-dir', 'signing-key', 'token', 'sig-server', 'first-run'];
    const { run, steps: record, logs } = recordOf(outer, steps);
    expect(run.status).toBe('succeeded');
    expect(record.get('first-run')!.attempts[0]!.outputs).toEqual({ runId: runs[0]!.id });
    for (const id of steps)
      expect(record.get(id)!.maestro.isolation, id).toMatchObject({ sandbox: 'none', hostAccess: true });
    // The token is on disk for the developer, never in the outer run's logs.
    expect(logs).not.toContain(token);
  }, 300_000);
});

const WORKLOAD = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: chaos-workload, namespace: drill }
spec:
  defaults: { runner: local, timeout: 120s, retry: { limit: 2, backoff: { initial: 200ms } } }
  tasks:
    - id: first
      run: sleep 3; echo maestro-chaos-drill first
    - id: second
      needs: [first]
      run: sleep 3; echo maestro-chaos-drill second
`;

describe('chaos-drill', () => {
  it('kills a running task and a server replica through its host steps; every run still succeeds', async () => {
    const pg = await startPostgres();
    const dir = tempDir('maestro-chaos-');
    const cluster = await startCluster({ dir, databaseUrl: pg.url, env: { MAESTRO_LEASE_TTL: '3s' } });
    try {
      await cluster.postWorkflow(WORKLOAD);
      const victim = await cluster.startWorker('a');
      await cluster.startWorker('b');
      const pidFile = join(dir, 'replica-a.pid');
      writeFileSync(pidFile, String(victim.child.pid));
      const token = spawnSync(
        node,
        [
          join(root, 'bin', 'maestro.ts'),
          'tokens',
          'create',
          '--name',
          'chaos',
          '--scope',
          'runs:write,runs:read',
        ],
        {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            MAESTRO_DATABASE_URL: pg.url,
            MAESTRO_DATA_DIR: cluster.apiDir,
          },
        },
      );
      expect(token.status, token.stderr).toBe(0);
      const outer = join(dir, 'operator');
      writeFileSync(join(dir, 'runners.yaml'), 'local:\n  hostAccess: granted\n');
      const args = [
        'run',
        join(root, 'blueprints', 'runbooks', 'chaos-drill.yaml'),
        '--runners',
        join(dir, 'runners.yaml'),
      ];
      args.push(
        '--param',
        `maestroUrl=${cluster.url}`,
        '--param',
        `replicaPidFile=${pidFile}`,
        '--param',
        'runs=3',
      );
      const ran = await runCaptured(args, root, {
        MAESTRO_DATA_DIR: outer,
        HOME: outer,
        PATH: process.env.PATH,
        MAESTRO_SECRET_MAESTRO_TOKEN: token.stdout.trim(),
      });
      expect(ran.code, ran.stdout + ran.stderr + victim.output().slice(-2000)).toBe(0);
      await victim.exited;
      expect(victim.child.signalCode).toBe('SIGKILL');
      const steps = ['start', 'kill-task', 'kill-replica', 'verify'];
      const { run, steps: record } = recordOf(outer, steps);
      expect(run.status).toBe('succeeded');
      const ids = record.get('start')!.attempts[0]!.outputs.runIds!.split(',');
      expect(ids).toHaveLength(3);
      expect((await cluster.statuses(ids)).size).toBe(3);
      expect([...(await cluster.statuses(ids)).values()]).toEqual(['succeeded', 'succeeded', 'succeeded']);
      const verify = record.get('verify')!.attempts[0]!.outputs;
      expect(verify.succeeded).toBe('3');
      // The killed task ran again: at least one task of the drill needed another attempt.
      expect(Number(verify.reattempted)).toBeGreaterThanOrEqual(1);
      expect(record.get('kill-replica')!.attempts[0]!.outputs.pid).toBe(String(victim.child.pid));
      for (const id of ['kill-task', 'kill-replica'])
        expect(record.get(id)!.maestro.isolation, id).toMatchObject({ hostAccess: true });
      for (const id of ['start', 'verify'])
        expect(record.get(id)!.maestro.isolation, id).toEqual({ sandbox: 'bwrap', network: 'on' });
    } finally {
      await cluster.close();
      pg.stop();
    }
  }, 420_000);
});
