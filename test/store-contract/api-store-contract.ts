/**
 * The API store's contract (tokens, stored workflows, idempotency keys), written once and run
 * unchanged against SQLite and PostgreSQL (api-store.sqlite.test.ts, api-store.postgres.test.ts).
 * The harness gives each test a fresh database, re-opening, and raw SQL outside the store.
 */
import { describe, expect, it } from 'vitest';
import {
  hashToken,
  mintToken,
  type ApiStore,
  type StoredToken,
  type StoredWorkflow,
} from '../../api/index.ts';
import { StoreUnusableError } from '../../engine/index.ts';
import { planOf, shellTask } from '../helpers/engine-fixtures.ts';

export interface ApiStoreDatabase {
  /** Opens a store on this database (a new connection, or pool, each call). */
  open(): Promise<ApiStore>;
  /** Runs SQL directly on the database, outside any store. */
  sql(statement: string): Promise<void>;
  /** The table that records the applied migrations. */
  versionTable: string;
  /** What the store's table names begin with (`api_` on PostgreSQL, beside the engine's tables). */
  tablePrefix: string;
}

export interface ApiStoreHarness {
  database(): Promise<ApiStoreDatabase>;
}

function token(id: string, extra: Partial<StoredToken> = {}): StoredToken & { secret: string } {
  const { token: secret, hash } = mintToken();
  return {
    id,
    name: `name-${id}`,
    hash,
    scopes: ['runs:read', 'workflows:write'],
    user: 'alice',
    namespaces: ['data'],
    createdAt: 1000,
    expiresAt: 9000,
    revokedAt: null,
    secret,
    ...extra,
  };
}

function workflow(name: string, namespace: string, n: number): Omit<StoredWorkflow, 'seq'> {
  const plan = planOf([shellTask(`t${n}`, 'true')]);
  return {
    digest: `sha256:${String(n).padStart(64, '0')}`,
    name,
    namespace,
    kind: 'Workflow',
    manifest: `name: ${name}\n# ${n}`,
    plan: { ...plan, workflow: { ...plan.workflow, name, namespace } },
    source: n % 2 ? { repo: 'o/r', sha: 'a'.repeat(40) } : null,
    createdAt: 1000 + n,
  };
}

async function withStore(harness: ApiStoreHarness, fn: (s: ApiStore, db: ApiStoreDatabase) => Promise<void>) {
  const db = await harness.database();
  const store = await db.open();
  try {
    await fn(store, db);
  } finally {
    await store.close();
  }
}

