/**
 * The GitHub App's stores (app/app-store.ts, app/ingress/delivery-store.ts), written once and
 * run unchanged against SQLite and PostgreSQL (app-store.sqlite.test.ts,
 * app-store.postgres.test.ts). Two stores opened on one database stand for two App replicas;
 * every idempotent write is raced between them.
 */
import { describe, expect, it } from 'vitest';
import type { AppStore, DeliveryStore, StoredAttestation, StoredRun } from '../../app/index.ts';

export interface AppStores {
  app: AppStore;
  deliveries: DeliveryStore;
}

export interface AppStoreHarness {
  /** A fresh database; each `open()` is another process on it (another replica). */
  database(): Promise<{
    open(): Promise<AppStores>;
    /** Raw SQL on the database, outside any store. */
    sql(statement: string): Promise<void>;
    /** Table names' prefix ('' on SQLite, 'app_' on PostgreSQL). */
    prefix: string;
    /** A statement recording a schema version of the app's tables newer than this build knows. */
    futureVersion: string;
  }>;
}

const attestation = (digest: string, overrides: Partial<StoredAttestation> = {}): StoredAttestation => ({
  digest,
  repo: 'octo/repo',
  workflow: 'demo/deploy',
  planDigest: 'sha256:plan',
  pullRequest: 7,
  headSha: 'head1',
  baseSha: 'base1',
  bundle: { dsseEnvelope: { payload: 'e30=', signatures: [] } },
  approvers: ['bob', 'carol'],
  issuedAt: 1000,
  expiresAt: 9000,
  ...overrides,
});

const run = (runId: string, overrides: Partial<StoredRun> = {}): StoredRun => ({
  runId,
  repo: 'octo/repo',
  installationId: 4242,
  workflow: 'demo/deploy',
  headSha: 'head1',
  checkRunExternalId: `run:${runId}`,
  fromFork: false,
  gated: false,
  ...overrides,
});

async function twoReplicas(
  harness: AppStoreHarness,
  fn: (a: AppStores, b: AppStores, db: Awaited<ReturnType<AppStoreHarness['database']>>) => Promise<void>,
) {
  const db = await harness.database();
  const a = await db.open();
  const b = await db.open();
  try {
    await fn(a, b, db);
  } finally {
    for (const s of [a, b]) {
      await s.app.close();
      await s.deliveries.close();
    }
  }
}

