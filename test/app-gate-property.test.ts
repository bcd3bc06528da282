/**
 * Property: over random interleavings of pushes, reviews, dismissals, closes, reopens,
 * re-requests and `/maestro run` comments on two pull requests (which can carry the same plan),
 * no gated task ever runs without an attestation bound to its exact head SHA, pull request and
 * plan digest, and each run is justified by an independent model of the rules (the pull request
 * was open, the run is at its current head, and a writer who is neither the author nor the
 * head's pusher last approved a commit with the same plan). The real app over HTTP, the GitHub
 * stand-in and the real engine; the model is a few lines of plain bookkeeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkRunPayload,
  closeChecked,
  commentPayload,
  OWNER,
  REPO,
  startHarness,
  type Harness,
} from './github-standin/app-harness.ts';
import type { Payload, StandInReview } from './github-standin/index.ts';

const REPO_KEY = `${OWNER}/${REPO}`;
const MANIFEST = '.maestro/workflows/deploy.yaml';
const WRITERS = new Set(['alice', 'bob', 'carol']);
const PEOPLE = ['alice', 'bob', 'carol', 'erin'] as const;
const VARIANTS = ['x', 'y'] as const;

function deploy(variant: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: deploy
  namespace: demo
spec:
  approvals:
    required: 1
    from: []
  triggers:
    pull_request: {}
    manual: true
  defaults:
    runner: local
  tasks:
    - id: ship
      run: echo ${variant}
`;
}

type Person = (typeof PEOPLE)[number];
type Event =
  | { kind: 'push'; pr: 0 | 1; variant: (typeof VARIANTS)[number]; pusher: Person }
  | { kind: 'review'; pr: 0 | 1; reviewer: Person; approve: boolean }
  | { kind: 'dismiss'; pr: 0 | 1; reviewer: Person }
  | { kind: 'close' | 'reopen' | 'rerequest'; pr: 0 | 1 }
  | { kind: 'comment'; pr: 0 | 1; who: Person };

const pr = fc.constantFrom(0 as const, 1 as const);
const person = fc.constantFrom(...PEOPLE);
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({
    kind: fc.constant('push' as const),
    pr,
    variant: fc.constantFrom(...VARIANTS),
    pusher: person,
  }),
  fc.record({ kind: fc.constant('review' as const), pr, reviewer: person, approve: fc.boolean() }),
  fc.record({ kind: fc.constant('dismiss' as const), pr, reviewer: person }),
  fc.record({ kind: fc.constantFrom('close' as const, 'reopen' as const, 'rerequest' as const), pr }),
  fc.record({ kind: fc.constant('comment' as const), pr, who: person }),
);

/** What the model knows of one pull request. */
interface PullModel {
  number: number;
  branch: string;
  author: Person;
  open: boolean;
  head: string;
  variantOf: Map<string, string>;
  pusherOf: Map<string, Person>;
  reviews: StandInReview[];
}

