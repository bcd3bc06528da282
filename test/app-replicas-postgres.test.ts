/**
 * Two App replicas (`maestro server --role app` behind one load balancer) on one PostgreSQL
 * database, each with its own data dir, in front of one GitHub stand-in. What one replica
 * recorded (a delivery, a pusher, an attestation, a check run's id, a dispatch) the other must
 * see: a redelivery accepted by the second replica must not run again, and an approval recorded
 * through one must gate the run the other dispatches. And a run one replica's App dispatches is
 * executed by that App, though the other replica's worker is claiming runs on the same database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  grantPermissions,
  OWNER,
  REPO,
  SECRET,
  startHarness,
  startStandIn,
  stopStandIn,
  type Harness,
  type StandInSetup,
} from './github-standin/app-harness.ts';
import { signedDelivery, type StandInPull, type StandInReview } from './github-standin/index.ts';
import { checkRunPayload } from './github-standin/app-harness.ts';
import { startWitness, type Witness } from './helpers/witness.ts';
import { pointAtStandIn } from './github-standin/app-harness.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';
import { pino } from 'pino';
import { startWorker } from '../api/index.ts';

const REPO_KEY = `${OWNER}/${REPO}`;
const MANIFEST = '.maestro/workflows/deploy.yaml';

/** A push-triggered workflow; with `gated`, one approval by any writer. */
function deploy(version: string, gated = false): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: deploy
  namespace: demo
spec:
${gated ? '  approvals:\n    required: 1\n    from: []\n' : ''}  triggers:
    pull_request: {}
    push:
      branches: [main]
  defaults:
    runner: local
  tasks:
    - id: ship
      run: echo "shipping ${version}"
