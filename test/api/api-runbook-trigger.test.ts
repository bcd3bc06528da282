/**
 * POST /v1/runbooks/{namespace}/{name}/trigger over real HTTP against the real server, the real
 * OPA bundle (the default policy) and the real SQLite decision log: an allow-listed runbook runs;
 * a runbook not on the allow-list, one allowed only in another namespace, a token of another
 * namespace or without runbooks:trigger, and a request the policy denies are refused with 403
 * and create no run; every policy decision lands in the decision log. Against the code before
 * this route the attacks were "refused" only because the route did not exist (404
 * route_not_found), so each test also checks the success path it guards.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerRunbook } from '../../sig/index.ts';
import { HELLO, manifest, startApi, type ApiHarness } from './api-harness.ts';

const PATH = '/v1/runbooks/{namespace}/{name}/trigger';
const RUNBOOKS = `namespaces:
  quickstart: [hello, fetch, fetch-secret]
  ops: [rollback]
`;
const ROLLBACK = manifest('rollback', `    - id: step\n      run: echo rolled back\n`);
const body = {
  contractVersion: 3,
  correlationId: 'sig-req-42',
  purpose: 'incident response',
  authority: 'ops:on-call',
  license: 'internal',
  params: { who: 'sig' },
};

// An http task whose host comes from a param, and one whose host only a secret knows.
const FETCH = manifest(
  'fetch',
  `    - id: get\n      uses: tasks/http@1\n      with: { url: "\${params.target}" }\n`,
  `  params:\n    target: { type: string, default: "none" }\n`,
);
const FETCH_SECRET = manifest(
  'fetch-secret',
  `    - id: get\n      uses: tasks/http@1\n      with: { url: "\${secrets.TARGET_URL}" }\n`,
);

let api: ApiHarness;
let trigger: string;
// The loopback receiver the allowed fetch contacts (127.0.0.1 is on the default allow-list).
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];

interface LogRow {
  decision_id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  allow: number;
  reasons: string;
}

function decisionsOf(runId: string): LogRow[] {
  const db = new DatabaseSync(join(api.dataDir, 'maestro.db'), { readOnly: true });
  try {
    return db
      .prepare(
        'SELECT decision_id, run_id, task_id, attempt, allow, reasons FROM policy_decision_log WHERE run_id = ?',
      )
      .all(runId) as unknown as LogRow[];
  } finally {
    db.close();
  }
}

async function runCount(): Promise<number> {
  return (await api.call('GET', '/v1/runs', { query: { limit: 500 } })).body.items.length;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    received.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  api = await startApi({ runbooks: RUNBOOKS });
  for (const yaml of [HELLO, ROLLBACK, FETCH, FETCH_SECRET])
    expect(
      (await api.call('POST', '/v1/workflows', { raw: yaml, contentType: 'application/yaml' })).status,
    ).toBe(201);
  trigger = await api.mint(['runbooks:trigger'], { user: 'sig', namespaces: ['quickstart'] });
});
afterAll(async () => {
  await api?.close();
  receiver?.close();
});

describe('POST /v1/runbooks/{namespace}/{name}/trigger', () => {
  it('runs an allow-listed runbook after the policy allows it, and logs the decisions', async () => {
    const answer = await api.call('POST', PATH, {
      token: trigger,
      params: { namespace: 'quickstart', name: 'hello' },
      body,
    });
    expect(answer).toMatchObject({ status: 202, body: { status: 'queued', correlationId: 'sig-req-42' } });
    const runId = answer.body.runId as string;
    const done = await api.settle(runId);
    expect(done.body.run).toMatchObject({ status: 'succeeded', actor: 'sig', workflow: 'hello' });
    expect(done.body.params).toMatchObject({ who: 'sig' });
    const atTrigger = decisionsOf(runId).filter((d) => d.attempt === 0);
    expect(atTrigger.map((d) => d.task_id).sort()).toEqual(['greet', 'measure', 'report', 'shout']);
    expect(atTrigger.every((d) => d.allow === 1)).toBe(true);
    expect(atTrigger.map((d) => d.decision_id)).toContain(answer.body.decisionId);
  });

  it('takes a v1 body (requestId, no contractVersion) and answers without a correlationId', async () => {
    const { contractVersion: _v, correlationId: _c, ...v1 } = body;
    const answer = await api.call('POST', PATH, {
      token: trigger,
      params: { namespace: 'quickstart', name: 'hello' },
      body: { ...v1, requestId: 'sig-req-1' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body).not.toHaveProperty('correlationId');
    await api.settle(answer.body.runId);
  });

  it('is what the SIG client triggerRunbook speaks, at v3 and at v1', async () => {
    const conn = { baseUrl: api.url, token: trigger };
    const ref = { namespace: 'quickstart', name: 'hello' };
    const request = { correlationId: 'sig-client', purpose: 'drill', authority: 'ops', license: 'MIT' };
    const v3 = await triggerRunbook(conn, ref, request);
    expect(v3).toMatchObject({ status: 'queued', correlationId: 'sig-client' });
    const v1 = await triggerRunbook(conn, ref, request, 1);
    expect(v1.status).toBe('queued');
    for (const r of [v3, v1]) expect((await api.settle(r.runId)).body.run.status).toBe('succeeded');
  });

  it('refuses 403 a runbook the policy denies, with the reason, a logged deny and no run', async () => {
    const before = await runCount();
    const answer = await api.call('POST', PATH, {
      token: trigger,
      params: { namespace: 'quickstart', name: 'hello' },
      body: { ...body, license: 'WTFPL' },
    });
    expect(answer).toMatchObject({ status: 403, body: { code: 'policy_denied' } });
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body.detail).toContain('license "WTFPL" is not on the allow-list');
    const decisionId = /decision ([0-9a-f-]+)/.exec(answer.body.detail)![1]!;
    const db = new DatabaseSync(join(api.dataDir, 'maestro.db'), { readOnly: true });
    const row = db
      .prepare('SELECT run_id, allow, reasons FROM policy_decision_log WHERE decision_id = ?')
      .get(decisionId) as { run_id: string; allow: number; reasons: string };
    db.close();
    expect(row.allow).toBe(0);
    expect(row.reasons).toContain('WTFPL');
    expect(decisionsOf(row.run_id).every((d) => d.allow === 0)).toBe(true);
    expect(await runCount()).toBe(before);
    expect((await api.call('GET', '/v1/runs/{id}', { params: { id: row.run_id } })).status).toBe(404);
  });

  it('judges the hosts the params name: an allowed host runs, another is refused with no run', async () => {
    const fetch = { namespace: 'quickstart', name: 'fetch' };
    const allowed = await api.call('POST', PATH, {
      token: trigger,
      params: fetch,
      body: { ...body, params: { target: `${receiverUrl}/runbook` } },
    });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(202);
    expect((await api.settle(allowed.body.runId)).body.run.status).toBe('succeeded');
    expect(received).toContain('/runbook');

    const before = await runCount();
    const exfil = await api.call('POST', PATH, {
      token: trigger,
      params: fetch,
      body: { ...body, params: { target: 'http://exfil.example.net/x' } },
    });
    expect(exfil).toMatchObject({ status: 403, body: { code: 'policy_denied' } });
    expect(exfil.body.detail).toContain('contacts host exfil.example.net');
    expect(await runCount()).toBe(before);
  });

  it('still refuses a host only a secret knows, and an unknown param by name', async () => {
    const before = await runCount();
    const secret = await api.call('POST', PATH, {
      token: trigger,
      params: { namespace: 'quickstart', name: 'fetch-secret' },
      body: { ...body, params: {} },
    });
    expect(secret).toMatchObject({ status: 403, body: { code: 'policy_denied' } });
    expect(secret.body.detail).toContain('target hosts are unknown');
    const typo = await api.call('POST', PATH, {
      token: trigger,
      params: { namespace: 'quickstart', name: 'fetch' },
      body: { ...body, params: { tagret: 'http://127.0.0.1/' } },
    });
    expect(typo.status).toBeGreaterThanOrEqual(400);
    expect(typo.status).toBeLessThan(500);
    expect(typo.body.detail).toContain('tagret');
    expect(await runCount()).toBe(before);
  });

  it('refuses 403 a runbook not on the allow-list, and one allowed only in another namespace', async () => {
    const before = await runCount();
    const admin = await api.mint(['admin']);
    // quickstart/rollback is stored, but only ops lists rollback.
    for (const [token, name] of [
      [trigger, 'rollback'],
      [admin, 'rollback'],
      [trigger, 'not-stored'],
    ] as const) {
      const answer = await api.call('POST', PATH, { token, params: { namespace: 'quickstart', name }, body });
      expect(answer, name).toMatchObject({ status: 403, body: { code: 'runbook_not_allowed' } });
    }
    // Allow-listed in ops, but no workflow ops/rollback is stored: 404, nothing started.
    const ops = await api.call('POST', PATH, {
      token: admin,
      params: { namespace: 'ops', name: 'rollback' },
      body,
    });
    expect(ops).toMatchObject({ status: 404, body: { code: 'runbook_not_found' } });
    expect(await runCount()).toBe(before);
  });

  it('refuses a token of another namespace, and one without runbooks:trigger', async () => {
    const elsewhere = await api.mint(['runbooks:trigger'], { namespaces: ['ops'] });
    const ns = await api.call('POST', PATH, {
      token: elsewhere,
      params: { namespace: 'quickstart', name: 'hello' },
      body,
    });
    expect(ns).toMatchObject({ status: 403, body: { code: 'forbidden_namespace' } });
    const runsWriter = await api.mint(['runs:write', 'workflows:write']);
    const scope = await api.call('POST', PATH, {
      token: runsWriter,
      params: { namespace: 'quickstart', name: 'hello' },
      body,
    });
    expect(scope).toMatchObject({ status: 403, body: { code: 'forbidden_scope' } });
    // And the trigger token cannot start a stored workflow the other way.
    const direct = await api.call('POST', '/v1/runs', {
      token: trigger,
      body: { workflow: { namespace: 'quickstart', name: 'rollback' } },
    });
    expect(direct).toMatchObject({ status: 403, body: { code: 'forbidden_scope' } });
  });

  it('checks the body against the runbook-trigger contract (v3) before anything else', async () => {
    for (const bad of [
      { ...body, purpose: undefined },
      { purpose: 'p', authority: 'a', license: 'internal' }, // neither requestId nor correlationId
      { ...body, contractVersion: 4 },
      { ...body, extra: true },
    ]) {
      const raw = JSON.stringify(bad);
      const answer = await api.call('POST', PATH, {
        token: trigger,
        params: { namespace: 'quickstart', name: 'hello' },
        raw,
      });
      expect(answer, raw).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    }
  });
});

describe('without MAESTRO_RUNBOOKS_FILE', () => {
  it('triggers nothing (fail closed)', async () => {
    const bare = await startApi();
    try {
      expect(
        (await bare.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' })).status,
      ).toBe(201);
      const answer = await bare.call('POST', PATH, {
        token: await bare.mint(['runbooks:trigger']),
        params: { namespace: 'quickstart', name: 'hello' },
        body,
      });
      expect(answer).toMatchObject({ status: 403, body: { code: 'runbook_not_allowed' } });
    } finally {
      await bare.close();
    }
  });
});
