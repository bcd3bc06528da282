import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkApproval } from '../provenance/index.ts';
import {
  closeChecked,
  grantPermissions,
  OWNER,
  REPO,
  startHarness,
  type Harness,
} from './github-standin/app-harness.ts';
import type { StandInPull, StandInReview } from './github-standin/index.ts';

const REPO_KEY = `${OWNER}/${REPO}`;

function deploy(version: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: deploy
  namespace: demo
spec:
  approvals:
    required: 2
    from: [team:leads]
  triggers:
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: build
      run: echo "built=${version}" >> "$MAESTRO_OUTPUT"
      outputs: [built]
    - id: ship
      needs: [build]
      run: echo shipping \${tasks.build.outputs.built}
`;
}

let reviewId = 1;
function review(
  login: string,
  state: StandInReview['state'],
  commitId: string,
  minute: number,
): StandInReview {
  return {
    id: reviewId++,
    login,
    state,
    commitId,
    // An hour ago plus `minute` minutes: approvals older than the TTL (7 days) no longer count.
    submittedAt: new Date(Date.now() - 3_600_000 + minute * 60_000).toISOString(),
  };
}

describe('approvals as signed gates, then dispatch on merge', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.standin.teams.set(`${OWNER}/leads`, [
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'frank',
      'gina',
      'renovate[bot]',
    ]);
    grantPermissions(h.standin, {
      alice: 'admin',
      bob: 'write',
      carol: 'admin',
      dave: 'write',
      erin: 'read',
      frank: 'write',
      gina: 'maintain',
    });
  });
  afterEach(() => closeChecked(h));

  it('counts only qualifying approvals, keeps them across a digest-preserving rebase, attests, and runs on merge', async () => {
    const base = h.repo.commit({
      branch: 'main',
      login: 'alice',
      files: { '.maestro/workflows/deploy.yaml': deploy('1'), 'README.md': 'v1' },
    });
    const firstTry = h.repo.commit({
      branch: 'feature',
      from: base,
      login: 'alice',
      files: { '.maestro/workflows/deploy.yaml': deploy('2a') },
    });
    const head = h.repo.commit({
      branch: 'feature',
      login: 'alice',
      files: { '.maestro/workflows/deploy.yaml': deploy('2') },
    });
    const pull: StandInPull = {
      number: 7,
      author: 'alice',
      headSha: head,
      headRef: 'feature',
      baseRef: 'main',
      headRepo: REPO_KEY,
    };
    h.standin.pulls.set(`${REPO_KEY}#7`, pull);
    // Who pushed the head is what the push event says (commit metadata can be forged).
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/feature', before: firstTry, after: head, pusher: 'alice' }),
    );
    h.standin.reviews.set(`${REPO_KEY}#7`, [
      review('carol', 'APPROVED', firstTry, 1), // stale: approved a different plan
      review('bob', 'APPROVED', head, 2), // counts
      review('alice', 'APPROVED', head, 3), // the pull request's author
      review('renovate[bot]', 'APPROVED', head, 4), // a bot
      review('erin', 'APPROVED', head, 5), // read access only
      review('dave', 'APPROVED', head, 6),
      review('dave', 'CHANGES_REQUESTED', head, 7), // latest verdict wins
      review('gina', 'DISMISSED', head, 8), // dismissed
    ]);
    expect(
      await h.deliver(
        'pull_request_review',
        h.reviewPayload('submitted', { number: 7, headSha: head, author: 'alice' }, 'gina'),
      ),
    ).toBe(202);
    await h.idle();
    const [waiting] = h.standin.checkRunsNamed('maestro / approval', head);
    // Pending (not completed) while it waits: branch protection requiring it blocks the merge.
    expect(waiting!.status).toBe('in_progress');
    expect(waiting!.conclusion).toBeNull();
    expect(waiting!.output.summary).toContain('| 2 | 1 (@bob) |');
    for (const [login, reason] of [
      ['carol', 'approved a different plan'],
      ['alice', 'pull request author'],
      ['renovate[bot]', 'bot or app'],
      ['erin', 'no write access'],
      ['dave', 'changes requested'],
      ['gina', 'review dismissed'],
    ])
      expect(waiting!.output.summary).toContain(`@${login}: ${reason}`);
    expect(
      await h.runtime.appStore.findAttestation({ repo: REPO_KEY, workflow: 'demo/deploy', headSha: head }),
    ).toBeUndefined();

    // main moves on; frank rebases the branch onto it: a new head SHA, the same plan digest.
    const mainMoved = h.repo.commit({ branch: 'main', login: 'zed', files: { 'README.md': 'v2' } });
    const rebased = h.repo.commit({
      branch: 'feature',
      from: mainMoved,
      login: 'frank',
      files: { '.maestro/workflows/deploy.yaml': deploy('2') },
    });
    pull.headSha = rebased;
    h.standin.reviews.get(`${REPO_KEY}#7`)!.push(review('frank', 'APPROVED', rebased, 10)); // the latest pusher
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('synchronize', { number: 7, headSha: rebased, author: 'alice', sender: 'frank' }),
    );
    await h.idle();
    const [afterRebase] = h.standin.checkRunsNamed('maestro / approval', rebased);
    expect(afterRebase!.output.summary).toContain('| 2 | 1 (@bob) |');
    expect(afterRebase!.output.summary).toContain('@frank: author of the latest push');
    expect(digestIn(afterRebase!.output.summary!)).toBe(digestIn(waiting!.output.summary!));

    // A late, out-of-order delivery still naming the old head changes nothing: the app reads the
    // pull request's current head instead of trusting the payload.
    const approvalRunsBefore = h.standin.checkRuns.length;
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('synchronize', { number: 7, headSha: head, author: 'alice' }),
    );
    await h.idle();
    expect(h.standin.checkRunsNamed('maestro / approval', head)).toHaveLength(1);
    expect(h.standin.checkRuns.length).toBe(approvalRunsBefore);

    h.standin.reviews.get(`${REPO_KEY}#7`)!.push(review('carol', 'APPROVED', rebased, 11));
    await h.deliver(
      'pull_request_review',
      h.reviewPayload('submitted', { number: 7, headSha: rebased, author: 'alice' }, 'carol'),
    );
    await h.idle();
    const [approved] = h.standin.checkRunsNamed('maestro / approval', rebased);
    expect(approved!.conclusion).toBe('success');
    expect(approved!.output.summary).toContain('| 2 | 2 (@bob, @carol) |');
    const digest = digestIn(approved!.output.summary!);
    const query = { repo: REPO_KEY, workflow: 'demo/deploy', headSha: rebased, pullRequest: 7 };
    const first = (await h.runtime.appStore.findAttestation(query))!;
    expect(first.approvers).toEqual(['bob', 'carol']);
    const expected = {
      repository: REPO_KEY,
      workflow: 'demo/deploy',
      planDigest: digest,
      headSha: rebased,
      pullRequest: 7,
      baseSha: mainMoved,
      now: Date.now(),
    };
    const key = h.runtime.approvalSigner.publicKeyPem!;
    expect(checkApproval(first.bundle, key, expected)).toBeUndefined();
    // Signed with the approval key (MAESTRO_APPROVAL_SIGNING_KEY), never the receipt key.
    expect(h.runtime.signer!.publicKeyPem).not.toBe(key);
    expect(checkApproval(first.bundle, h.runtime.signer!.publicKeyPem!, expected)).toBeDefined();
    // Every bound field is checked: another plan, head, pull request or base, or past its expiry.
    expect(checkApproval(first.bundle, key, { ...expected, planDigest: `sha256:${'0'.repeat(64)}` })).toMatch(
      /another plan/,
    );
    expect(checkApproval(first.bundle, key, { ...expected, headSha: head })).toMatch(/commit/);
    expect(checkApproval(first.bundle, key, { ...expected, pullRequest: 8 })).toMatch(/#7, not #8/);
    expect(checkApproval(first.bundle, key, { ...expected, baseSha: base })).toMatch(/base/);
    expect(checkApproval(first.bundle, key, { ...expected, now: Date.now() + 8 * 86_400_000 })).toMatch(
      /expired/,
    );

    // Carol then requests changes: the gate reopens and the attestation is withdrawn.
    h.standin.reviews.get(`${REPO_KEY}#7`)!.push(review('carol', 'CHANGES_REQUESTED', rebased, 12));
    await h.deliver(
      'pull_request_review',
      h.reviewPayload('submitted', { number: 7, headSha: rebased, author: 'alice' }, 'carol'),
    );
    await h.idle();
    expect(approved!.status).toBe('in_progress');
    expect((await h.runtime.appStore.findAttestation(query))!.revokedAt).toBeDefined();
    // ...and approves again: a fresh attestation for the same digest.
    h.standin.reviews.get(`${REPO_KEY}#7`)!.push(review('carol', 'APPROVED', rebased, 13));
    await h.deliver(
      'pull_request_review',
      h.reviewPayload('submitted', { number: 7, headSha: rebased, author: 'alice' }, 'carol'),
    );
    await h.idle();
    expect(approved!.conclusion).toBe('success');
    const attestation = (await h.runtime.appStore.findAttestation(query))!;
    expect(attestation.revokedAt).toBeUndefined();

    // Merge: main gets the approved head; the pull request closes merged, and its attestation
    // carries over to the merge commit, which the push to main then dispatches.
    h.repo.commit({ branch: 'main', from: rebased, login: 'carol', files: {} });
    const merged = h.repo.commit({ branch: 'main', login: 'carol', files: { 'CHANGELOG.md': 'merged' } });
    Object.assign(pull, { state: 'closed', merged: true, mergeCommitSha: merged });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('closed', {
        number: 7,
        headSha: rebased,
        author: 'alice',
        sender: 'carol',
        merged: true,
        mergeCommitSha: merged,
      }),
    );
    await h.idle();
    const carried = (await h.runtime.appStore.findAttestation({
      repo: REPO_KEY,
      workflow: 'demo/deploy',
      headSha: merged,
    }))!;
    expect(carried.supersedes).toBe(attestation.digest);
    expect((await h.runtime.appStore.findAttestation(query))!.revokedReason).toBe(`merged as ${merged}`);
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: mainMoved, after: merged, pusher: 'carol' }),
    );
    await h.idle();
    const [runCheck, ...extra] = h.standin.checkRunsNamed('maestro / run demo/deploy', merged);
    expect(extra).toEqual([]);
    expect(runCheck!.conclusion).toBe('success');
    expect(runCheck!.output.summary).toContain(`approval attestation: \`${carried.digest}\``);
    expect(runCheck!.output.summary).toMatch(/\| `build` \| succeeded \| 1 \|/);
    expect(runCheck!.output.summary).toMatch(/\| `ship` \| succeeded \| 1 \|/);
    expect(
      runCheck!.output.summary!.match(/\| `(build|ship)` \| 1 \| `sha256:[0-9a-f]{64}` \|/g),
    ).toHaveLength(2);
    // Progress writes are throttled to one per interval (200 ms here): creation, the first
    // write, one per interval the run was live, and the final one. Bounded by the run's own
    // duration, not by a fixed count that a loaded machine (a slower run) would exceed.
    const [run] = await h.runtime.engineStore.listRuns();
    const liveMs = (run!.finishedAt ?? 0) - run!.createdAt;
    expect(runCheck!.writes).toBeLessThanOrEqual(3 + Math.ceil(liveMs / 200));

    // A later push that changes the plan without approval is refused, and nothing runs.
    const changed = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { '.maestro/workflows/deploy.yaml': deploy('3') },
    });
    await h.deliver(
      'push',
      h.pushPayload({ ref: 'refs/heads/main', before: merged, after: changed, pusher: 'carol' }),
    );
    await h.idle();
    const [refused] = h.standin.checkRunsNamed('maestro / run demo/deploy', changed);
    expect(refused!.conclusion).toBe('action_required');
    expect(refused!.output.summary).toContain('no approval attestation exists');
    expect((await h.runtime.engineStore.listRuns()).length).toBe(1);
  });
});

function digestIn(summary: string): string {
  const match = /`(sha256:[0-9a-f]{64})`/.exec(summary);
  if (!match) throw new Error(`no digest in ${summary}`);
  return match[1]!;
}
