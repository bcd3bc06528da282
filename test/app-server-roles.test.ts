/**
 * The App in deployments whose roles run in separate `maestro server` processes (real processes,
 * the GitHub stand-in checking every call against GitHub's OpenAPI description, signed
 * deliveries). (1) A replica with only `--role app`, no worker anywhere: a run parked on an
 * approval task whose timeout passes is rejected and its check run completes; before, only
 * replicas with the worker role swept approval timeouts, so the run stayed parked and its check
 * run in progress for ever. Two such replicas on one PostgreSQL reject it once (one log line,
 * one check run, no failed sweep). (2) An App run finished by a `--role worker` replica (its App replica
 * killed mid-run): the worker fetches the source with the installation's token and completes the
 * check run; before, a worker-only replica had neither the token (its fetch was refused) nor the
 * App's poster (the check run stayed in progress).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, stopStandIn, type StandInSetup } from './github-standin/app-harness.ts';
import { postSignedPush } from './github-standin/app-process-client.ts';
import { startAppServer, type AppServer } from './github-standin/app-server-process.ts';
import { waitFor } from './helpers/wait-for.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

const portOf = (server: AppServer) => Number(new URL(server.url).port);

/** A push-triggered workflow parked on an approval task whose timeout rejects after 2 s. */
const RELEASE = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: release, namespace: demo }
spec:
  triggers:
    push: { branches: [main] }
  defaults:
    runner: local
  tasks:
    - id: build
      run: cat README.md
    - id: gate
      uses: tasks/approval@1
      needs: [build]
      with: { reviewers: [alice], timeout: 2s }
    - id: ship
      run: echo shipped
      needs: [gate]
`;
const rejectionLines = (servers: AppServer[]) =>
  servers.flatMap((s) => s.output().split('\n')).filter((l) => l.includes('timed out: rejected'));

let witness: Witness;
beforeAll(async () => {
  witness = await startWitness();
});
afterAll(async () => {
  await witness?.close();
});

async function finish(setup: StandInSetup, servers: AppServer[]) {
  for (const s of servers) {
    await s.stop();
    rmSync(s.dataDir, { recursive: true, force: true });
  }
  await stopStandIn(setup);
  expect(setup.standin.violations).toEqual([]);
}

const completed = (setup: StandInSetup, name: string, sha: string, servers: AppServer[]) =>
  waitFor(
    `the check run ${name} to complete`,
    () => {
      const [check] = setup.standin.checkRunsNamed(name, sha);
      return check?.status === 'completed' ? check : undefined;
    },
    {
      timeoutMs: 90_000,
      explain: () =>
        `${JSON.stringify(setup.standin.checkRunsNamed(name, sha))}\n${servers.map((s) => s.output()).join('\n')}`,
    },
  );

describe('the App with its roles in separate replicas', () => {
  it('a `--role app` replica alone times out a run parked on an approval task, and completes its check run', async () => {
    const setup = await startStandIn();
    const app = await startAppServer(setup, 'app');
    try {
      const sha = setup.repo.commit({
        branch: 'main',
        login: 'carol',
        files: {
          '.maestro/workflows/release.yaml': RELEASE,
          'README.md': 'code',
        },
      });
      expect(await postSignedPush(portOf(app), setup, sha)).toBe(202);
      const check = await completed(setup, 'maestro / run demo/release', sha, [app]);
      expect(check.conclusion).toBe('failure');
      expect(setup.standin.checkRunsNamed('maestro / run demo/release', sha)).toHaveLength(1);
      expect(check.output?.summary ?? '').toMatch(/gate/);
      // Rejected once, by this replica's sweep.
      const swept = app
        .output()
        .split('\n')
        .filter((l) => l.includes('timed out: rejected'));
      expect(swept).toHaveLength(1);
    } finally {
      await finish(setup, [app]);
    }
  }, 120_000);

  describe('on PostgreSQL', () => {
    let pg: PostgresServer;
    beforeAll(async () => {
      pg = await startPostgres();
    });
    afterAll(() => pg?.stop());

    it('two `--role app` replicas sweeping the same database reject a timed-out run once, and one of them completes its check run', async () => {
      const setup = await startStandIn();
      const env = { MAESTRO_DATABASE_URL: pg.createDatabase('app_server_sweeps') };
      const a = await startAppServer(setup, 'app', env);
      const b = await startAppServer(setup, 'app', env);
      try {
        const sha = setup.repo.commit({
          branch: 'main',
          login: 'carol',
          files: { '.maestro/workflows/release.yaml': RELEASE, 'README.md': 'code' },
        });
        expect(await postSignedPush(portOf(a), setup, sha)).toBe(202);
        const check = await completed(setup, 'maestro / run demo/release', sha, [a, b]);
        expect(check.conclusion).toBe('failure');
        // Both keep sweeping each second; a few more turns change nothing.
        await new Promise((r) => setTimeout(r, 3000));
        expect(rejectionLines([a, b])).toHaveLength(1);
        expect(setup.standin.checkRunsNamed('maestro / run demo/release', sha)).toHaveLength(1);
        const failed = [a, b]
          .flatMap((s) => s.output().split('\n'))
          .filter((l) => /sweep failed|maestro app error/.test(l));
        expect(failed).toEqual([]);
      } finally {
        await finish(setup, [a, b]);
      }
    }, 180_000);

    it('a `--role worker` replica that finishes an App run (its App replica killed) completes the check run', async () => {
      const setup = await startStandIn();
      const env = { MAESTRO_DATABASE_URL: pg.createDatabase('app_server_roles'), MAESTRO_LEASE_TTL: '2s' };
      const app = await startAppServer(setup, 'app', env);
      const worker = await startAppServer(setup, 'worker', { ...env, MAESTRO_WORKER_POLL_MS: '100' });
      try {
        const sha = setup.repo.commit({
          branch: 'main',
          login: 'carol',
          files: {
            '.maestro/workflows/deploy.yaml': `apiVersion: maestro/v1
kind: Workflow
metadata: { name: deploy, namespace: demo }
spec:
  triggers:
    push: { branches: [main] }
  defaults:
    runner: local
  tasks:
    - id: slow
      run: test "$(curl -s -X POST --data x ${witness.url}/slow)" -gt 1 || sleep 600
    - id: read
      run: cat README.md
      needs: [slow]
`,
            'README.md': 'private code',
          },
        });
        expect(await postSignedPush(portOf(app), setup, sha)).toBe(202);
        await witness.waitFor('slow', 60_000);
        const fetchesByApp = setup.standin.gitRequests.length;
        app.child.kill('SIGKILL');
        const check = await completed(setup, 'maestro / run demo/deploy', sha, [app, worker]);
        expect(check.conclusion).toBe('success');
        expect(setup.standin.checkRunsNamed('maestro / run demo/deploy', sha)).toHaveLength(1);
        expect(worker.output()).toMatch(/"msg":"run claimed"/);
        expect(worker.output()).toContain('its runs claimed here report their check runs');
        // The worker fetched the commit itself, with the installation's token, never refused.
        const byWorker = setup.standin.gitRequests.slice(fetchesByApp);
        expect(byWorker.length).toBeGreaterThan(0);
        expect(byWorker.filter((r) => r.status === 401)).toEqual([]);
      } finally {
        await finish(setup, [app, worker]);
      }
    }, 180_000);
  });
});