export function appStoreContract(name: string, harness: AppStoreHarness): void {
  describe(`app delivery store contract: ${name}`, () => {
    it('refuses the same id (a redelivery) and the same bytes under another id (a replay), on either replica', () =>
      twoReplicas(harness, async ({ deliveries: a }, { deliveries: b }) => {
        const payload = '{"ref":"refs/heads/main"}';
        expect(await a.recordDelivery({ id: 'a', name: 'push', payload, receivedAt: 1 })).toBe('recorded');
        expect(await b.recordDelivery({ id: 'a', name: 'push', payload: '{}', receivedAt: 2 })).toBe(
          'duplicate_id',
        );
        expect(await b.recordDelivery({ id: 'b', name: 'push', payload, receivedAt: 3 })).toBe(
          'duplicate_body',
        );
        expect(await a.deliveryState('b')).toBeUndefined();
        expect(await b.recordDelivery({ id: 'c', name: 'push', payload: `${payload} `, receivedAt: 4 })).toBe(
          'recorded',
        );
        expect(await a.deliveryState('c')).toBe('pending');
      }));

    it('stores one of many copies of a delivery arriving at both replicas at once', () =>
      twoReplicas(harness, async ({ deliveries: a }, { deliveries: b }) => {
        const same = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a : b).recordDelivery({ id: 'dup', name: 'push', payload: `{"i":${i}}`, receivedAt: i }),
          ),
        );
        expect(same.filter((o) => o === 'recorded')).toHaveLength(1);
        expect(same.filter((o) => o === 'duplicate_id')).toHaveLength(7);
        const replayed = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a : b).recordDelivery({
              id: `r-${i}`,
              name: 'push',
              payload: '{"same":1}',
              receivedAt: i,
            }),
          ),
        );
        expect(replayed.filter((o) => o === 'recorded')).toHaveLength(1);
        expect(replayed.filter((o) => o === 'duplicate_body')).toHaveLength(7);
        expect((await a.pendingDeliveries()).map((d) => d.id).sort()).toHaveLength(2);
      }));

    it('gives a pending delivery to one replica only after its claim ran out, and never a finished one', () =>
      twoReplicas(harness, async ({ deliveries: a }, { deliveries: b }) => {
        await a.recordDelivery({
          id: 'held',
          name: 'push',
          payload: '{"n":1}',
          receivedAt: 10,
          claimedUntil: 1000,
        });
        await a.recordDelivery({
          id: 'done',
          name: 'push',
          payload: '{"n":2}',
          receivedAt: 11,
          claimedUntil: 0,
        });
        await a.markDelivery('done', 'done');
        // A holds it until 1000: B takes nothing before.
        expect(await b.claimPending(999, 5000)).toEqual([]);
        // A renews while it works; B's renewal of a claim it does not hold changes nothing.
        await a.renewClaims(['held'], 2000);
        await b.renewClaims(['held'], 99_000);
        expect(await b.claimPending(1999, 5000)).toEqual([]);
        // A stopped: at 2000 its claim ran out, and of both replicas asking at once one gets it.
        const [fromA, fromB] = await Promise.all([a.claimPending(2000, 6000), b.claimPending(2000, 6000)]);
        const won = [...fromA!, ...fromB!];
        expect(won).toEqual([{ id: 'held', name: 'push', payload: '{"n":1}', receivedAt: 10 }]);
        // The winner holds it now; the loser's renewals do not extend it, the winner's do.
        const [winner, loser] = fromA!.length ? [a, b] : [b, a];
        await loser.renewClaims(['held'], 99_000);
        expect(await loser.claimPending(6000, 7000)).toHaveLength(1);
        await winner.markDelivery('held', 'failed', 'boom');
        expect(await winner.claimPending(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).toEqual([]);
        expect(await loser.failedDeliveries()).toEqual([{ id: 'held', name: 'push', error: 'boom' }]);
      }));

    it('runs one holder of a key at a time across replicas, and other keys meanwhile', () =>
      twoReplicas(harness, async ({ deliveries: a }, { deliveries: b }) => {
        const events: string[] = [];
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let started!: () => void;
        const holding = new Promise<void>((resolve) => (started = resolve));
        const first = a.serialised('octo/repo#7', async () => {
          events.push('a starts');
          started();
          await gate;
          events.push('a ends');
        });
        await holding;
        const second = b.serialised('octo/repo#7', async () => void events.push('b starts'));
        // Another pull request is not held up, on either replica.
        expect(await b.serialised('octo/repo#8', async () => 'free')).toBe('free');
        expect(await a.serialised('octo/repo@refs/heads/main', async () => 'free')).toBe('free');
        expect(events).toEqual(['a starts']);
        release();
        await Promise.all([first, second]);
        expect(events).toEqual(['a starts', 'a ends', 'b starts']);
        // A holder that throws lets the next one in, and its error reaches its caller.
        await expect(
          a.serialised('octo/repo#7', async () => Promise.reject(new Error('boom'))),
        ).rejects.toThrow('boom');
        expect(await b.serialised('octo/repo#7', async () => 'next')).toBe('next');
      }));

    it('prunes finished deliveries past the retention with their digests, and never a pending one', () =>
      twoReplicas(harness, async ({ deliveries: store }) => {
        const DAY = 86_400_000;
        const now = 100 * DAY;
        await store.recordDelivery({
          id: 'old-done',
          name: 'push',
          payload: '{"n":1}',
          receivedAt: now - 31 * DAY,
        });
        await store.recordDelivery({
          id: 'old-failed',
          name: 'push',
          payload: '{"n":2}',
          receivedAt: now - 40 * DAY,
        });
        await store.recordDelivery({
          id: 'old-pending',
          name: 'push',
          payload: '{"n":3}',
          receivedAt: now - 90 * DAY,
        });
        await store.recordDelivery({
          id: 'recent',
          name: 'push',
          payload: '{"n":4}',
          receivedAt: now - 29 * DAY,
        });
        await store.markDelivery('old-done', 'done');
        await store.markDelivery('old-failed', 'failed', 'boom');
        await store.markDelivery('recent', 'done');
        expect(await store.pruneDeliveries(now - 30 * DAY)).toBe(2);
        expect(await store.deliveryState('old-done')).toBeUndefined();
        expect(await store.deliveryState('old-pending')).toBe('pending');
        expect((await store.pendingDeliveries()).map((d) => d.id)).toEqual(['old-pending']);
        // A kept delivery still guards its bytes; a pruned one's id and digest went together.
        expect(
          await store.recordDelivery({ id: 'x', name: 'push', payload: '{"n":4}', receivedAt: now }),
        ).toBe('duplicate_body');
        expect(
          await store.recordDelivery({ id: 'old-done', name: 'push', payload: '{"n":1}', receivedAt: now }),
        ).toBe('recorded');
      }));
  });

  describe(`app store contract: ${name}`, () => {
    it('shares who pushed a head between replicas, each login once', () =>
      twoReplicas(harness, async ({ app: a }, { app: b }) => {
        expect(await b.pushersOf('octo/repo', 'head1')).toEqual([]);
        await Promise.all([
          a.putPusher('octo/repo', 'head1', 'zed'),
          b.putPusher('octo/repo', 'head1', 'zed'),
        ]);
        await a.putPusher('octo/repo', 'head1', 'alice');
        await a.putPusher('octo/other', 'head1', 'mallory');
        expect(await b.pushersOf('octo/repo', 'head1')).toEqual(['alice', 'zed']);
      }));

    it('shares attestations: newest first, by pull request, revoked once and never rewritten', () =>
      twoReplicas(harness, async ({ app: a }, { app: b }, db) => {
        await a.putAttestation(attestation('sha256:one'));
        await a.putAttestation(attestation('sha256:two', { issuedAt: 2000, supersedes: 'sha256:one' }));
        await a.putAttestation(attestation('sha256:other-pr', { issuedAt: 3000, pullRequest: 8 }));
        const query = { repo: 'octo/repo', workflow: 'demo/deploy', headSha: 'head1' };
        expect((await b.findAttestation(query))?.digest).toBe('sha256:other-pr');
        expect(await b.findAttestation({ ...query, pullRequest: 7 })).toEqual(
          attestation('sha256:two', { issuedAt: 2000, supersedes: 'sha256:one' }),
        );
        expect(await b.findAttestation({ ...query, headSha: 'head2' })).toBeUndefined();
        expect((await b.liveAttestations('octo/repo', 7)).map((x) => x.digest)).toEqual([
          'sha256:one',
          'sha256:two',
        ]);
        await b.revokeAttestation('sha256:one', 'superseded', 5000);
        await a.revokeAttestation('sha256:one', 'a later reason', 6000);
        expect(await a.getAttestation('sha256:one')).toMatchObject({
          revokedAt: 5000,
          revokedReason: 'superseded',
        });
        expect((await a.liveAttestations('octo/repo', 7)).map((x) => x.digest)).toEqual(['sha256:two']);
        // The same attestation stored again (a retried handler) does not clear its revocation.
        await b.putAttestation(attestation('sha256:one'));
        expect((await a.getAttestation('sha256:one'))?.revokedAt).toBe(5000);
        // Nor does direct SQL: revoked, never deleted; nothing but the revocation changes.
        const t = `${db.prefix}approval_attestations`;
        await expect(db.sql(`DELETE FROM ${t} WHERE digest = 'sha256:two'`)).rejects.toThrow(/never deleted/);
        await expect(db.sql(`UPDATE ${t} SET revoked_at = NULL WHERE digest = 'sha256:one'`)).rejects.toThrow(
          /only gains its revocation/,
        );
        await expect(
          db.sql(`UPDATE ${t} SET approvers = '["mallory"]' WHERE digest = 'sha256:two'`),
        ).rejects.toThrow(/only gains its revocation/);
        expect((await b.getAttestation('sha256:two'))?.approvers).toEqual(['bob', 'carol']);
      }));

    it('stores one dispatch per (key, workflow) however many replicas race, with only its run', () =>
      twoReplicas(harness, async ({ app: a }, { app: b }) => {
        const key = 'pull_request:7:head1';
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a : b).putDispatch(
              { key, workflow: 'demo/deploy', runId: `r-${i}`, createdAt: i },
              run(`r-${i}`, { pullRequest: 7, gated: true }),
            ),
          ),
        );
        const winners = new Set(results.map((d) => d.runId));
        expect(winners.size).toBe(1);
        const [winner] = [...winners];
        expect(await b.getDispatch(key, 'demo/deploy')).toEqual(results[0]);
        expect(await a.getRun(winner!)).toEqual(run(winner!, { pullRequest: 7, gated: true }));
        for (let i = 0; i < 8; i += 1)
          if (`r-${i}` !== winner) expect(await b.getRun(`r-${i}`)).toBeUndefined();
        // Another workflow of the same trigger is its own dispatch.
        const other = await a.putDispatch(
          { key, workflow: 'demo/other', runId: 'r-x', createdAt: 9 },
          run('r-x'),
        );
        expect(other.runId).toBe('r-x');
      }));

    it('lets one replica create a check run, and shares its id', () =>
      twoReplicas(harness, async ({ app: a }, { app: b }) => {
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).claimCheckRunCreate('validate:head1')),
        );
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await b.getCheckRunId('validate:head1')).toBe(-1);
        await a.putCheckRunId('validate:head1', 4_000_000_001);
        expect(await b.getCheckRunId('validate:head1')).toBe(4_000_000_001);
        expect(await b.claimCheckRunCreate('validate:head1')).toBe(false);
        expect(await b.getCheckRunId('validate:head2')).toBeUndefined();
      }));

    it('shares plan digests and dispatched runs', () =>
      twoReplicas(harness, async ({ app: a }, { app: b }) => {
        expect(await b.getPlanDigests('octo/repo', 'head1')).toBeUndefined();
        await a.putPlanDigests('octo/repo', 'head1', { 'demo/deploy': 'sha256:a' });
        await b.putPlanDigests('octo/repo', 'head1', { 'demo/deploy': 'sha256:a', 'demo/x': 'sha256:b' });
        expect(await a.getPlanDigests('octo/repo', 'head1')).toEqual({
          'demo/deploy': 'sha256:a',
          'demo/x': 'sha256:b',
        });
        await a.putRun(run('r-1', { fromFork: true }));
        expect(await b.getRun('r-1')).toEqual(run('r-1', { fromFork: true }));
        await b.putRun(run('r-1', { fromFork: true, gated: true, pullRequest: 3 }));
        expect(await a.getRun('r-1')).toEqual(run('r-1', { fromFork: true, gated: true, pullRequest: 3 }));
        expect(await a.getRun('r-none')).toBeUndefined();
      }));

    it('refuses a database whose app schema is newer than this build', async () => {
      const db = await harness.database();
      const first = await db.open();
      await first.app.close();
      await first.deliveries.close();
      await db.sql(db.futureVersion);
      await expect(db.open()).rejects.toThrow(/newer than this maestro knows/);
    });
  });
}