export function apiStoreContract(name: string, harness: ApiStoreHarness): void {
  describe(`api store contract: ${name}`, () => {
    it('migrates an empty database and re-opens it with its tokens and workflows', async () => {
      const db = await harness.database();
      const [a, b] = await Promise.all([db.open(), db.open()]); // two replicas starting together
      const t = token('tok-1');
      await a.putToken(t);
      expect((await a.putWorkflow(workflow('wf', 'data', 1))).created).toBe(true);
      await a.close();
      await b.close();
      const again = await db.open();
      try {
        const { secret: _secret, ...stored } = t;
        expect(await again.tokenByHash(t.hash)).toEqual(stored);
        const w = await again.getWorkflow(workflow('wf', 'data', 1).digest);
        expect(w).toMatchObject({ ...workflow('wf', 'data', 1), plan: expect.anything() });
        expect(JSON.stringify(w!.plan)).toBe(JSON.stringify(workflow('wf', 'data', 1).plan));
      } finally {
        await again.close();
      }
    });

    it('refuses a database whose schema is newer than this build', async () => {
      const db = await harness.database();
      await (await db.open()).close();
      await db.sql(`INSERT INTO ${db.versionTable} (version, applied_at) VALUES (999, 0)`);
      await expect(db.open()).rejects.toThrow(StoreUnusableError);
      await expect(db.open()).rejects.toThrow(/schema version 999, newer than this maestro knows/);
    });

    it('stores a token by its hash only, lists, revokes once, and refuses a duplicate', () =>
      withStore(harness, async (s) => {
        const t1 = token('tok-1');
        const t2 = token('tok-2', { createdAt: 500, namespaces: [], user: 'bob' });
        await s.putToken(t1);
        await s.putToken(t2);
        await expect(s.putToken({ ...token('tok-3'), hash: t1.hash })).rejects.toThrow();
        await expect(s.putToken({ ...token('tok-1') })).rejects.toThrow();
        expect(await s.tokenByHash(hashToken(t1.secret))).toMatchObject({ id: 'tok-1', user: 'alice' });
        expect(await s.tokenByHash(hashToken(mintToken().token))).toBeUndefined();
        expect((await s.listTokens()).map((t) => t.id)).toEqual(['tok-2', 'tok-1']);
        expect(await s.revokeToken('tok-1', 5000)).toBe(true);
        expect(await s.revokeToken('tok-1', 6000)).toBe(false);
        expect(await s.revokeToken('tok-none', 6000)).toBe(false);
        expect((await s.tokenByHash(t1.hash))?.revokedAt).toBe(5000);
      }));

    it('stores sessions by hash, ends one, and drops the expired ones when another is stored', () =>
      withStore(harness, async (s) => {
        const a = { hash: 'a'.repeat(64), tokenHash: 't'.repeat(64), createdAt: 1000, expiresAt: 2000 };
        const b = { hash: 'b'.repeat(64), tokenHash: 't'.repeat(64), createdAt: 1000, expiresAt: 9000 };
        await s.putSession(a, 1000);
        await s.putSession(b, 1000);
        expect(await s.sessionByHash(a.hash)).toEqual(a);
        await expect(s.putSession(a, 1000)).rejects.toThrow();
        expect(await s.deleteSession(b.hash)).toBe(true);
        expect(await s.deleteSession(b.hash)).toBe(false);
        expect(await s.sessionByHash(b.hash)).toBeUndefined();
        await s.putSession({ ...b, hash: 'c'.repeat(64) }, 2500);
        expect(await s.sessionByHash(a.hash)).toBeUndefined();
      }));

    it('keeps a token nowhere but as its hash', () =>
      withStore(harness, async (s) => {
        const t = token('tok-1');
        await s.putToken(t);
        expect(JSON.stringify(await s.listTokens())).not.toContain(t.secret.slice(4, 20));
      }));

    it('stores a workflow once per digest and lists newest first, filtered, in keyset pages', () =>
      withStore(harness, async (s) => {
        for (let n = 1; n <= 5; n++)
          await s.putWorkflow(workflow(n <= 3 ? 'etl' : 'deploy', n === 5 ? 'ops' : 'data', n));
        expect((await s.putWorkflow(workflow('etl', 'data', 1))).created).toBe(false);
        const all = await s.listWorkflows({ limit: 10 });
        expect(all.map((w) => w.manifest.split('# ')[1])).toEqual(['5', '4', '3', '2', '1']);
        expect((await s.listWorkflows({ namespace: 'data', name: 'etl', limit: 10 })).length).toBe(3);
        expect((await s.listWorkflows({ namespaces: ['ops'], limit: 10 })).map((w) => w.name)).toEqual([
          'deploy',
        ]);
        expect(await s.listWorkflows({ namespaces: [], limit: 10 })).toEqual([]);
        const page = await s.listWorkflows({ limit: 2, beforeSeq: all[1]!.seq });
        expect(page.map((w) => w.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
        expect((await s.latestWorkflow('data', 'etl'))?.digest).toBe(workflow('etl', 'data', 3).digest);
        expect(await s.latestWorkflow('data', 'nothing')).toBeUndefined();
        expect(await s.getWorkflow('sha256:none')).toBeUndefined();
      }));

    it('keeps a plan’s layout once per plan and version, read back after re-opening', async () => {
      const db = await harness.database();
      const a = await db.open();
      const layout = { planDigest: 'sha256:p1', version: 1, layout: '{"width":10}', createdAt: 1000 };
      expect(await a.getPlanLayout('sha256:p1', 1)).toBeUndefined();
      await a.putPlanLayout(layout);
      await a.putPlanLayout({ ...layout, layout: '{"width":99}', createdAt: 2000 }); // the first stays
      await a.close();
      const again = await db.open();
      try {
        expect(await again.getPlanLayout('sha256:p1', 1)).toEqual(layout);
        expect(await again.getPlanLayout('sha256:p1', 2)).toBeUndefined(); // another layout version
      } finally {
        await again.close();
      }
    });

    it('keeps one approval per run and approver (case-insensitive) and one grant per run, append-only', () =>
      withStore(harness, async (s, db) => {
        const approval = (approver: string, digest: string, at: number) => ({
          runId: 'r-1',
          approver,
          digest,
          bundle: { dsseEnvelope: { payload: digest } },
          approvedAt: at,
        });
        expect(await s.putApproval(approval('Alice', 'sha256:a1', 1000))).toEqual({
          created: true,
          approval: approval('Alice', 'sha256:a1', 1000),
        });
        const again = await s.putApproval(approval('alice', 'sha256:a2', 2000));
        expect(again).toEqual({ created: false, approval: approval('Alice', 'sha256:a1', 1000) });
        await s.putApproval(approval('bob', 'sha256:b1', 1500));
        await s.putApproval({ ...approval('carol', 'sha256:c1', 1200), runId: 'r-2' });
        expect((await s.listApprovals('r-1')).map((a) => a.approver)).toEqual(['Alice', 'bob']);
        expect(await s.getGrant('r-1')).toBeUndefined();
        const grant = { runId: 'r-1', digest: 'sha256:g1', bundle: { g: 1 }, grantedAt: 3000 };
        expect(await s.putGrant(grant)).toEqual(grant);
        expect(await s.putGrant({ ...grant, digest: 'sha256:g2' })).toEqual(grant);
        expect(await s.getGrant('r-1')).toEqual(grant);
        const p = db.tablePrefix;
        await expect(db.sql(`UPDATE ${p}run_approvals SET approver = 'mallory'`)).rejects.toThrow(
          /append-only/,
        );
        await expect(db.sql(`DELETE FROM ${p}run_approvals`)).rejects.toThrow(/append-only/);
        await expect(db.sql(`UPDATE ${p}run_approval_grants SET digest = 'x'`)).rejects.toThrow(
          /append-only/,
        );
        await expect(db.sql(`DELETE FROM ${p}run_approval_grants`)).rejects.toThrow(/append-only/);
      }));

    it('stores an SBOM with its components once, finds them by name, and looks the SBOM up', () =>
      withStore(harness, async (s) => {
        const release = {
          digest: 'sha256:release-sbom',
          kind: 'release' as const,
          subject: 'summit-maestro',
          version: '0.2.0',
          subjectDigest: 'sha256:package',
          document: '{"bomFormat":"CycloneDX"}',
          createdAt: 1000,
        };
        const image = { ...release, digest: 'sha256:image-sbom', kind: 'image' as const, version: null };
        Object.assign(image, {
          subject: '127.0.0.1:5000/maestro',
          subjectDigest: 'sha256:manifest',
          createdAt: 2000,
        });
        const semver = { name: 'semver', version: '7.8.6', type: 'library', purl: 'pkg:npm/semver@7.8.6' };
        const sign = { name: 'sign', group: '@sigstore', version: '4.1.1', type: 'library' };
        expect(await s.putSbom(release, [semver, sign, semver])).toEqual({ created: true });
        expect(await s.putSbom(release, [semver])).toEqual({ created: false });
        await s.putSbom(image, [{ ...semver, version: '7.5.4', purl: 'pkg:npm/semver@7.5.4' }]);
        const found = await s.findSbomComponents('semver');
        expect(found.map((m) => [m.sbom.subject, m.sbom.kind, m.component.version])).toEqual([
          ['127.0.0.1:5000/maestro', 'image', '7.5.4'],
          ['summit-maestro', 'release', '7.8.6'],
        ]);
        expect(found[1]!.sbom).toEqual({
          digest: release.digest,
          kind: 'release',
          subject: 'summit-maestro',
          version: '0.2.0',
          subjectDigest: 'sha256:package',
          createdAt: 1000,
        });
        expect((await s.findSbomComponents('@sigstore/sign'))[0]!.component).toEqual(sign);
        expect(await s.findSbomComponents('left-pad')).toEqual([]);
        expect((await s.getSbom({ releaseVersion: '0.2.0' }))?.document).toBe(release.document);
        expect((await s.getSbom({ subjectDigest: 'sha256:manifest' }))?.digest).toBe('sha256:image-sbom');
        expect((await s.getSbom({ digest: 'sha256:release-sbom' }))?.kind).toBe('release');
        expect(await s.getSbom({ releaseVersion: '9.9.9' })).toBeUndefined();
        expect(await s.getSbom({})).toBeUndefined();
      }));

    it('claims an idempotency key once per token, even when two replicas race', async () => {
      const db = await harness.database();
      const [a, b] = [await db.open(), await db.open()];
      try {
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? a : b).claimIdempotencyKey('k', 'tok-1', 'sha256:body', `run-${i}`, 1000),
          ),
        );
        expect(claims.filter((c) => c.fresh)).toHaveLength(1);
        expect(new Set(claims.map((c) => c.runId)).size).toBe(1);
        const other = await a.claimIdempotencyKey('k', 'tok-2', 'sha256:other', 'run-x', 1000);
        expect(other).toEqual({ runId: 'run-x', bodyDigest: 'sha256:other', fresh: true });
        await b.releaseIdempotencyKey('k', 'tok-1');
        expect((await a.claimIdempotencyKey('k', 'tok-1', 'sha256:new', 'run-y', 2000)).fresh).toBe(true);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
