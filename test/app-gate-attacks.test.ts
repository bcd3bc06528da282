/**
 * The approval gate tried as an attacker with write access would try it, end to end: the real app
 * over HTTP, signed deliveries, the GitHub stand-in (every REST call checked against GitHub's
 * OpenAPI description), real git repositories and the real engine. Each test is the attack; it
 * asserts that the attack fails. Runs are witnessed in the engine's store (a run there was
 * dispatched with the trusted engine's secrets).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../core/index.ts';
import {
  checkRunPayload,
  closeChecked,
  commentPayload,
  grantPermissions,
  OWNER,
  REPO,
  startHarness,
  type Harness,
} from './github-standin/app-harness.ts';
import { waitFor } from './helpers/wait-for.ts';

const REPO_KEY = `${OWNER}/${REPO}`;
const MANIFEST = '.maestro/workflows/deploy.yaml';
const DAY = 24 * 60 * 60 * 1000;

/** A workflow that uses the trusted secret, triggered by pull requests, pushes to main and by hand. */
function deploy(version: string, approvals?: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: deploy
  namespace: demo
spec:
${approvals ? `  approvals:\n${approvals}\n` : ''}  triggers:
    pull_request: {}
    push:
      branches: [main]
    manual: true
  defaults:
    runner: local
  tasks:
    - id: ship
      run: test -n "$TOKEN" && echo "shipping ${version}"
      env:
        TOKEN: \${secrets.DEPLOY_TOKEN}
`;
}
const FROM_BOB = '    required: 1\n    from: [bob]';
const FROM_CODEOWNERS = '    required: 1\n    from: [codeowners]';
const ANY_WRITER = '    required: 1\n    from: []';

let reviewId = 100;
let minute = 0;

/** A test clock the tests can move forward (the engine and the app share it). */
function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      }),
    advance: (ms) => (offset += ms),
  };
}

describe('the approval gate under attack', () => {
  let h: Harness;
  let clock: ReturnType<typeof movableClock>;
  let base: string;

  const runsOf = async () => (await h.runtime.engineStore.listRuns()).filter((r) => r.workflow === 'deploy');

  /** Pushes `files` to `branch` as `pusher` (commits authored as `authorLogin`) and opens PR `number`. */
  async function openPull(options: {
    number: number;
    branch: string;
    author: string;
    pusher: string;
    files: Record<string, string | null>;
    authorLogin?: string;
  }): Promise<string> {
    const head = h.repo.commit({
      branch: options.branch,
      from: base,
      login: options.authorLogin ?? options.pusher,
      files: options.files,
    });
    h.standin.pulls.set(`${REPO_KEY}#${options.number}`, {
      number: options.number,
      author: options.author,
      headSha: head,
      headRef: options.branch,
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    await h.deliver(
      'push',
      h.pushPayload({
        ref: `refs/heads/${options.branch}`,
        before: base,
        after: head,
        pusher: options.pusher,
      }),
    );
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', { number: options.number, headSha: head, author: options.author }),
    );
    await h.idle();
    return head;
  }

  async function approve(number: number, reviewer: string, headSha: string, author: string): Promise<void> {
    const reviews = h.standin.reviews.get(`${REPO_KEY}#${number}`) ?? [];
    reviews.push({
      id: (reviewId += 1),
      login: reviewer,
      state: 'APPROVED',
      commitId: headSha,
      submittedAt: new Date(clock.now() - 3_600_000 + (minute += 1) * 1000).toISOString(),
    });
    h.standin.reviews.set(`${REPO_KEY}#${number}`, reviews);
    await h.deliver(
      'pull_request_review',
      h.reviewPayload('submitted', { number, headSha, author }, reviewer),
    );
    await h.idle();
  }

  /** A synchronize redelivered for the same head by its pusher (what re-dispatches a PR's workflows). */
  async function synchronize(number: number, headSha: string, author: string, pusher: string) {
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('synchronize', { number, headSha, author, sender: pusher }),
    );
    await h.idle();
  }

  const approvalCheck = (headSha: string) => h.standin.checkRunsNamed('maestro / approval', headSha)[0];

  beforeEach(async () => {
    clock = movableClock();
    h = await startHarness({ clock });
    grantPermissions(h.standin, {
      alice: 'write',
      bob: 'write',
      carol: 'admin',
      mallory: 'write',
      erin: 'read',
    });
  });
  afterEach(() => closeChecked(h));

  it('(a) a pull request that deletes its own approvals block runs nothing without the base approval', async () => {
    base = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { [MANIFEST]: deploy('1', FROM_BOB), '.github/CODEOWNERS': '.maestro/ @bob\n' },
    });
    const head = await openPull({
      number: 21,
      branch: 'strip-gate',
      author: 'mallory',
      pusher: 'mallory',
      files: { [MANIFEST]: deploy('evil') },
    });
    expect(await runsOf()).toEqual([]);
    const check = approvalCheck(head)!;
    expect(check.conclusion).not.toBe('success');
    expect(check.output.summary).toContain('demo/deploy');
    // The base's reviewer approves: now it runs, with an attestation.
    await approve(21, 'bob', head, 'mallory');
    expect(approvalCheck(head)!.conclusion).toBe('success');
    const runs = await runsOf();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.approvalDigest).toMatch(/^sha256:/);
  });

  it('(b) a pull request that rewrites CODEOWNERS to name an accomplice: the accomplice does not count', async () => {
    base = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { [MANIFEST]: deploy('1', FROM_CODEOWNERS), '.github/CODEOWNERS': '.maestro/ @bob\n' },
    });
    const head = await openPull({
      number: 22,
      branch: 'owners',
      author: 'alice',
      pusher: 'alice',
      files: { '.github/CODEOWNERS': '.maestro/ @mallory\n.github/ @mallory\n' },
    });
    await approve(22, 'mallory', head, 'alice');
    await synchronize(22, head, 'alice', 'alice');
    expect(await runsOf()).toEqual([]);
    const check = approvalCheck(head)!;
    expect(check.conclusion).not.toBe('success');
    expect(check.output.summary).toContain('@mallory: not an allowed reviewer');
    // The base's code owner approves: the workflow's gate and the CODEOWNERS change are both met.
    await approve(22, 'bob', head, 'alice');
    expect(approvalCheck(head)!.conclusion).toBe('success');
    expect(await runsOf()).toHaveLength(1);
  });

  it("(c) one pull request's approval does not un-gate the same plan in another pull request, a push or a comment", async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    const approved = await openPull({
      number: 31,
      branch: 'v2',
      author: 'alice',
      pusher: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    await approve(31, 'bob', approved, 'alice');
    await synchronize(31, approved, 'alice', 'alice');
    expect(await runsOf()).toHaveLength(1);

    // Another pull request with byte-for-byte the same plan, no reviews.
    const other = await openPull({
      number: 32,
      branch: 'v2-again',
      author: 'mallory',
      pusher: 'mallory',
      files: { [MANIFEST]: deploy('2', ANY_WRITER), 'x.txt': 'other' },
    });
    await h.deliver(
      'issue_comment',
      commentPayload('mallory', '/maestro run deploy', { number: 32, pull: true }),
    );
    await h.idle();
    // A push of the same plan straight to main (not the merge of #31).
    const pushed = h.repo.commit({
      branch: 'main',
      login: 'mallory',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: base, after: pushed, pusher: 'mallory' }),
    );
    await h.idle();
    await h.deliver(
      'issue_comment',
      commentPayload('mallory', '/maestro run deploy', { number: 5, pull: false }),
    );
    await h.idle();
    expect(await runsOf()).toHaveLength(1);
    const refused = h.standin
      .checkRunsNamed('maestro / run demo/deploy')
      .filter((c) => c.head_sha === other || c.head_sha === pushed);
    expect(refused.length).toBeGreaterThan(0);
    for (const c of refused) expect(c.conclusion).toBe('action_required');
  });

  it('(d) an attestation past its expiry is refused', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    const head = await openPull({
      number: 41,
      branch: 'later',
      author: 'alice',
      pusher: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    await approve(41, 'bob', head, 'alice');
    await synchronize(41, head, 'alice', 'alice');
    expect(await runsOf()).toHaveLength(1);
    clock.advance(8 * DAY);
    await h.deliver(
      'issue_comment',
      commentPayload('bob', '/maestro run deploy', { number: 41, pull: true }),
    );
    await h.idle();
    expect(await runsOf()).toHaveLength(1);
    const checks = h.standin.checkRunsNamed('maestro / run demo/deploy', head);
    expect(checks.some((c) => /expired/.test(c.output.summary ?? ''))).toBe(true);
  });

  it('(d) a merged approval carried to the merge commit is refused once past its expiry', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    const head = await openPull({
      number: 42,
      branch: 'merge-later',
      author: 'alice',
      pusher: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    await approve(42, 'bob', head, 'alice');
    const merge = h.repo.commit({
      branch: 'main',
      from: head,
      login: 'carol',
      files: { 'CHANGELOG.md': '2' },
    });
    Object.assign(h.standin.pulls.get(`${REPO_KEY}#42`)!, {
      state: 'closed',
      merged: true,
      mergeCommitSha: merge,
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('closed', {
        number: 42,
        headSha: head,
        author: 'alice',
        merged: true,
        mergeCommitSha: merge,
      }),
    );
    await h.idle();
    const runs = (await runsOf()).length;
    clock.advance(8 * DAY);
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: base, after: merge, pusher: 'carol' }),
    );
    await h.idle();
    expect(await runsOf()).toHaveLength(runs);
    const [refused] = h.standin.checkRunsNamed('maestro / run demo/deploy', merge);
    expect(refused!.conclusion).toBe('action_required');
    expect(refused!.output.summary).toMatch(/the approval expired at/);
  });

  it('(h) a workflow only the head has that uses a secret waits for the default approval', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'no workflows yet' } });
    const head = await openPull({
      number: 61,
      branch: 'new-workflow',
      author: 'mallory',
      pusher: 'mallory',
      files: { [MANIFEST]: deploy('new') },
    });
    expect(await runsOf()).toEqual([]);
    expect(approvalCheck(head)!.output.summary).toContain('| demo/deploy | default |');
    // The author approving her own workflow does not count; another writer does.
    await approve(61, 'mallory', head, 'mallory');
    expect(await runsOf()).toEqual([]);
    await approve(61, 'bob', head, 'mallory');
    expect(await runsOf()).toHaveLength(1);
  });

  it('(i) a rebase that keeps the plan carries the approval to the new head, citing it; closing revokes it; Retry re-checks', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    const head = await openPull({
      number: 71,
      branch: 'rebase-me',
      author: 'alice',
      pusher: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    await approve(71, 'bob', head, 'alice');
    const query = { repo: REPO_KEY, workflow: 'demo/deploy', pullRequest: 71 };
    const first = (await h.runtime.appStore.findAttestation({ ...query, headSha: head }))!;
    expect(first.revokedAt).toBeUndefined();
    const moved = h.repo.commit({
      branch: 'main',
      from: base,
      login: 'carol',
      files: { 'README.md': 'moved' },
    });
    const rebased = h.repo.commit({
      branch: 'rebase-me',
      from: moved,
      login: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    h.standin.pulls.get(`${REPO_KEY}#71`)!.headSha = rebased;
    await synchronize(71, rebased, 'alice', 'alice');
    const second = (await h.runtime.appStore.findAttestation({ ...query, headSha: rebased }))!;
    expect(second.supersedes).toBe(first.digest);
    expect(second.baseSha).toBe(moved);
    expect((await h.runtime.appStore.getAttestation(first.digest))!.revokedAt).toBeDefined();
    expect(await runsOf()).toHaveLength(2);
    // Closed without merging: revoked, and a writer's Retry of the run refuses to run anything.
    Object.assign(h.standin.pulls.get(`${REPO_KEY}#71`)!, { state: 'closed' });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('closed', { number: 71, headSha: rebased, author: 'alice', merged: false }),
    );
    await h.idle();
    expect((await h.runtime.appStore.getAttestation(second.digest))!.revokedReason).toBe(
      'the pull request was closed',
    );
    const run = (await runsOf()).find((r) => r.status === 'failed' || r.status === 'succeeded')!;
    const record = (await h.runtime.appStore.getRun(run.id))!;
    const attempts = (await h.runtime.engineStore.listAttempts(run.id)).length;
    await h.deliver(
      'check_run',
      checkRunPayload(
        'requested_action',
        { externalId: record.checkRunExternalId, headSha: record.headSha },
        'carol',
        'retry_failed',
      ),
    );
    await h.deliver(
      'check_run',
      checkRunPayload(
        'rerequested',
        { externalId: record.checkRunExternalId, headSha: record.headSha },
        'carol',
      ),
    );
    await h.idle();
    expect(await h.runtime.engineStore.listAttempts(run.id)).toHaveLength(attempts);
    expect(await runsOf()).toHaveLength(2);
    const refusals = h.standin.checkRunsNamed('maestro / run demo/deploy', rebased);
    expect(refusals.filter((c) => c.conclusion === 'action_required').length).toBeGreaterThanOrEqual(2);
  });

  it('(j) with no push event for the head its pusher is unknown: nothing counts until a push (fail closed)', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    const head = h.repo.commit({
      branch: 'unseen',
      from: base,
      login: 'alice',
      files: { [MANIFEST]: deploy('2', ANY_WRITER) },
    });
    h.standin.pulls.set(`${REPO_KEY}#81`, {
      number: 81,
      author: 'alice',
      headSha: head,
      headRef: 'unseen',
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', { number: 81, headSha: head, author: 'alice' }),
    );
    await h.idle();
    await approve(81, 'bob', head, 'alice');
    expect(await runsOf()).toEqual([]);
    expect(approvalCheck(head)!.output.summary).toContain('Waiting for a push event');
    await synchronize(81, head, 'alice', 'alice');
    expect(approvalCheck(head)!.conclusion).toBe('success');
    expect(await runsOf()).toHaveLength(1);
  });

  it('(e) a forged commit author does not make the real pusher eligible to approve', async () => {
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1', ANY_WRITER) } });
    // mallory pushes a commit whose author and committer claim to be zed, then approves it.
    const head = await openPull({
      number: 51,
      branch: 'forged',
      author: 'alice',
      pusher: 'mallory',
      authorLogin: 'zed',
      files: { [MANIFEST]: deploy('evil', ANY_WRITER) },
    });
    await approve(51, 'mallory', head, 'alice');
    await synchronize(51, head, 'alice', 'mallory');
    expect(await runsOf()).toEqual([]);
    expect(approvalCheck(head)!.output.summary).toContain('@mallory: author of the latest push');
  });
});

