/**
 * The auth sweep: every route of the committed OpenAPI document that names a scope, called with
 * no token, a malformed one, a revoked one, an expired one, one without the scope and one limited
 * to another namespace; then with a right token, so the sweep cannot pass by refusing everything.
 * A route added to the route table is swept without touching this file (a request for it is
 * needed below, or the coverage check at the end fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES, type Scope } from '../../api/index.ts';
import { HELLO, openapi, startApi, type ApiHarness, type CallOptions } from './api-harness.ts';

let api: ApiHarness;
let digest: string;
let runId: string;

/** A request that would succeed for each operation, aimed at the namespace `quickstart`. */
function requestFor(operationId: string): CallOptions {
  const run = { params: { id: runId } };
  const table: Record<string, CallOptions> = {
    createWorkflow: { raw: HELLO, contentType: 'application/yaml' },
    listWorkflows: { query: { namespace: 'quickstart' } },
    getWorkflow: { params: { digest } },
    createRun: { body: { workflow: digest } },
    triggerRunbook: {
      params: { namespace: 'quickstart', name: 'hello' },
      body: {
        correlationId: 'sweep',
        purpose: 'sweep',
        authority: 'ops',
        license: 'internal',
        contractVersion: 3,
      },
    },
    listRuns: { query: { namespace: 'quickstart' } },
    getRun: run,
    cancelRun: run,
    retryRun: run,
    approveRun: run,
    approveTask: { params: { id: runId, taskId: 'hello' } },
    listReceipts: run,
    getDisclosure: run,
    listRunDecisions: run,
    listTransitions: run,
    getRunGraph: run,
    streamLogs: run,
    metrics: {},
    createSession: {},
    getSession: {},
    deleteSession: {},
    streamEvents: { query: { namespace: 'quickstart' }, headOnly: true },
    listVerificationKeys: {},
    querySbom: { query: { component: 'semver' } },
    putBudget: {
      params: { namespace: 'quickstart' },
      body: { limit: 1000, currency: 'USD', period: 'month' },
    },
    getBudget: { params: { namespace: 'quickstart' } },
    listBudgets: { query: { namespace: 'quickstart' } },
    getUsage: { query: { namespace: 'quickstart' } },
  };
  const request = table[operationId];
  if (!request) throw new Error(`the sweep has no request for ${operationId}: add one`);
  return request;
}

const secured = Object.entries(openapi.paths).flatMap(([path, methods]) =>
  Object.entries(methods)
    .filter(([, op]) => op['x-maestro-scope'] !== null)
    .map(([method, op]) => ({
      path,
      method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
      scope: op['x-maestro-scope'] as Scope,
      operationId: (op as unknown as { operationId: string }).operationId,
      allNamespaces: op['x-maestro-all-namespaces'] === true,
      namespaceFree: op['x-maestro-namespace-free'] === true,
    })),
);

beforeAll(async () => {
  api = await startApi({ runbooks: 'namespaces: { quickstart: [hello] }\n' });
  digest = (await api.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' })).body
    .digest;
  runId = (await api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
  await api.settle(runId);
});
afterAll(async () => api?.close());

describe('every secured route in openapi.json', () => {
  it('covers every route but the health routes', () => {
    const open = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.values(methods)
        .filter((op) => op['x-maestro-scope'] === null)
        .map(() => path),
    );
    expect(open.sort()).toEqual(['/healthz', '/readyz']);
    expect(secured.length).toBeGreaterThanOrEqual(10);
  });

  it('answers 401 without a token, with a malformed, a revoked and an expired token', async () => {
    const revoked = await api.mint([...SCOPES]);
    const id = (await api.apiStore.listTokens()).at(-1)!.id;
    await api.apiStore.revokeToken(id, Date.now());
    const expired = await api.mint([...SCOPES], { now: Date.now() - 10_000, ttlMs: 1000 });
    const bad = {
      none: null,
      malformed: 'mst_not-a-token',
      'bad checksum': `${api.token.slice(0, -1)}${api.token.endsWith('A') ? 'B' : 'A'}`,
      revoked,
      expired,
    };
    for (const route of secured)
      for (const [what, token] of Object.entries(bad)) {
        const answer = await api.call(route.method, route.path, { ...requestFor(route.operationId), token });
        expect(answer.status, `${route.method} ${route.path} with ${what}`).toBe(401);
        expect(answer.body.code).toBe('unauthorized');
      }
  });

  it('answers 403 with a token that lacks the scope, and with one limited to another namespace', async () => {
    for (const route of secured) {
      const others = SCOPES.filter((s) => s !== route.scope && s !== 'admin');
      const wrongScope = await api.mint(others);
      const scoped = await api.call(route.method, route.path, {
        ...requestFor(route.operationId),
        token: wrongScope,
      });
      expect(scoped.status, `${route.method} ${route.path} without ${route.scope}`).toBe(403);
      expect(scoped.body.code).toBe('forbidden_scope');
      const elsewhere = await api.mint([route.scope], { namespaces: ['data'] });
      const ns = await api.call(route.method, route.path, {
        ...requestFor(route.operationId),
        token: elsewhere,
      });
      if (route.namespaceFree) {
        // A route about no namespace (the session's) lets a token limited to some through.
        expect([401, 403], `${route.method} ${route.path} from namespace data`).not.toContain(ns.status);
        continue;
      }
      expect(ns.status, `${route.method} ${route.path} from namespace data`).toBe(403);
      expect(ns.body.code).toBe('forbidden_namespace');
    }
  });

  it('lets the right token through (scope and namespace), and admin everywhere', async () => {
    for (const route of secured) {
      // A route about every namespace (the metrics) takes only a token limited to none.
      const right = await api.mint([route.scope], route.allNamespaces ? {} : { namespaces: ['quickstart'] });
      for (const token of [right, await api.mint(['admin'])]) {
        const answer = await api.call(route.method, route.path, { ...requestFor(route.operationId), token });
        expect([401, 403], `${route.method} ${route.path}`).not.toContain(answer.status);
      }
    }
  });

  it('limits lists to the token’s namespaces when no namespace is asked for', async () => {
    const elsewhere = await api.mint(['runs:read', 'workflows:read'], { namespaces: ['data'] });
    const runs = await api.call('GET', '/v1/runs', { token: elsewhere });
    expect(runs).toMatchObject({ status: 200, body: { items: [] } });
    const workflows = await api.call('GET', '/v1/workflows', { token: elsewhere });
    expect(workflows).toMatchObject({ status: 200, body: { items: [] } });
  });
});
