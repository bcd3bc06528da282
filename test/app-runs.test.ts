import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkRunPayload,
  closeChecked,
  commentPayload,
  grantPermissions,
  OWNER,
  REPO,
  startHarness,
  startStandIn,
  stopStandIn,
  type Harness,
} from './github-standin/app-harness.ts';
import { TestRepository, type Payload } from './github-standin/index.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { postSignedPush, spawnAppProcess } from './github-standin/app-process-client.ts';

// Tasks report to a witness on 127.0.0.1, never to a host file (the sandbox shows them none);
// pushes to the repository are trusted runs, so they have the network.
let witness: Witness;
beforeAll(async () => (witness = await startWitness()));
afterAll(() => witness.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const REPO_KEY = `${OWNER}/${REPO}`;

function workflow(name: string, tasks: string, triggers = 'push:\n      branches: [main]'): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: demo
spec:
  triggers:
    ${triggers}
  defaults:
    runner: local
    retry:
      limit: 0
  tasks:
${tasks}`;
}

/** A button event on a check run, sent by carol (a writer in these tests). */
function checkRunEvent(action: string, externalId: string, headSha: string, identifier?: string): Payload {
  return checkRunPayload(action, { externalId, headSha }, 'carol', identifier);
}

describe('run check runs: dispatch, retry, cancel, re-run, forks', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
    // The buttons act only for senders with write access (checkRunEvent's sender is carol).
    grantPermissions(h.standin, { carol: 'write' });
  });
  afterEach(() => closeChecked(h));

  it('"Retry failed" re-runs the failed task and the check run completes green; rerequested starts a new run', async () => {
    // `check` fails the first time and succeeds the second, by the witness's count of its reports.
    const check = `flaky-${randomUUID()}`;
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/flaky.yaml': workflow(
          'flaky',
          `    - id: prepare\n      run: echo ready\n    - id: check\n      needs: [prepare]\n      run: test "$(echo x | ${witness.report(check)})" -ge 2\n`,
        ),
      },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await h.idle();
    const [run] = h.standin.checkRunsNamed('maestro / run demo/flaky', sha);
    expect(run!.conclusion).toBe('failure');
    expect(run!.output.summary).toMatch(/\| `check` \| failed \| 1 \|/);
    expect(run!.actions.map((a) => a.identifier)).toEqual(['retry_failed']);

    await h.deliver('check_run', checkRunEvent('requested_action', run!.external_id, sha, 'retry_failed'));
    await h.idle();
    expect(run!.conclusion).toBe('success');
    expect(run!.output.summary).toMatch(/\| `check` \| succeeded \| 2 \|/);
    expect(run!.output.summary).toMatch(/\| `prepare` \| succeeded \| 1 \|/);
    expect(run!.actions).toEqual([]);

    await h.deliver('check_run', checkRunEvent('rerequested', run!.external_id, sha));
    await h.idle();
    const runs = h.standin.checkRunsNamed('maestro / run demo/flaky', sha);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.conclusion).toBe('success');
    expect(await h.runtime.engineStore.listRuns()).toHaveLength(2);
  });

  it('"Cancel" stops a live run and the check run ends cancelled', async () => {
    const started = `slow-${randomUUID()}`;
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/slow.yaml': workflow(
          'slow',
          `    - id: wait\n      run: echo started | ${witness.report(started)}; sleep 60\n`,
        ),
      },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await witness.waitFor(started, 10_000);
    const [run] = h.standin.checkRunsNamed('maestro / run demo/slow', sha);
    expect(run!.status).not.toBe('completed');
    expect(run!.actions.map((a) => a.identifier)).toEqual(['cancel']);
    await h.deliver('check_run', checkRunEvent('requested_action', run!.external_id, sha, 'cancel'));
    await h.idle();
    expect(run!.conclusion).toBe('cancelled');
    expect(run!.writes).toBeLessThanOrEqual(5);
  });

  it("a private fork's pull request runs on its head, fetched from the base repository", async () => {
    // The fork is private and outside the installation: its own clone URL answers the base
    // installation's token with 404, as GitHub does. Before, the App fetched from there and the
    // run failed (source_fetch_failed); GitHub serves the head as refs/pull/<n>/head of the base.
    const tasks = `    - id: read\n      run: echo "content=$(cat f.txt)" >> "$MAESTRO_OUTPUT"\n      outputs: [content]\n`;
    const files = { '.maestro/workflows/pr.yaml': workflow('pr-read', tasks, 'pull_request: {}') };
    const base = h.repo.commit({ branch: 'main', login: 'carol', files });
    const forkHead = h.repo.commit({
      branch: 'fork-only',
      from: base,
      login: 'mallory',
      files: { 'f.txt': 'fork' },
    });
    const fork = new TestRepository();
    fork.receive(h.repo.bareDir, 'refs/heads/fork-only', 'refs/heads/feature');
    h.standin.addRepo({
      owner: 'mallory',
      name: 'secret-fork',
      id: 9003,
      bareDir: fork.bareDir,
      defaultBranch: 'main',
      private: true,
    });
    h.repo.deleteBranch('fork-only');
    h.repo.publishPullHead(11, forkHead);
    h.standin.pulls.set(`${REPO_KEY}#11`, {
      number: 11,
      author: 'mallory',
      headSha: forkHead,
      headRef: 'feature',
      baseRef: 'main',
      headRepo: 'mallory/secret-fork',
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', {
        number: 11,
        headSha: forkHead,
        author: 'mallory',
        headRepo: 'mallory/secret-fork',
      }),
    );
    await h.idle();
    const [check] = h.standin.checkRunsNamed('maestro / run demo/pr-read', forkHead);
    expect(check!.conclusion).toBe('success');
    const run = (await h.runtime.engineStore.listRuns()).find((r) => r.workflow === 'pr-read')!;
    expect(await h.runtime.engineStore.taskOutputs(run.id, 'read')).toEqual({ content: 'fork' });
    expect(run.trust).toBe('untrusted');
    // The fork's own URL was never used; the stand-in would have refused it.
    expect(h.standin.gitRequests.filter((r) => r.repo === 'mallory/secret-fork')).toEqual([]);
  });

  it('a fork pull request runs without secrets; the same workflow from the repository gets them', async () => {
    const tasks = `    - id: use-secret\n      run: test -n "$TOKEN" && echo "length=\${#TOKEN}" >> "$MAESTRO_OUTPUT"\n      env:\n        TOKEN: \${secrets.DEPLOY_TOKEN}\n      outputs: [length]\n`;
    // The workflow is on the base branch, ungated (one only the head had would wait for the
    // default approval, since it uses a secret: see app-gate-attacks.test.ts).
    const files = { '.maestro/workflows/pr.yaml': workflow('pr-check', tasks, 'pull_request: {}') };
    const base = h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'base', ...files } });
    const forkHead = h.repo.commit({
      branch: 'fork-branch',
      from: base,
      login: 'mallory',
      files: { 'f.txt': 'fork' },
    });
    // The fork is its own repository on GitHub (here sharing the base's objects, as a fork does).
    h.standin.addRepo({
      owner: 'mallory',
      name: 'pipelines',
      id: 9002,
      bareDir: h.repo.bareDir,
      defaultBranch: 'main',
    });
    h.repo.publishPullHead(9, forkHead);
    h.standin.pulls.set(`${REPO_KEY}#9`, {
      number: 9,
      author: 'mallory',
      headSha: forkHead,
      headRef: 'fork-branch',
      baseRef: 'main',
      headRepo: 'mallory/pipelines',
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', {
        number: 9,
        headSha: forkHead,
        author: 'mallory',
        headRepo: 'mallory/pipelines',
      }),
    );
    await h.idle();
    const [forkRun] = h.standin.checkRunsNamed('maestro / run demo/pr-check', forkHead);
    expect(forkRun!.conclusion).toBe('failure');

    const ownHead = h.repo.commit({
      branch: 'own-branch',
      from: base,
      login: 'carol',
      files: { 'x.txt': 'own' },
    });
    h.standin.pulls.set(`${REPO_KEY}#10`, {
      number: 10,
      author: 'carol',
      headSha: ownHead,
      headRef: 'own-branch',
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', { number: 10, headSha: ownHead, author: 'carol' }),
    );
    await h.idle();
    const [ownRun] = h.standin.checkRunsNamed('maestro / run demo/pr-check', ownHead);
    expect(ownRun!.conclusion).toBe('success');
    const runs = await h.runtime.engineStore.listRuns();
    const own = runs.find((r) => r.status === 'succeeded')!;
    expect(await h.runtime.engineStore.taskOutputs(own.id, 'use-secret')).toEqual({
      length: String('trusted-secret-value'.length),
    });
    const fork = runs.find((r) => r.status === 'failed')!;
    expect(await h.runtime.engineStore.taskOutputs(fork.id, 'use-secret')).toEqual({});
    const why = (await h.runtime.engineStore.listTransitions(fork.id, 'use-secret'))
      .map((t) => t.detail ?? '')
      .join(' ');
    expect(why).toContain('DEPLOY_TOKEN');
    // Fork code is submitted as untrusted, so its cache entries never serve the repository's runs.
    expect((await h.runtime.engineStore.getRun(fork.id)).trust).toBe('untrusted');
    expect((await h.runtime.engineStore.getRun(own.id)).trust).toBe('trusted');
    // Each runs on its own code: the fork's at the pull request's head, which GitHub keeps in the
    // base repository as refs/pull/<n>/head (so a private fork needs no access of its own).
    expect((await h.runtime.engineStore.getRun(fork.id)).source).toMatchObject({
      kind: 'git',
      repo: h.standin.cloneUrl(REPO_KEY),
      commit: forkHead,
      ref: 'refs/pull/9/head',
    });
    expect((await h.runtime.engineStore.getRun(own.id)).source).toMatchObject({
      repo: h.standin.cloneUrl(REPO_KEY),
      commit: ownHead,
    });
  });

  it('/maestro run <workflow> by a writer runs it at the default branch head; by a reader it does nothing', async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/manual.yaml': workflow(
          'manual',
          '    - id: hello\n      run: echo hi\n',
          'manual: true',
        ),
      },
    });
    grantPermissions(h.standin, { carol: 'write', reader: 'read' });
    const comment = (login: string) =>
      commentPayload(login, 'Please\n/maestro run manual', { number: 1, pull: false });
    await h.deliver('issue_comment', comment('reader'));
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / run demo/manual', sha)).toEqual([]);
    await h.deliver('issue_comment', comment('carol'));
    await h.idle();
    const [run] = h.standin.checkRunsNamed('maestro / run demo/manual', sha);
    expect(run!.conclusion).toBe('success');
    expect(run!.output.summary).toContain('(comment by @carol)');
  });

  it('a workflow the policy configuration marks sensitive (namespace legal) is not run without an approval', async () => {
    const sensitive = workflow('export', '    - id: hello\n      run: echo hi\n').replace(
      'namespace: demo',
      'namespace: legal',
    );
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { '.maestro/workflows/export.yaml': sensitive },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await h.idle();
    const [refused] = h.standin.checkRunsNamed('maestro / run legal/export', sha);
    expect(refused!.conclusion).toBe('action_required');
    expect(refused!.output.summary).toContain('no approval attestation exists');
    expect(await h.runtime.engineStore.listRuns()).toEqual([]);
  });
});