`;
}

let server: PostgresServer;
let witness: Witness;
let databases = 0;
let keys: string;
let keyEnv: Record<string, string>;
beforeAll(async () => {
  server = await startPostgres();
  witness = await startWitness();
  // Replicas sign with one approval key and one receipt key (from a Secret, in the chart): with
  // each replica's own development key, one replica's attestation would not verify on another.
  keys = mkdtempSync(join(tmpdir(), 'maestro-replica-keys-'));
  for (const name of ['approvals', 'receipts'])
    writeFileSync(join(keys, `${name}.pem`), freshKeyPairPem().privateKeyPem, { mode: 0o600 });
  keyEnv = {
    MAESTRO_APPROVAL_SIGNING_KEY: join(keys, 'approvals.pem'),
    MAESTRO_SIGNING_KEY: join(keys, 'receipts.pem'),
  };
});
afterAll(async () => {
  server?.stop();
  await witness?.close();
  rmSync(keys, { recursive: true, force: true });
});

describe('two App replicas on one PostgreSQL', () => {
  let setup: StandInSetup;
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    setup = await startStandIn();
    const env = { ...keyEnv, MAESTRO_DATABASE_URL: server.createDatabase(`app_replicas_${++databases}`) };
    a = await startHarness({ standIn: setup, env, runUpdateIntervalMs: 100 });
    b = await startHarness({ standIn: setup, env, runUpdateIntervalMs: 100 });
  });
  afterEach(async () => {
    const failed = [...(await a.runtime.deliveryStore.failedDeliveries())];
    for (const h of [a, b]) {
      await h.runtime.close();
      rmSync(h.dataDir, { recursive: true, force: true });
    }
    await stopStandIn(setup);
    expect(failed).toEqual([]);
    expect(setup.standin.violations).toEqual([]);
  });
  const idle = async () => {
    await a.idle();
    await b.idle();
    await a.idle();
  };

  it('processes one signed delivery once, though both replicas receive it at the same time', async () => {
    const sha = setup.repo.commit({ branch: 'main', login: 'carol', files: { [MANIFEST]: deploy('1') } });
    const payload = a.pushPayload({
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      pusher: 'carol',
    });
    // GitHub's redelivery carries the same X-GitHub-Delivery id and the same signed bytes; the
    // load balancer sends the original to one replica and the retry to the other.
    const delivery = signedDelivery(SECRET, 'push', pointAtStandIn(payload, setup.standin), 'delivery-42');
    const statuses = await Promise.all([a, b].map((h) => h.post(delivery.body, delivery.headers)));
    expect(statuses.sort()).toEqual([200, 202]);
    await idle();
    // And once more to each, after the first finished.
    expect(await a.post(delivery.body, delivery.headers)).toBe(200);
    expect(await b.post(delivery.body, delivery.headers)).toBe(200);
    await idle();
    const runs = await a.runtime.engineStore.listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('succeeded');
    expect(setup.standin.checkRunsNamed('maestro / run demo/deploy', sha)).toHaveLength(1);
    expect(await b.runtime.deliveryStore.deliveryState('delivery-42')).toBe('done');
  });

  it('an approval recorded through one replica gates, and releases, the run the other dispatches', async () => {
    grantPermissions(setup.standin, { alice: 'write', bob: 'write', carol: 'admin' });
    const base = setup.repo.commit({
      branch: 'main',
      login: 'carol',
      files: { [MANIFEST]: deploy('1', true) },
    });
    const head = setup.repo.commit({
      branch: 'feature',
      from: base,
      login: 'alice',
      files: { [MANIFEST]: deploy('2', true) },
    });
    const pull: StandInPull = {
      number: 7,
      author: 'alice',
      headSha: head,
      headRef: 'feature',
      baseRef: 'main',
      headRepo: REPO_KEY,
    };
    setup.standin.pulls.set(`${REPO_KEY}#7`, pull);
    // Replica A sees the push of the head: it records who pushed it.
    await a.deliver(
      'push',
      a.pushPayload({ ref: 'refs/heads/feature', before: base, after: head, pusher: 'alice' }),
    );
    await idle();
    // Replica B gets the review: the pusher A recorded is what lets bob's approval count
    // (no push event seen for a head means no approval counts there).
    const approved: StandInReview = {
      id: 1,
      login: 'bob',
      state: 'APPROVED',
      commitId: head,
      submittedAt: new Date(Date.now() - 60_000).toISOString(),
    };
    setup.standin.reviews.set(`${REPO_KEY}#7`, [approved]);
    expect(
      await b.deliver(
        'pull_request_review',
        b.reviewPayload('submitted', { number: 7, headSha: head, author: 'alice' }, 'bob'),
      ),
    ).toBe(202);
    await idle();
    const approvalChecks = setup.standin.checkRunsNamed('maestro / approval', head);
    // One check run, written by both replicas: the check run's id is shared too.
    expect(approvalChecks).toHaveLength(1);
    expect(approvalChecks[0]!.conclusion).toBe('success');
    const query = { repo: REPO_KEY, workflow: 'demo/deploy', headSha: head, pullRequest: 7 };
    const attestation = await a.runtime.appStore.findAttestation(query);
    expect(attestation?.approvers).toEqual(['bob']);

    // A merges it (the attestation B issued is carried to the merge commit), B dispatches the push.
    setup.repo.commit({ branch: 'main', from: head, login: 'carol', files: {} });
    const merged = setup.repo.commit({ branch: 'main', login: 'carol', files: { 'CHANGELOG.md': 'merged' } });
    Object.assign(pull, { state: 'closed', merged: true, mergeCommitSha: merged });
    await a.deliver(
      'pull_request',
      a.pullRequestPayload('closed', {
        number: 7,
        headSha: head,
        author: 'alice',
        sender: 'carol',
        merged: true,
        mergeCommitSha: merged,
      }),
    );
    await idle();
    expect((await b.runtime.appStore.findAttestation(query))?.revokedReason).toBe(`merged as ${merged}`);
    await b.deliver(
      'push',
      b.pushPayload({ ref: 'refs/heads/main', before: base, after: merged, pusher: 'carol' }),
    );
    await idle();
    const [runCheck, ...extra] = setup.standin.checkRunsNamed('maestro / run demo/deploy', merged);
    expect(extra).toEqual([]);
    expect(runCheck?.conclusion).toBe('success');
  });

  it("a run the App dispatches is its own to execute: another replica's worker never claims it first", async () => {
    // B's worker looks for runs every 5 ms (and is woken by each new run's NOTIFY). Before the
    // dispatch reserved the run's lease, B claimed some of A's runs between their submit and A's
    // execute: they failed their source fetch (the installation token's allow-list lives in A)
    // and their check runs, which only A reports, stayed queued.
    const worker = startWorker(b.runtime.engines.trusted, pino({ level: 'silent' }), { pollMs: 5 });
    try {
      const names = ['one', 'two', 'three', 'four', 'five', 'six'];
      const files = Object.fromEntries(
        names.map((name) => [
          `.maestro/workflows/${name}.yaml`,
          deploy(name).replace('name: deploy', `name: ${name}`),
        ]),
      );
      const sha = setup.repo.commit({ branch: 'main', login: 'carol', files });
      await a.deliver(
        'push',
        a.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
      );
      await idle();
      const runs = await a.runtime.engineStore.listRuns();
      expect(runs.map((r) => [r.workflow, r.status]).sort()).toEqual(
        names.map((name) => [name, 'succeeded']).sort(),
      );
      for (const name of names) {
        const checks = setup.standin.checkRunsNamed(`maestro / run demo/${name}`, sha);
        expect(checks).toHaveLength(1);
        expect(checks[0]!.conclusion).toBe('success');
      }
    } finally {
      await worker.close();
    }
  });

  it("a run the App retries (Retry failed) is its own to execute: another replica's worker never claims it first", async () => {
    // Retry moves a failed run back to queued, then the App executes it. Before the retry took
    // the run's lease first, B's worker claimed retried runs in between: A's check run, which
    // only A reports, then never completed (and B's fetch had no token before the stored-run
    // authorisation).
    grantPermissions(setup.standin, { carol: 'admin' });
    const names = ['r-one', 'r-two', 'r-three', 'r-four', 'r-five', 'r-six'];
    const flaky = (name: string) =>
      deploy(name)
        .replace('name: deploy', `name: ${name}`)
        .replace(
          `run: echo "shipping ${name}"`,
          `run: test "$(curl -s -X POST --data x ${witness.url}/${name}-${databases})" -gt 1`,
        );
    const files = Object.fromEntries(names.map((name) => [`.maestro/workflows/${name}.yaml`, flaky(name)]));
    const sha = setup.repo.commit({ branch: 'main', login: 'carol', files });
    await a.deliver(
      'push',
      a.pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
    );
    await idle();
    for (const name of names)
      expect(setup.standin.checkRunsNamed(`maestro / run demo/${name}`, sha)[0]!.conclusion).toBe('failure');
    const worker = startWorker(b.runtime.engines.trusted, pino({ level: 'silent' }), { pollMs: 5 });
    try {
      for (const run of await a.runtime.engineStore.listRuns())
        await a.deliver(
          'check_run',
          checkRunPayload(
            'requested_action',
            { externalId: `run:${run.id}`, headSha: sha },
            'carol',
            'retry_failed',
          ),
        );
      await idle();
      const runs = await a.runtime.engineStore.listRuns();
      expect(runs.map((r) => [r.workflow, r.status]).sort()).toEqual(
        names.map((n) => [n, 'succeeded']).sort(),
      );
      for (const name of names) {
        const checks = setup.standin.checkRunsNamed(`maestro / run demo/${name}`, sha);
        expect(checks).toHaveLength(1);
        expect(checks[0]!.conclusion).toBe('success');
      }
    } finally {
      await worker.close();
    }
  });
});