describe('buttons and comments check the sender', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ runUpdateIntervalMs: 100 });
    grantPermissions(h.standin, { carol: 'write', erin: 'read' });
  });
  afterEach(() => closeChecked(h));

  const workflow = (name: string, run: string) => `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: ${name}
  namespace: demo
spec:
  triggers:
    push:
      branches: [main]
    manual: true
  defaults:
    runner: local
    retry:
      limit: 0
  tasks:
    - id: only
      run: ${run}
`;

  /** Delivers and waits for the delivery itself (not for live runs to end). */
  async function deliverAndSettle(event: string, payload: unknown): Promise<void> {
    const id = crypto.randomUUID();
    expect(await h.deliver(event, payload, id)).toBe(202);
    for (let i = 0; i < 400 && (await h.runtime.deliveryStore.deliveryState(id)) === 'pending'; i += 1)
      await new Promise((r) => setTimeout(r, 25));
    expect(await h.runtime.deliveryStore.deliveryState(id)).toBe('done');
  }

  it("(f) a read-only user's Retry, Cancel, Re-run and /maestro run do nothing", async () => {
    const sha = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/fails.yaml': workflow('fails', 'exit 1'),
        '.maestro/workflows/slow.yaml': workflow('slow', 'sleep 60'),
      },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    const [failedCheck] = await waitFor('the failed check run', () => {
      const c = h.standin.checkRunsNamed('maestro / run demo/fails', sha);
      return c[0]?.conclusion === 'failure' ? c : undefined;
    });
    const [slowCheck] = await waitFor('the slow check run', () => {
      const c = h.standin.checkRunsNamed('maestro / run demo/slow', sha);
      return c[0]?.status === 'in_progress' ? c : undefined;
    });
    const store = h.runtime.engineStore;
    const runCount = async () => (await store.listRuns()).length;
    const before = await runCount();
    const failedRun = failedCheck!.external_id.slice(4);
    const slowRun = slowCheck!.external_id.slice(4);

    const check = (c: typeof failedCheck) => ({ externalId: c!.external_id, headSha: sha });
    await deliverAndSettle(
      'check_run',
      checkRunPayload('requested_action', check(failedCheck), 'erin', 'retry_failed'),
    );
    await deliverAndSettle(
      'check_run',
      checkRunPayload('requested_action', check(slowCheck), 'erin', 'cancel'),
    );
    await deliverAndSettle('check_run', checkRunPayload('rerequested', check(failedCheck), 'erin'));
    await deliverAndSettle(
      'issue_comment',
      commentPayload('erin', '/maestro run fails', { number: 3, pull: false }),
    );
    expect(await store.listAttempts(failedRun)).toHaveLength(1);
    expect((await store.getRun(failedRun)).status).toBe('failed');
    expect((await store.getRun(slowRun)).status).toBe('running');
    expect(await runCount()).toBe(before);

    // The same buttons from a writer act.
    await deliverAndSettle(
      'check_run',
      checkRunPayload('requested_action', check(slowCheck), 'carol', 'cancel'),
    );
    await h.idle();
    expect((await store.getRun(slowRun)).status).toBe('cancelled');
  });
});
