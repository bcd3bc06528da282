/**
 * Approval-gated workflows through the REST API, over real HTTP against the real server (the
 * harness checks every request and answer against openapi.json), with the engine's store on
 * SQLite and on a real PostgreSQL: a gated run waits in waiting_for_approval and starts only once
 * the workflow's `approvals` rule is met by approvals from tokens with `approvals:write`, each
 * signed by the server with the approval key and bound to the run. The attacks: the starter
 * approving their own run, an approver outside `from:`, a token of another namespace, an
 * approval replayed for another run, a token without a user.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../api/index.ts';
import { signRunApproval } from '../../provenance/index.ts';
import { verifyBundle } from '../../provenance/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { sqlOn } from '../store-contract/sql-on.ts';
import { runCaptured } from '../cli-helpers.ts';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

const TEAMS = 'teams:\n  ops: [alice, bob, carol]\n  sre: [dana]\n';
const APPROVE: Scope[] = ['approvals:write', 'runs:read'];
const START: Scope[] = ['runs:write', 'runs:read', 'workflows:write', 'workflows:read'];

function gated(name: string, required: number, from: string): string {
  return manifest(
    name,
    '    - id: a\n      run: "true"\n',
    `  approvals:\n    required: ${required}\n    from: ${from}\n`,
  );
}

const payloadOf = (bundle: unknown) =>
  JSON.parse(
    Buffer.from((bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString(
      'utf8',
    ),
  ) as { predicateType: string; predicate: Record<string, unknown> };

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`approvals through the API (${store})`, () => {
    let api: ApiHarness;
    let pg: PostgresServer | undefined;
    let databaseUrl: string | undefined;
    /** Raw SQL on the API store's database, outside the server (the attacker's write). */
    const sql = async (statement: string) => {
      if (databaseUrl) return sqlOn(databaseUrl)(statement);
      const db = new DatabaseSync(join(api.dataDir, 'api.sqlite'));
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    };
    let starter: string;
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      pg = store === 'postgres' ? await startPostgres() : undefined;
      databaseUrl = pg?.createDatabase('api_approvals');
      api = await startApi({
        ...(databaseUrl ? { databaseUrl } : {}),
        teams: TEAMS,
      });
      starter = await api.mint(START, { user: 'erin' });
      for (const user of ['alice', 'bob', 'carol', 'dana', 'mallory'])
        tokens[user] = await api.mint(APPROVE, { user });
    });
    afterAll(async () => {
      await api?.close();
      pg?.stop();
    });

    const post = async (text: string) =>
      (
        await api.call('POST', '/v1/workflows', {
          raw: text,
          contentType: 'application/yaml',
          token: starter,
        })
      ).body.digest as string;
    const start = async (digest: string, token = starter) =>
      api.call('POST', '/v1/runs', { body: { workflow: digest }, token });
    const approve = (id: string, token: string) =>
      api.call('POST', '/v1/runs/{id}/approvals', { params: { id }, token });
    const show = async (id: string) => (await api.call('GET', '/v1/runs/{id}', { params: { id } })).body;

    it('waits, then runs once the rule is met, with signed approvals the receipts cite', async () => {
      const digest = await post(gated('deploy', 1, '[team:ops]'));
      const created = await start(digest);
      expect(created).toMatchObject({ status: 202, body: { status: 'waiting_for_approval' } });
      const id = created.body.id as string;
      // An ungated run started after it finishes first: the gated one is still waiting.
      const plain = await post(manifest('plain', '    - id: a\n      run: "true"\n'));
      await api.settle((await start(plain)).body.id);
      expect(await show(id)).toMatchObject({
        run: { status: 'waiting_for_approval', reason: 'approval_required' },
        approvals: [],
        approvalDigest: null,
      });
      expect((await show(id)).tasks[0].attempts).toEqual([]);

      const answer = await approve(id, tokens.alice!);
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ satisfied: true, required: 1, approval: { approver: 'alice' } });
      const settled = await api.settle(id);
      expect(settled.body.run.status).toBe('succeeded');
      const detail = settled.body;
      expect(detail.approvals).toHaveLength(1);
      expect(detail.approvals[0]).toMatchObject({ approver: 'alice', planDigest: digest, sourceSha: null });
      expect(detail.approvalDigest).toBe(answer.body.approvalDigest);

      // The approval verifies under the server's approval key and binds this run and plan.
      const publicKey = api.runtime.approvalSigner!.publicKeyPem!;
      const verified = verifyBundle(detail.approvals[0].bundle, { publicKey });
      expect(verified.payloadDigest).toBe(detail.approvals[0].digest);
      expect(payloadOf(detail.approvals[0].bundle)).toMatchObject({
        predicateType: 'https://summit-maestro.dev/attestations/run-approval/v1',
        predicate: { runId: id, planDigest: digest, approver: 'alice', sourceSha: null },
      });
      // The receipts cite the grant, which cites alice's approval.
      const receipts = (await api.call('GET', '/v1/runs/{id}/receipts', { params: { id } })).body as {
        bundle: unknown;
      }[];
      expect(receipts.length).toBeGreaterThan(0);
      for (const r of receipts)
        expect(JSON.stringify(payloadOf(r.bundle).predicate)).toContain(detail.approvalDigest);
      const transitions = (await api.call('GET', '/v1/runs/{id}/transitions', { params: { id } })).body.items;
      expect(
        transitions.filter((t: { task: string | null }) => t.task === null).map((t: { to: string }) => t.to),
      ).toEqual(['waiting_for_approval', 'queued', 'running', 'succeeded']);
    });

    it('counts the same approver once (201, then 200) and starts at the second person', async () => {
      const digest = await post(gated('deploy-two', 2, '[team:ops, team:sre]'));
      const id = (await start(digest)).body.id as string;
      const first = await approve(id, tokens.alice!);
      const again = await approve(id, tokens.alice!);
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body.approval.digest).toBe(first.body.approval.digest);
      expect(again.body).toMatchObject({ satisfied: false, approvals: [{ approver: 'alice' }] });
      expect((await show(id)).run.status).toBe('waiting_for_approval');
      const second = await approve(id, tokens.dana!);
      expect(second.body).toMatchObject({ satisfied: true });
      expect((await api.settle(id)).body.run.status).toBe('succeeded');
      // After the start, a repeat is still the same approval, not a new one.
      expect((await approve(id, tokens.dana!)).status).toBe(200);
    });

    it('refuses the starter, even with another token of theirs (403 approver_is_starter)', async () => {
      const digest = await post(gated('self', 1, '[erin, alice]'));
      const id = (await start(digest)).body.id as string;
      const own = await api.mint(['approvals:write'], { user: 'erin' });
      const answer = await approve(id, own);
      expect(answer).toMatchObject({ status: 403, body: { code: 'approver_is_starter' } });
      expect(await show(id)).toMatchObject({ run: { status: 'waiting_for_approval' }, approvals: [] });
    });

    it('refuses an approver outside from: (403 approver_not_allowed)', async () => {
      const digest = await post(gated('ops-only', 1, '[team:ops]'));
      const id = (await start(digest)).body.id as string;
      const answer = await approve(id, tokens.mallory!);
      expect(answer).toMatchObject({ status: 403, body: { code: 'approver_not_allowed' } });
      expect(await show(id)).toMatchObject({ run: { status: 'waiting_for_approval' }, approvals: [] });
    });

    it('refuses a token of another namespace (403 forbidden_namespace) and an unknown run (404)', async () => {
      const digest = await post(gated('scoped', 1, '[team:ops]'));
      const id = (await start(digest)).body.id as string;
      const elsewhere = await api.mint(APPROVE, { user: 'alice', namespaces: ['other'] });
      expect(await approve(id, elsewhere)).toMatchObject({
        status: 403,
        body: { code: 'forbidden_namespace' },
      });
      expect(await approve('r-nope', tokens.alice!)).toMatchObject({
        status: 404,
        body: { code: 'run_not_found' },
      });
      expect(await show(id)).toMatchObject({ run: { status: 'waiting_for_approval' }, approvals: [] });
    });

    it('refuses a token without a user (403 approver_unknown), even where from: allows anyone', async () => {
      const digest = await post(gated('anyone', 1, '[]'));
      const id = (await start(digest)).body.id as string;
      // What `maestro tokens create` without --user makes: it acts as token:<name>.
      const nobody = await api.mint(APPROVE, { user: 'token:ci' });
      expect(await approve(id, nobody)).toMatchObject({ status: 403, body: { code: 'approver_unknown' } });
      expect(await approve(id, await api.mint(APPROVE, { user: 'erin' }))).toMatchObject({
        status: 403,
        body: { code: 'approver_is_starter' },
      });
      expect(await show(id)).toMatchObject({ run: { status: 'waiting_for_approval' }, approvals: [] });
      // Anyone else holding approvals:write may approve it.
      expect((await approve(id, tokens.mallory!)).body).toMatchObject({ satisfied: true });
      expect((await api.settle(id)).body.run.status).toBe('succeeded');
    });

    it('does not count an approval replayed from another run: the attestation binds the run id', async () => {
      const digest = await post(gated('replayed', 2, '[team:ops]'));
      const a = (await start(digest)).body.id as string;
      const b = (await start(digest)).body.id as string;
      await approve(a, tokens.alice!);
      await approve(a, tokens.bob!);
      expect((await api.settle(a)).body.run.status).toBe('succeeded');
      // Alice's signed approval of run A, put among run B's (a tampered store, or a replay).
      const table = pg ? 'api_run_approvals' : 'run_approvals';
      await sql(
        `INSERT INTO ${table} (run_id, approver_key, approver, digest, bundle, approved_at)
         SELECT '${b}', approver_key, approver, digest, bundle, approved_at FROM ${table}
         WHERE run_id = '${a}' AND approver_key = 'alice'`,
      );
      expect((await show(b)).approvals).toMatchObject([{ approver: 'alice' }]);
      const carol = await approve(b, tokens.carol!);
      expect(carol.status).toBe(201);
      expect(carol.body).toMatchObject({ satisfied: false, approvalDigest: null });
      expect((await show(b)).run.status).toBe('waiting_for_approval');
    });

    it('stops counting an approval after the TTL (7 days by default), signed time and all', async () => {
      const digest = await post(gated('stale', 2, '[team:ops]'));
      const id = (await start(digest)).body.id as string;
      // Bob's approval, signed by the server's own key eight days ago (as if it had sat there).
      const run = await api.runtime.store.getRun(id);
      const approvedAt = Date.now() - 8 * 24 * 3_600_000;
      const signed = await signRunApproval(
        {
          runId: id,
          namespace: run.namespace,
          workflow: run.workflow,
          planDigest: run.planDigest,
          sourceSha: null,
          sourceRepo: null,
          approver: 'bob',
          approvedAt: new Date(approvedAt).toISOString(),
        },
        api.runtime.approvalSigner!,
      );
      await api.apiStore.putApproval({
        runId: id,
        approver: 'bob',
        digest: signed.digest,
        bundle: signed.bundle,
        approvedAt,
      });
      const alice = await approve(id, tokens.alice!);
      expect(alice.body).toMatchObject({ satisfied: false, approvalDigest: null });
      expect(alice.body.approvals.map((a: { approver: string }) => a.approver).sort()).toEqual([
        'alice',
        'bob',
      ]);
      expect((await show(id)).run.status).toBe('waiting_for_approval');
      expect((await approve(id, tokens.carol!)).body).toMatchObject({ satisfied: true });
      expect((await api.settle(id)).body.run.status).toBe('succeeded');
    });

    it('approves from the CLI: maestro runs approve <run> --server, the starter refused', async () => {
      const digest = await post(gated('from-cli', 1, '[team:ops]'));
      const id = (await start(digest)).body.id as string;
      const cli = (token: string) =>
        runCaptured(['runs', 'approve', id, '--server', api.url], api.dataDir, {
          HOME: api.dataDir,
          MAESTRO_TOKEN: token,
        });
      const own = await cli(await api.mint(APPROVE, { user: 'erin' }));
      expect(own.code).not.toBe(0);
      expect(own.stderr).toMatch(/erin started run r-[0-9a-f-]+ and cannot approve it/);
      const ok = await cli(tokens.bob!);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(
        new RegExp(`^run ${id} approved by bob \\(sha256:[0-9a-f]{64}\\); the rule is met: queued`),
      );
      expect((await api.settle(id)).body.run.status).toBe('succeeded');
    });

    it('answers 409 run_not_waiting for a run that is not waiting; cancels a waiting run, whose retry is refused', async () => {
      const plain = await post(manifest('plain-2', '    - id: a\n      run: "true"\n'));
      const done = (await start(plain)).body.id as string;
      await api.settle(done);
      expect(await approve(done, tokens.alice!)).toMatchObject({
        status: 409,
        body: { code: 'run_not_waiting' },
      });

      const digest = await post(gated('cancelled', 1, '[team:ops]'));
      const id = (await start(digest)).body.id as string;
      const cancelled = await api.call('POST', '/v1/runs/{id}/cancel', { params: { id }, token: starter });
      expect(cancelled).toMatchObject({ status: 200, body: { run: { status: 'cancelled' } } });
      expect(await approve(id, tokens.alice!)).toMatchObject({
        status: 409,
        body: { code: 'run_not_waiting' },
      });
      const retried = await api.call('POST', '/v1/runs/{id}/retry', { params: { id }, token: starter });
      expect(retried).toMatchObject({ status: 409, body: { code: 'run_not_approved' } });
      expect((await show(id)).run.status).toBe('cancelled');
    });
  });
}
