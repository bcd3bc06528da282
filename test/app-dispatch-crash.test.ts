/**
 * Dispatch is idempotent across a crash: the app process is killed (SIGKILL) after it dispatched
 * a run but before the delivery was marked done; the next app on the same data dir processes the
 * stored delivery again and must not start a second run.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, startStandIn, stopStandIn, type Harness } from './github-standin/app-harness.ts';
import { postSignedPush, spawnAppProcess } from './github-standin/app-process-client.ts';

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
    const { child: first, port } = await spawnAppProcess(standIn, dataDir, {
      app: { runUpdateIntervalMs: 100 },
    });
    let h: Harness | undefined;
    try {
      expect(port, 'the first app process started').toBeDefined();
      expect(await postSignedPush(port!, standIn, sha)).toBe(202);
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
      const runs = (await h.runtime.engineStore.listRuns()).filter((r) => r.workflow === 'first');
      expect(runs).toHaveLength(1);
      expect(runs[0]!.status).toBe('succeeded');
      expect(firstCheck()).toHaveLength(1);
      expect(firstCheck()[0]!.conclusion).toBe('success');
      expect((await h.runtime.engineStore.listRuns()).filter((r) => r.workflow === 'second')).toEqual([]);
      expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
      expect(standIn.standin.violations).toEqual([]);
    } finally {
      release();
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
      if (h) await h.close();
      else await stopStandIn(standIn);
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
      const { child: first, port } = await spawnAppProcess(standIn, dataDir, {
        app: { runUpdateIntervalMs: 100 },
        env: { MAESTRO_TEST_CRASH_AT: step },
      });
      const exited = new Promise((resolve) => {
        if (first.signalCode !== null) resolve(first.signalCode);
        else first.once('exit', (_code, signal) => resolve(signal));
      });
      let h: Harness | undefined;
      try {
        expect(port, 'the first app process started').toBeDefined();
        expect(await postSignedPush(port!, standIn, sha)).toBe(202);
        expect(await exited).toBe('SIGKILL');

        h = await startHarness({ dataDir, standIn, runUpdateIntervalMs: 100 });
        await h.idle();
        const runs = (await h.runtime.engineStore.listRuns()).filter((r) => r.workflow === 'first');
        expect(runs).toHaveLength(1);
        expect(runs[0]!.status).toBe('succeeded');
        const checks = standIn.standin.checkRunsNamed('maestro / run demo/first', sha);
        expect(checks).toHaveLength(1);
        expect(checks[0]!.conclusion).toBe('success');
        expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
        expect(standIn.standin.violations).toEqual([]);
      } finally {
        if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
        if (h) await h.close();
        else await stopStandIn(standIn);
      }
    },
    90_000,
  );
});
