/**
 * Dispatch is idempotent across a crash: the app process is killed (SIGKILL) after it dispatched
 * a run but before the delivery was marked done; the next app on the same data dir processes the
 * stored delivery again and must not start a second run.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  pushPayload,
  SECRET,
  startHarness,
  pointAtStandIn,
  startStandIn,
  type Harness,
} from './github-standin/app-harness.ts';
import { signedDelivery } from './github-standin/index.ts';

const root = join(import.meta.dirname, '..');
const node = join(root, 'node_modules', '.bin', 'node');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function workflow(name: string, extra = ''): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: demo
spec:
${extra}  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: deploy
      run: echo deployed
`;
}

describe('a crash between dispatch and delivery completion', () => {
  it('(g) leads to exactly one run after the restart', async () => {
    const standIn = await startStandIn();
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-app-crash-'));
    const sha = standIn.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/a-first.yaml': workflow('first'),
        // Gated and unapproved: its refusal is a check-run write, which the stand-in holds, so the
        // app is frozen after `first` was dispatched and before the delivery is done.
        '.maestro/workflows/b-second.yaml': workflow('second', '  approvals:\n    required: 1\n'),
      },
    });
    const release = standIn.standin.hold(
      (method, path, body) =>
        method === 'POST' &&
        path.endsWith('/check-runs') &&
        (body as { name?: string } | undefined)?.name === 'maestro / run demo/second',
    );
    const first = spawn(node, [join(root, 'test/github-standin/app-process.ts')], {
      env: {
        ...process.env,
        MAESTRO_TEST_APP: JSON.stringify({
          appId: standIn.appId,
          privateKeyPem: standIn.privateKeyPem,
          baseUrl: standIn.baseUrl,
          dataDir,
          runUpdateIntervalMs: 100,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let h: Harness | undefined;
    try {
      let out = '';
      first.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      for (let i = 0; i < 600 && !/listening \d+/.test(out); i += 1) await sleep(50);
      const port = /listening (\d+)/.exec(out)?.[1];
      expect(port, 'the first app process started').toBeDefined();
      const delivery = signedDelivery(
        SECRET,
        'push',
        pointAtStandIn(
          pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
          standIn.standin,
        ),
        randomUUID(),
      );
      const response = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: 'POST',
        body: delivery.body,
        headers: delivery.headers,
      });
      expect(response.status).toBe(202);
      const held = () =>
        standIn.standin.requests.some(
          (r) => r.method === 'POST' && r.path.endsWith('/check-runs') && r.status === 0,
        );
      const firstCheck = () => standIn.standin.checkRunsNamed('maestro / run demo/first', sha);
      // The run finished; only the delivery is still open (held at the second workflow's refusal).
      for (let i = 0; i < 600 && !(held() && firstCheck()[0]?.conclusion === 'success'); i += 1)
        await sleep(50);
      expect(firstCheck(), 'first was dispatched before the kill').toHaveLength(1);
      expect(firstCheck()[0]!.conclusion).toBe('success');

      first.kill('SIGKILL');
      await new Promise((resolve) => (first.exitCode !== null ? resolve(null) : first.once('exit', resolve)));
      release();

      h = await startHarness({ dataDir, standIn, runUpdateIntervalMs: 100 });
      await h.idle();
      const runs = h.runtime.engineStore.listRuns().filter((r) => r.workflow === 'first');
      expect(runs).toHaveLength(1);
      expect(runs[0]!.status).toBe('succeeded');
      expect(firstCheck()).toHaveLength(1);
      expect(firstCheck()[0]!.conclusion).toBe('success');
      expect(h.runtime.engineStore.listRuns().filter((r) => r.workflow === 'second')).toEqual([]);
      expect(h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
      expect(standIn.standin.violations).toEqual([]);
    } finally {
      release();
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
      if (h) await h.close();
      else {
        await standIn.standin.stop();
        standIn.repo.remove();
      }
    }
  }, 90_000);
});

describe('a crash inside a dispatch', () => {
  it.each(['recorded', 'submitted'])(
    'killed right after the dispatch step "%s", the restarted app runs the workflow exactly once',
    async (step) => {
      const standIn = await startStandIn();
      const dataDir = mkdtempSync(join(tmpdir(), `maestro-app-crash-${step}-`));
      const sha = standIn.repo.commit({
        branch: 'main',
        login: 'carol',
        files: { '.maestro/workflows/a-first.yaml': workflow('first') },
      });
      // The process SIGKILLs itself at that step (app-process.ts): a crash at an exact point.
      const first = spawn(node, [join(root, 'test/github-standin/app-process.ts')], {
        env: {
          ...process.env,
          MAESTRO_TEST_CRASH_AT: step,
          MAESTRO_TEST_APP: JSON.stringify({
            appId: standIn.appId,
            privateKeyPem: standIn.privateKeyPem,
            baseUrl: standIn.baseUrl,
            dataDir,
            runUpdateIntervalMs: 100,
          }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => first.once('exit', (_code, signal) => resolve(signal)));
      let h: Harness | undefined;
      try {
        let out = '';
        first.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        for (let i = 0; i < 600 && !/listening \d+/.test(out); i += 1) await sleep(50);
        const port = /listening (\d+)/.exec(out)?.[1];
        expect(port, 'the first app process started').toBeDefined();
        const delivery = signedDelivery(
          SECRET,
          'push',
          pointAtStandIn(
            pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
            standIn.standin,
          ),
          randomUUID(),
        );
        const response = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
          method: 'POST',
          body: delivery.body,
          headers: delivery.headers,
        });
        expect(response.status).toBe(202);
        expect(await exited).toBe('SIGKILL');

        h = await startHarness({ dataDir, standIn, runUpdateIntervalMs: 100 });
        await h.idle();
        const runs = h.runtime.engineStore.listRuns().filter((r) => r.workflow === 'first');
        expect(runs).toHaveLength(1);
        expect(runs[0]!.status).toBe('succeeded');
        const checks = standIn.standin.checkRunsNamed('maestro / run demo/first', sha);
        expect(checks).toHaveLength(1);
        expect(checks[0]!.conclusion).toBe('success');
        expect(h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
        expect(standIn.standin.violations).toEqual([]);
      } finally {
        if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
        if (h) await h.close();
        else {
          await standIn.standin.stop();
          standIn.repo.remove();
        }
      }
    },
    90_000,
  );
});
