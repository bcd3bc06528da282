/**
 * An approval task (`uses: tasks/approval@1`) in a pull request's run, approved by a pull-request
 * review through the App: the real app over HTTP, real `@octokit/webhooks-examples` payloads
 * signed as GitHub signs them, the GitHub stand-in (OpenAPI-checked) serving the reviews, the
 * permissions and the repository. The run parks on the task; only an approving review that the
 * gate's rules let count, on exactly the run's commit, in that pull request, releases it, and the
 * run then continues in the App (its source fetched with the installation token) to the end.
 * Each attack below approved the task against a naive version that believed the event or matched
 * by commit alone (see the report).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeChecked,
  grantPermissions,
  OWNER,
  REPO,
  startHarness,
  type Harness,
} from './github-standin/app-harness.ts';
import type { StandInReview } from './github-standin/index.ts';

const REPO_KEY = `${OWNER}/${REPO}`;
const MANIFEST = '.maestro/workflows/release.yaml';
const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: release
  namespace: demo
spec:
  triggers:
    pull_request: {}
  defaults:
    runner: local
  tasks:
    - id: build
      run: cat README.md
    - id: gate
      uses: tasks/approval@1
      needs: [build]
      with:
        approvals: 1
        reviewers: [alice, bob, dave, mallory]
    - id: ship
      run: echo shipped
      needs: [gate]
`;

let h: Harness;
let head: string;
let base: string;
beforeEach(async () => {
  h = await startHarness({ runUpdateIntervalMs: 50 });
  grantPermissions(h.standin, {
    alice: 'write',
    bob: 'write',
    dave: 'write',
    mallory: 'read',
    carol: 'admin',
  });
  base = h.repo.commit({
    branch: 'main',
    login: 'carol',
    files: { [MANIFEST]: WORKFLOW, 'README.md': 'base' },
  });
  head = h.repo.commit({ branch: 'feature', from: base, login: 'alice', files: { 'README.md': 'head' } });
  h.repo.publishPullHead(7, head);
  h.standin.pulls.set(`${REPO_KEY}#7`, {
    number: 7,
    author: 'alice',
    headSha: head,
    headRef: 'feature',
    baseRef: 'main',
    headRepo: REPO_KEY,
  });
  // Who pushed the head comes from the push's sender (a review by a pusher never counts).
  await h.deliver(
    'push',
    h.pushPayload({ ref: 'refs/heads/feature', before: base, after: head, pusher: 'alice' }),
  );
  await h.deliver(
    'pull_request',
    h.pullRequestPayload('opened', { number: 7, headSha: head, author: 'alice' }),
  );
  await h.idle();
});
afterEach(() => closeChecked(h));

async function theRun() {
  const [run, ...others] = await h.runtime.engineStore.listRuns();
  expect(others).toEqual([]);
  return run!;
}

const review = (login: string, state: StandInReview['state'], commitId: string, id = 1): StandInReview => ({
  id,
  login,
  state,
  commitId,
  submittedAt: new Date(Date.now() - 60_000).toISOString(),
});

/** Lists `reviews` on pull request `number` and delivers a `pull_request_review.<action>` for `reviewer`. */
async function reviewed(number: number, reviews: StandInReview[], reviewer: string, action = 'submitted') {
  h.standin.reviews.set(`${REPO_KEY}#${number}`, reviews);
  const author = h.standin.pulls.get(`${REPO_KEY}#${number}`)!.author;
  const sha = h.standin.pulls.get(`${REPO_KEY}#${number}`)!.headSha;
  expect(
    await h.deliver(
      'pull_request_review',
      h.reviewPayload(action, { number, headSha: sha, author }, reviewer),
    ),
  ).toBe(202);
  await h.idle();
}