describe('property: nothing gated runs without an attestation bound to its head, pull request and plan', () => {
  let h: Harness;
  let base: string;
  let next = 100;
  let nonce = 0;
  beforeAll(async () => {
    h = await startHarness({ runUpdateIntervalMs: 1000 });
    for (const login of PEOPLE)
      h.standin.permissions.set(`${REPO_KEY}:${login}`, WRITERS.has(login) ? 'write' : 'read');
    base = h.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('base') } });
  });
  afterAll(() => closeChecked(h));

  /** Real deliveries differ in ids and times; a nonce keeps two equal events from being one replay. */
  const send = async (name: string, payload: Payload) => {
    payload.maestro_test_nonce = nonce += 1;
    expect(await h.deliver(name, payload)).toBe(202);
    await h.idle();
  };

  async function pushHead(m: PullModel, variant: string, pusher: Person): Promise<void> {
    const head = h.repo.commit({ branch: m.branch, login: pusher, files: { [MANIFEST]: deploy(variant) } });
    const before = m.head;
    m.head = head;
    m.variantOf.set(head, variant);
    m.pusherOf.set(head, pusher);
    h.standin.pulls.get(`${REPO_KEY}#${m.number}`)!.headSha = head;
    await send('push', h.pushPayload({ ref: `refs/heads/${m.branch}`, before, after: head, pusher }));
    await send(
      'pull_request',
      h.pullRequestPayload('synchronize', {
        number: m.number,
        headSha: head,
        author: m.author,
        sender: pusher,
      }),
    );
  }

  async function openPull(author: Person, variant: string): Promise<PullModel> {
    const number = (next += 1);
    const m: PullModel = {
      number,
      branch: `pr-${number}`,
      author,
      open: true,
      head: base,
      variantOf: new Map(),
      pusherOf: new Map(),
      reviews: [],
    };
    h.standin.pulls.set(`${REPO_KEY}#${number}`, {
      number,
      author,
      headSha: base,
      headRef: m.branch,
      baseRef: 'main',
      headRepo: REPO_KEY,
      baseSha: base,
    });
    h.standin.reviews.set(`${REPO_KEY}#${number}`, m.reviews);
    h.repo.commit({ branch: m.branch, from: base, login: author, files: {} });
    await pushHead(m, variant, author);
    await send('pull_request', h.pullRequestPayload('opened', { number, headSha: m.head, author }));
    return m;
  }

  /** The model's verdict: may a run of this pull request at `sha` happen now? */
  function justified(m: PullModel, sha: string): boolean {
    if (!m.open || sha !== m.head) return false;
    const latest = new Map<string, StandInReview>();
    for (const r of m.reviews) if (r.state !== 'COMMENTED') latest.set(r.login, r);
    return [...latest.values()].some(
      (r) =>
        r.state === 'APPROVED' &&
        WRITERS.has(r.login) &&
        r.login !== m.author &&
        r.login !== m.pusherOf.get(m.head) &&
        m.variantOf.get(r.commitId) === m.variantOf.get(m.head),
    );
  }

  async function apply(pulls: PullModel[], e: Event): Promise<void> {
    const m = pulls[e.pr]!;
    const pullKey = `${REPO_KEY}#${m.number}`;
    const review = (action: string, reviewer: string) =>
      send(
        'pull_request_review',
        h.reviewPayload(action, { number: m.number, headSha: m.head, author: m.author }, reviewer),
      );
    switch (e.kind) {
      case 'push':
        if (m.open) await pushHead(m, e.variant, e.pusher);
        return;
      case 'review':
        m.reviews.push({
          id: (next += 1),
          login: e.reviewer,
          state: e.approve ? 'APPROVED' : 'CHANGES_REQUESTED',
          commitId: m.head,
          submittedAt: new Date(Date.now() - 3_600_000 + next * 1000).toISOString(),
        });
        await review('submitted', e.reviewer);
        return;
      case 'dismiss': {
        const mine = m.reviews.filter((r) => r.login === e.reviewer && r.state !== 'COMMENTED').at(-1);
        if (!mine) return;
        mine.state = 'DISMISSED';
        await review('dismissed', e.reviewer);
        return;
      }
      case 'close':
      case 'reopen':
        m.open = e.kind === 'reopen';
        h.standin.pulls.get(pullKey)!.state = m.open ? 'open' : 'closed';
        await send(
          'pull_request',
          h.pullRequestPayload(e.kind === 'close' ? 'closed' : 'reopened', {
            number: m.number,
            headSha: m.head,
            author: m.author,
            ...(e.kind === 'close' ? { merged: false } : {}),
          }),
        );
        return;
      case 'rerequest': {
        const mine = (
          await Promise.all(
            (await h.runtime.engineStore.listRuns()).map((r) => h.runtime.appStore.getRun(r.id)),
          )
        ).filter((r) => r?.pullRequest === m.number);
        const last = mine.at(-1);
        if (last)
          await send(
            'check_run',
            checkRunPayload(
              'rerequested',
              { externalId: last.checkRunExternalId, headSha: last.headSha },
              'carol',
            ),
          );
        return;
      }
      case 'comment':
        await send(
          'issue_comment',
          commentPayload(e.who, '/maestro run deploy', { number: m.number, pull: true }),
        );
        return;
    }
  }

  it('holds over random interleavings', async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...VARIANTS),
        fc.constantFrom(...VARIANTS),
        fc.array(event, { minLength: 1, maxLength: 9 }),
        async (first, second, events) => {
          const pulls = [await openPull('alice', first), await openPull('bob', second)];
          const seen = new Set((await h.runtime.engineStore.listRuns()).map((r) => r.id));
          const before = seen.size;
          for (const e of events) {
            await apply(pulls, e);
            for (const run of await h.runtime.engineStore.listRuns()) {
              if (seen.has(run.id)) continue;
              seen.add(run.id);
              const record = (await h.runtime.appStore.getRun(run.id))!;
              const m = pulls.find((p) => p.number === record.pullRequest);
              expect(m, `run ${run.id} belongs to a pull request of this case`).toBeDefined();
              expect(justified(m!, record.headSha), `run ${run.id} after ${JSON.stringify(e)}`).toBe(true);
              const attestation = await h.runtime.appStore.getAttestation(run.approvalDigest ?? '');
              expect(attestation, `run ${run.id} has an attestation`).toBeDefined();
              expect(attestation!.headSha).toBe(record.headSha);
              expect(attestation!.pullRequest).toBe(record.pullRequest);
              expect(attestation!.planDigest).toBe(run.planDigest);
              expect(attestation!.issuedAt).toBeLessThanOrEqual(run.createdAt);
              expect(attestation!.revokedAt ?? Infinity).toBeGreaterThanOrEqual(run.createdAt);
            }
          }
          ran += seen.size - before;
        },
      ),
      {
        numRuns: 12,
        // Always among the cases, so the property is never vacuous whatever the random ones do:
        // a writer who is neither author nor pusher approves alice's pull request, and it runs.
        examples: [['x', 'y', [{ kind: 'review', pr: 0, reviewer: 'bob', approve: true }]]],
      },
    );
    // Not vacuous: approvals happen in the generated histories, and runs with them.
    expect(ran).toBeGreaterThan(0);
  }, 300_000);
});