describe('an app restart resumes the runs it dispatched', () => {
  it('a run live when the app was killed completes under the next app, and its check run is completed', async () => {
    const standIn = await startStandIn();
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-app-restart-'));
    const started = `long-${randomUUID()}`;
    // First attempt: reports itself started and sleeps (the app is killed meanwhile); the retry
    // after the restart is the second report and finishes at once.
    const sha = standIn.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/long.yaml': workflow(
          'long',
          `    - id: prepare\n      run: echo ready\n    - id: work\n      needs: [prepare]\n      retry: { limit: 1, backoff: { initial: 10ms, factor: 2, max: 100ms } }\n      run: if [ "$(echo x | ${witness.report(started)})" -ge 2 ]; then echo "resumed=yes" >> "$MAESTRO_OUTPUT"; else sleep 60; fi\n      outputs: [resumed]\n`,
        ),
      },
    });
    const { child: first, port } = await spawnAppProcess(standIn, dataDir, {
      app: { runUpdateIntervalMs: 100 },
    });
    let h: Harness | undefined;
    try {
      expect(port, 'the first app process started').toBeDefined();
      expect(await postSignedPush(port!, standIn, sha)).toBe(202);
      await witness.waitFor(started, 30_000); // the first attempt started
      const checks = () => standIn.standin.checkRunsNamed('maestro / run demo/long', sha);
      for (let i = 0; i < 100 && checks()[0]?.status !== 'in_progress'; i += 1) await sleep(50);
      const [check] = checks();
      expect(check!.status).toBe('in_progress');

      first.kill('SIGKILL');
      await new Promise((resolve) => (first.exitCode !== null ? resolve(null) : first.once('exit', resolve)));

      h = await startHarness({ dataDir, standIn, runUpdateIntervalMs: 100 });
      await h.idle();
      const runs = await h.runtime.engineStore.listRuns();
      expect(runs).toHaveLength(1);
      const runId = runs[0]!.id;
      expect((await h.runtime.engineStore.getRun(runId)).status).toBe('succeeded');
      const attempts = await h.runtime.engineStore.listAttempts(runId, 'work');
      expect(attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
      expect(attempts[1]!.outputs).toEqual({ resumed: 'yes' });
      // The same check run (one per run, by external_id) got the final update.
      expect(checks()).toHaveLength(1);
      expect(checks()[0]!.external_id).toBe(`run:${runId}`);
      expect(checks()[0]!.status).toBe('completed');
      expect(checks()[0]!.conclusion).toBe('success');
      expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
      expect(standIn.standin.violations).toEqual([]);
    } finally {
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
      if (h) await h.close();
      else await stopStandIn(standIn);
    }
  }, 90_000);
});