async function expectStillWaiting() {
  const run = await theRun();
  expect(run.status).toBe('waiting_for_approval');
  expect((await h.runtime.engineStore.getTask(run.id, 'gate')).state).toBe('waiting_for_approval');
  expect((await h.runtime.engineStore.getTask(run.id, 'ship')).state).toBe('queued');
  expect(await h.runtime.engineStore.listTaskApprovals(run.id)).toEqual([]);
  const [check] = h.standin.checkRunsNamed('maestro / run demo/release', head);
  expect(check!.status).toBe('in_progress');
}

describe('an approval task approved by a pull-request review', () => {
  it('parks, then an allowed writer’s approving review of the run’s commit releases it and the run finishes', async () => {
    await expectStillWaiting();
    const [parked] = h.standin.checkRunsNamed('maestro / run demo/release', head);
    expect(parked!.output?.summary).toContain('waiting for approval: `gate`');

    await reviewed(7, [review('bob', 'APPROVED', head, 31)], 'bob');
    const run = await theRun();
    expect(run.status).toBe('succeeded');
    expect((await h.runtime.engineStore.getTask(run.id, 'ship')).state).toBe('succeeded');
    const count = await h.runtime.engines.trusted.countTaskApprovals(run.id, 'gate');
    expect(count.satisfied).toBe(true);
    expect(count.approvers.map((a) => [a.approver, a.via])).toEqual([['bob', 'github']]);
    // The signed predicate names the review it came from.
    const [row] = await h.runtime.engineStore.listTaskApprovals(run.id, 'gate');
    const statement = JSON.parse(
      Buffer.from(
        (row!.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload,
        'base64',
      ).toString(),
    ) as { predicateType: string; predicate: Record<string, unknown> };
    expect(statement.predicateType).toBe('https://summit-maestro.dev/attestations/task-approval/v1');
    expect(statement.predicate).toMatchObject({
      runId: run.id,
      planDigest: run.planDigest,
      sourceSha: head,
      taskId: 'gate',
      approver: 'bob',
      via: 'github',
      review: { id: 31, pullRequest: 7, commit: head },
    });
    const [check, ...more] = h.standin.checkRunsNamed('maestro / run demo/release', head);
    expect(more).toEqual([]);
    expect(check!.conclusion).toBe('success');
    // The resumed run fetched its source again with the installation token (the stand-in
    // answers an anonymous fetch with 401).
    expect(h.standin.gitRequests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('a review of another commit does not approve it', async () => {
    await reviewed(7, [review('bob', 'APPROVED', base)], 'bob');
    await expectStillWaiting();
  });

  it('a late `submitted` delivery of a review GitHub now lists as dismissed does not approve it', async () => {
    await reviewed(7, [review('bob', 'DISMISSED', head)], 'bob', 'submitted');
    await expectStillWaiting();
    await reviewed(7, [review('bob', 'DISMISSED', head)], 'bob', 'dismissed');
    await expectStillWaiting();
  });

  it('a review of another pull request at the same commit does not approve it', async () => {
    h.standin.pulls.set(`${REPO_KEY}#8`, {
      number: 8,
      author: 'carol',
      headSha: head,
      headRef: 'feature',
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    await reviewed(8, [review('bob', 'APPROVED', head)], 'bob');
    await expectStillWaiting();
  });

  it('the author, a pusher of the head, a reader (a fork’s own identity) and a bot do not approve it', async () => {
    await reviewed(7, [review('alice', 'APPROVED', head)], 'alice');
    await expectStillWaiting();
    // dave pushed this head too (a force-push of the same commit): his approval is a pusher's.
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: base, after: head, pusher: 'dave' }),
    );
    await reviewed(7, [review('dave', 'APPROVED', head)], 'dave');
    await expectStillWaiting();
    await reviewed(7, [review('mallory', 'APPROVED', head)], 'mallory');
    await expectStillWaiting();
    await reviewed(7, [{ ...review('bob', 'APPROVED', head), userType: 'Bot' }], 'bob');
    await expectStillWaiting();
  });
});
