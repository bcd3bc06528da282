// tasks/notify's pr-comment through the App's port, end to end with the GitHub stand-in (every
// REST call checked against GitHub's OpenAPI description): the task holds no GitHub token and
// outputs a request; when the run ends the App posts it on the run's own pull request, and a
// later run updates that comment instead of adding one. A comment someone else planted with
// the same marker is never the one updated (its author could edit it afterwards).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commentMarker } from '../app/dispatch/pr-comments.ts';
import { closeChecked, OWNER, REPO, startHarness, type Harness } from './github-standin/app-harness.ts';

const REPO_KEY = `${OWNER}/${REPO}`;

function workflow(text: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: preview
  namespace: demo
spec:
  triggers:
    pull_request: {}
  defaults:
    runner: local
    retry:
      limit: 0
  tasks:
    - id: token-probe
      run: 'echo "seen=\${GITHUB_TOKEN:-none}" >> "$MAESTRO_OUTPUT"'
      outputs: [seen]
    - id: comment
      uses: tasks/notify@1
      with: { kind: pr-comment, text: "${text}", idempotencyKey: preview }
`;
}

describe('pull-request comments asked of the App by tasks/notify', () => {
  let h: Harness;
  beforeEach(async () => (h = await startHarness({ runUpdateIntervalMs: 100 })));
  afterEach(() => closeChecked(h));

  async function openPull(number: number, text: string, from?: string): Promise<string> {
    const base = from ?? h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'base' } });
    const head = h.repo.commit({
      branch: `pr-${number}`,
      from: base,
      login: 'carol',
      files: { '.maestro/workflows/preview.yaml': workflow(text), 'x.txt': text },
    });
    h.standin.pulls.set(`${REPO_KEY}#${number}`, {
      number,
      author: 'carol',
      headSha: head,
      headRef: `pr-${number}`,
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    return head;
  }

  it('posts the comment on the run’s pull request, then updates it on the next head; a planted marker is left alone', async () => {
    const first = await openPull(12, 'Preview one');
    // Someone else's comment carrying the same marker: the App must not take it for its own.
    const marker = commentMarker('demo/preview', 'comment', 'preview');
    h.standin.comments.push({
      id: 1,
      repo: REPO_KEY,
      issue: 12,
      body: `bait ${marker}`,
      login: 'mallory',
      updates: 0,
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', { number: 12, headSha: first, author: 'carol' }),
    );
    await h.idle();
    const [run] = h.standin.checkRunsNamed('maestro / run demo/preview', first);
    expect(run?.conclusion).toBe('success');
    const mine = () => h.standin.comments.filter((c) => c.login === 'summit-maestro[bot]');
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ issue: 12, body: `Preview one\n\n${marker}`, updates: 0 });
    expect(h.standin.comments.find((c) => c.login === 'mallory')).toMatchObject({
      body: `bait ${marker}`,
      updates: 0,
    });
    // The task itself saw no GitHub token.
    const stored = (await h.runtime.engineStore.listRuns()).find((r) => r.status === 'succeeded')!;
    expect(await h.runtime.engineStore.taskOutputs(stored.id, 'token-probe')).toEqual({ seen: 'none' });

    // A new head of the same pull request: the same comment is updated, not a second one posted.
    const second = h.repo.commit({
      branch: 'pr-12',
      from: first,
      login: 'carol',
      files: { '.maestro/workflows/preview.yaml': workflow('Preview two') },
    });
    h.standin.pulls.set(`${REPO_KEY}#12`, {
      number: 12,
      author: 'carol',
      headSha: second,
      headRef: 'pr-12',
      baseRef: 'main',
      headRepo: REPO_KEY,
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('synchronize', { number: 12, headSha: second, author: 'carol' }),
    );
    await h.idle();
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ body: `Preview two\n\n${marker}`, updates: 1 });
    expect(h.standin.violations).toEqual([]);
  });

  it('a fork’s pull request runs its notify task, but the App posts nothing for fork code', async () => {
    const base = h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'base' } });
    const head = h.repo.commit({
      branch: 'fork-branch',
      from: base,
      login: 'mallory',
      files: { '.maestro/workflows/preview.yaml': workflow('Click https://evil.example') },
    });
    h.standin.addRepo({
      owner: 'mallory',
      name: 'pipelines',
      id: 9002,
      bareDir: h.repo.bareDir,
      defaultBranch: 'main',
    });
    h.repo.publishPullHead(13, head);
    h.standin.pulls.set(`${REPO_KEY}#13`, {
      number: 13,
      author: 'mallory',
      headSha: head,
      headRef: 'fork-branch',
      baseRef: 'main',
      headRepo: 'mallory/pipelines',
    });
    await h.deliver(
      'pull_request',
      h.pullRequestPayload('opened', {
        number: 13,
        headSha: head,
        author: 'mallory',
        headRepo: 'mallory/pipelines',
      }),
    );
    await h.idle();
    const runs = await h.runtime.engineStore.listRuns();
    expect(runs).toHaveLength(1);
    expect(await h.runtime.engineStore.taskOutputs(runs[0]!.id, 'comment')).toMatchObject({
      prComment: expect.stringContaining('evil.example'),
    });
    expect(h.standin.comments).toEqual([]);
    expect(h.standin.requests.filter((r) => r.operationId.startsWith('issues/'))).toEqual([]);
  });
});
