/**
 * `maestro server`'s API over real HTTP (Fastify on 127.0.0.1, the real runtime: SQLite, the
 * default OPA policy, the local runner in its sandbox, signed receipts). Every request and answer
 * is checked against docs/reference/openapi.json by the harness.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/index.ts';
import { captureIo } from '../cli-helpers.ts';
import { HELLO, manifest, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const postYaml = (text: string) =>
  api.call('POST', '/v1/workflows', { raw: text, contentType: 'application/yaml' });

describe('workflows', () => {
  it('stores a manifest once: 201 with its digest, then 200 with the same digest (YAML or JSON body)', async () => {
    const first = await postYaml(HELLO);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'hello', namespace: 'quickstart', diagnostics: [] });
    expect(first.body.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.body.plan).toMatchObject({ digest: first.body.digest });
    const again = await postYaml(HELLO);
    expect(again).toMatchObject({ status: 200, body: { digest: first.body.digest } });
    const asJson = await api.call('POST', '/v1/workflows', { body: { manifest: HELLO } });
    expect(asJson).toMatchObject({ status: 200, body: { digest: first.body.digest } });
    const detail = await api.call('GET', '/v1/workflows/{digest}', { params: { digest: first.body.digest } });
    expect(detail.status).toBe(200);
    expect(detail.body.manifest).toBe(HELLO);
    expect(detail.body.plan.digest).toBe(first.body.digest);
  });

  it('answers an invalid manifest 422 with exactly the diagnostics of `maestro validate --format json`', async () => {
    const bad = manifest('broken', '    - id: a\n      run: true\n      bogus: 1\n');
    const answer = await postYaml(bad);
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('manifest_invalid');
    const dir = mkdtempSync(join(tmpdir(), 'api-validate-'));
    try {
      writeFileSync(join(dir, 'broken.yaml'), bad);
      const io = captureIo(dir);
      await runCli(['validate', 'broken.yaml', '--format', 'json'], io);
      const cli = JSON.parse(io.out()) as { files: { diagnostics: unknown[] }[] };
      expect(answer.body.diagnostics).toEqual(cli.files[0]!.diagnostics);
      expect(answer.body.diagnostics.map((d: { code: string }) => d.code)).toContain('MS1002');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Nothing half-stored: the broken manifest is not listed.
    const list = await api.call('GET', '/v1/workflows', { query: { name: 'broken' } });
    expect(list.body.items).toEqual([]);
  });

  it('with dryRun=true answers the diagnostics and stores nothing (maestro validate --server)', async () => {
    const text = manifest('dry', '    - id: a\n      run: "true"\n');
    const dry = await api.call('POST', '/v1/workflows', {
      raw: text,
      contentType: 'application/yaml',
      query: { dryRun: true },
    });
    expect(dry).toMatchObject({ status: 200, body: { name: 'dry', diagnostics: [] } });
    expect(dry.body.plan).toMatchObject({ digest: dry.body.digest, tasks: [{ id: 'a' }] });
    const detail = await api.call('GET', '/v1/workflows/{digest}', { params: { digest: dry.body.digest } });
    expect(detail.status).toBe(404);
    const stored = await postYaml(text);
    expect(stored).toMatchObject({ status: 201, body: { digest: dry.body.digest } });
  });

  it('refuses unknown fields of the request (not of the manifest) with a 400 naming them', async () => {
    const answer = await api.call('POST', '/v1/workflows', {
      raw: JSON.stringify({ manifest: HELLO, extra: 1 }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('invalid_request');
    expect(answer.body.errors).toEqual([{ pointer: '/body/extra', message: 'unknown field "extra"' }]);
    const query = await api.call('GET', '/v1/workflows', { query: { nme: 'x' } });
    expect(query.body.errors[0].pointer).toBe('/query/nme');
  });

  it('pages workflows newest first with an opaque cursor', async () => {
    for (const n of ['page-a', 'page-b', 'page-c'])
      await postYaml(manifest(n, '    - id: a\n      run: "true"\n'));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('GET', '/v1/workflows', {
        query: { limit: 1, ...(cursor ? { cursor } : {}) },
      });
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((w: { name: string }) => w.name));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.slice(0, 3)).toEqual(['page-c', 'page-b', 'page-a']);
    expect(new Set(seen).size).toBe(seen.length);
    const forged = await api.call('GET', '/v1/workflows', { query: { cursor: 'bm90LWpzb24' } });
    expect(forged).toMatchObject({ status: 400, body: { code: 'bad_cursor' } });
  });
});

describe('runs', () => {
  it('starts a run that the worker role executes: tasks, attempts, policy decisions and signed receipts', async () => {
    const { body: wf } = await postYaml(HELLO);
    const accepted = await api.call('POST', '/v1/runs', {
      body: { workflow: wf.digest, params: { who: 'api' } },
    });
    expect(accepted).toMatchObject({ status: 202, body: { status: 'queued' } });
    const done = await api.settle(accepted.body.id);
    expect(done.body.run).toMatchObject({ status: 'succeeded', actor: 'tester', planDigest: wf.digest });
    const greet = done.body.tasks.find((t: { id: string }) => t.id === 'greet');
    expect(greet.attempts[0].policyDecisionIds.length).toBeGreaterThan(0);
    // What `maestro runs show` prints: the params, the outputs, the cancel and the source.
    expect(done.body).toMatchObject({ params: { who: 'api' }, source: null, cancelRequestedBy: null });
    expect(greet).toHaveProperty('cacheKey');
    expect(Object.keys(greet.attempts[0].outputs).length).toBeGreaterThan(0);
    const receipts = await api.call('GET', '/v1/runs/{id}/receipts', { params: { id: accepted.body.id } });
    expect(receipts.status).toBe(200);
    expect(receipts.body.map((r: { digest: string }) => r.digest).sort()).toEqual(
      done.body.receipts.map((r: { digest: string }) => r.digest).sort(),
    );
    expect(receipts.body[0].bundle.mediaType).toContain('sigstore.bundle');
    const narrowed = await api.call('GET', '/v1/runs/{id}/receipts', {
      params: { id: accepted.body.id },
      query: { task: 'greet' },
    });
    expect(narrowed.body.map((r: { task: string }) => r.task)).toEqual(['greet']);
  });

  it('lists the policy decisions about a run’s attempts with their reasons, and only that run’s', async () => {
    const { body: ok } = await postYaml(manifest('decided', '    - id: a\n      run: "true"\n'));
    const { body: denied } = await postYaml(
      manifest('refused', '    - id: b\n      run: "true"\n', '  policy:\n    license: not-a-licence\n'),
    );
    const allowed = (await api.call('POST', '/v1/runs', { body: { workflow: ok.digest } })).body.id;
    const blocked = (await api.call('POST', '/v1/runs', { body: { workflow: denied.digest } })).body.id;
    const allowedRun = (await api.settle(allowed)).body;
    await api.settle(blocked);
    const listed = await api.call('GET', '/v1/runs/{id}/decisions', { params: { id: allowed } });
    expect(listed.status).toBe(200);
    const ids = allowedRun.tasks.flatMap((t: { attempts: { policyDecisionIds: string[] }[] }) =>
      t.attempts.flatMap((a) => a.policyDecisionIds),
    );
    expect(ids.length).toBeGreaterThan(0);
    expect(listed.body.items.map((d: { decisionId: string }) => d.decisionId)).toEqual(ids);
    expect(listed.body.items[0]).toMatchObject({ task: 'a', attempt: 1, allow: true, reasons: [] });
    const refused = (await api.call('GET', '/v1/runs/{id}/decisions', { params: { id: blocked } })).body;
    expect(refused.items).toHaveLength(1);
    expect(refused.items[0]).toMatchObject({ task: 'b', allow: false });
    expect(refused.items[0].reasons.join(' ')).toMatch(/license "not-a-licence" is not on the allow-list/);
    const other = await api.call('GET', '/v1/runs/{id}/decisions', {
      params: { id: allowed },
      token: await api.mint(['runs:read'], { namespaces: ['elsewhere'] }),
    });
    expect(other.status).toBe(403);
    const missing = await api.call('GET', '/v1/runs/{id}/decisions', { params: { id: 'r-nope' } });
    expect(missing.status).toBe(404);
  });

  it('lists the run’s transitions in order; `after` gives only the later ones', async () => {
    const { body: wf } = await postYaml(HELLO);
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    await api.settle(run.id);
    const all = await api.call('GET', '/v1/runs/{id}/transitions', { params: { id: run.id } });
    expect(all.status).toBe(200);
    const items = all.body.items as { task: string | null; to: string; reason: string }[];
    expect(items.at(-1)).toMatchObject({ task: null, to: 'succeeded' });
    expect(items.filter((t) => t.task === 'greet').map((t) => t.to)).toEqual([
      'queued',
      'ready',
      'running',
      'succeeded',
    ]);
    expect(all.body.next).toBe(items.length);
    const later = await api.call('GET', '/v1/runs/{id}/transitions', {
      params: { id: run.id },
      query: { after: items.length - 1 },
    });
    expect(later.body).toEqual({ items: [items.at(-1)], next: items.length });
  });

  it('starts a run by {namespace, name}; an unknown workflow is a 404', async () => {
    await postYaml(HELLO);
    const byName = await api.call('POST', '/v1/runs', {
      body: { workflow: { namespace: 'quickstart', name: 'hello' } },
    });
    expect(byName.status).toBe(202);
    await api.settle(byName.body.id);
    const missing = await api.call('POST', '/v1/runs', {
      body: { workflow: { namespace: 'quickstart', name: 'nope' } },
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'workflow_not_found' } });
  });

  it('honours Idempotency-Key: same key and body, the same run; another body, 409', async () => {
    const { body: wf } = await postYaml(HELLO);
    const headers = { 'idempotency-key': 'deploy-42' };
    const first = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest }, headers });
    const second = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest }, headers });
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const other = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest, priority: 5 }, headers });
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } });
    await api.settle(first.body.id);
  });

  it('frees the key when the run was refused (bad params): nothing half-stored', async () => {
    const { body: wf } = await postYaml(HELLO);
    const headers = { 'idempotency-key': 'bad-params' };
    const bad = await api.call('POST', '/v1/runs', {
      body: { workflow: wf.digest, params: { nope: 1 } },
      headers,
    });
    expect(bad).toMatchObject({ status: 422, body: { code: 'param_unknown' } });
    const good = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest }, headers });
    expect(good.status).toBe(202);
    await api.settle(good.body.id);
  });

  it('lists runs newest first, keyset-paginated on (created, id), with filters', async () => {
    const { body: wf } = await postYaml(manifest('listed', '    - id: a\n      run: "true"\n'));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } })).body.id);
    for (const id of ids) await api.settle(id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('GET', '/v1/runs', {
        query: { workflow: 'listed', limit: 2, ...(cursor ? { cursor } : {}) },
      });
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(3);
    const failed = await api.call('GET', '/v1/runs', { query: { workflow: 'listed', status: 'failed' } });
    expect(failed.body.items).toEqual([]);
    const future = await api.call('GET', '/v1/runs', { query: { since: '2999-01-01T00:00:00Z' } });
    expect(future.body.items).toEqual([]);
    const badTime = await api.call('GET', '/v1/runs', { query: { since: 'yesterday' } });
    expect(badTime).toMatchObject({ status: 400, body: { errors: [{ pointer: '/query/since' }] } });
    const tooMany = await api.call('GET', '/v1/runs', { query: { limit: 501 } });
    expect(tooMany.status).toBe(400);
    // `sha`: the runs of one source commit (these API runs have none; the store contract lists some).
    const noSource = await api.call('GET', '/v1/runs', {
      query: { workflow: 'listed', sha: 'a'.repeat(40) },
    });
    expect(noSource).toMatchObject({ status: 200, body: { items: [] } });
    const shortSha = await api.call('GET', '/v1/runs', { query: { sha: 'abc123' } });
    expect(shortSha).toMatchObject({ status: 400, body: { errors: [{ pointer: '/query/sha' }] } });
    // `fields`: only the properties asked for, and the id.
    const slim = await api.call('GET', '/v1/runs', {
      query: { workflow: 'listed', fields: 'status,commit' },
    });
    expect(slim.status).toBe(200);
    expect(slim.body.items).toHaveLength(3);
    for (const item of slim.body.items as Record<string, unknown>[])
      expect(Object.keys(item).sort()).toEqual(['commit', 'id', 'status']);
    const unknownField = await api.call('GET', '/v1/runs', { query: { fields: 'status,plan' } });
    expect(unknownField).toMatchObject({ status: 400, body: { errors: [{ pointer: '/query/fields' }] } });
  });

  it('lists only the runs whose workflow has every label asked for (label=key=value,…)', async () => {
    const labelled = (name: string, labels: string) =>
      manifest(name, '    - id: a\n      run: "true"\n').replace(
        '  namespace: quickstart\n',
        `  namespace: quickstart\n  labels:\n${labels}`,
      );
    const gold = await postYaml(labelled('gold-etl', '    team: data\n    tier: gold\n'));
    const plain = await postYaml(labelled('plain-etl', '    team: data\n'));
    const web = await postYaml(labelled('web-app', '    team: web\n'));
    const run = async (digest: string) =>
      (await api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id as string;
    const [g, p, w] = [await run(gold.body.digest), await run(plain.body.digest), await run(web.body.digest)];
    const listed = async (label: string) =>
      (await api.call('GET', '/v1/runs', { query: { label } })).body.items.map((r: { id: string }) => r.id);
    expect(await listed('team=data')).toEqual([p, g]);
    expect(await listed('team=data,tier=gold')).toEqual([g]);
    expect(await listed('team=web')).toEqual([w]);
    expect(await listed('team=ops')).toEqual([]);
    const malformed = await api.call('GET', '/v1/runs', { query: { label: 'team' } });
    expect(malformed).toMatchObject({ status: 400 });
    const injected = await api.call('GET', '/v1/runs', { query: { label: 'te"am=data' } });
    expect(injected).toMatchObject({ status: 400 });
    const twice = await api.call('GET', '/v1/runs', { query: { label: 'team=data,team=web' } });
    expect(twice).toMatchObject({ status: 400, body: { errors: [{ pointer: '/query/label' }] } });
  });

  it('retries the failed part as a new attempt, once while it is live; a succeeded run is a 409', async () => {
    const { body: wf } = await postYaml(manifest('flaky', '    - id: a\n      run: "sleep 1; exit 1"\n'));
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    expect((await api.settle(run.id)).body.run.status).toBe('failed');
    const retried = await api.call('POST', '/v1/runs/{id}/retry', { params: { id: run.id } });
    expect(retried.status).toBe(200);
    expect(['queued', 'running']).toContain(retried.body.run.status);
    const again = await api.call('POST', '/v1/runs/{id}/retry', { params: { id: run.id } });
    expect(['queued', 'running']).toContain(again.body.run.status);
    const done = await api.settle(run.id);
    expect(done.body.tasks[0].attempts).toHaveLength(2);
    // `task=` names one task to retry: an unknown one is refused before anything changes.
    const unknown = await api.call('POST', '/v1/runs/{id}/retry', {
      params: { id: run.id },
      query: { task: 'nope' },
    });
    expect(unknown).toMatchObject({ status: 409, body: { code: 'task_not_retryable' } });
    const once = await api.call('POST', '/v1/runs/{id}/retry', {
      params: { id: run.id },
      query: { task: 'a' },
    });
    expect(once.status).toBe(200);
    expect((await api.settle(run.id)).body.tasks[0].attempts).toHaveLength(3);
    const { body: ok } = await postYaml(HELLO);
    const { body: good } = await api.call('POST', '/v1/runs', { body: { workflow: ok.digest } });
    await api.settle(good.id);
    const noRetry = await api.call('POST', '/v1/runs/{id}/retry', { params: { id: good.id } });
    expect(noRetry).toMatchObject({ status: 409, body: { code: 'run_succeeded' } });
  });

  it('serves the run’s plan laid out left to right, the same layout for every run of the plan, with estimates from history', async () => {
    const { body: wf } = await postYaml(
      manifest(
        'graphed',
        '    - id: a\n      run: "true"\n    - id: b\n      needs: [a]\n      run: "true"\n    - id: c\n      needs: [a]\n      run: "true"\n',
      ),
    );
    const { body: first } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    await api.settle(first.id);
    const { body: second } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    const graph = await api.call('GET', '/v1/runs/{id}/graph', { params: { id: second.id } });
    expect(graph.status).toBe(200);
    expect(graph.body.planDigest).toBe(wf.digest);
    const at = Object.fromEntries(graph.body.nodes.map((n: { id: string }) => [n.id, n]));
    expect(Object.keys(at)).toEqual(['a', 'b', 'c']);
    expect(at.b.needs).toEqual(['a']);
    expect(at.b.x).toBeGreaterThan(at.a.x + graph.body.nodeWidth - 1); // a layer to the right
    expect(at.b.y).not.toBe(at.c.y); // side by side, not on top of each other
    expect(at.a.estimateMs).toBeTypeOf('number'); // the first run is history
    const again = await api.call('GET', '/v1/runs/{id}/graph', { params: { id: first.id } });
    expect(again.body.nodes.map((n: { x: number; y: number }) => [n.x, n.y])).toEqual(
      graph.body.nodes.map((n: { x: number; y: number }) => [n.x, n.y]),
    );
    const missing = await api.call('GET', '/v1/runs/{id}/graph', { params: { id: 'r-nope' } });
    expect(missing.status).toBe(404);
  });

  it('cancels a running run', async () => {
    const { body: wf } = await postYaml(manifest('slow', '    - id: a\n      run: "sleep 20"\n'));
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    for (;;) {
      const now = await api.call('GET', '/v1/runs/{id}', { params: { id: run.id } });
      if (now.body.tasks[0].state === 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await api.call('POST', '/v1/runs/{id}/cancel', { params: { id: run.id } });
    expect(cancelled.status).toBe(200);
    expect((await api.settle(run.id)).body.run.status).toBe('cancelled');
    const unknown = await api.call('GET', '/v1/runs/{id}', { params: { id: 'r-nope' } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'run_not_found' } });
  });
});

/** `event: <name>` blocks of a server-sent events body, with their id and parsed data. */
function events(text: string): { id?: string; event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      const id = field('id');
      return {
        ...(id ? { id: String(id) } : {}),
        event: String(field('event')),
        data: JSON.parse(String(field('data'))),
      };
    });
}

describe('logs', () => {
  it('streams a finished run’s lines as server-sent events, resumable with Last-Event-ID', async () => {
    const { body: wf } = await postYaml(HELLO);
    const { body: run } = await api.call('POST', '/v1/runs', {
      body: { workflow: wf.digest, params: { who: 'sse' } },
    });
    await api.settle(run.id);
    const all = await api.call('GET', '/v1/runs/{id}/logs', { params: { id: run.id } });
    expect(all).toMatchObject({ status: 200, contentType: 'text/event-stream' });
    const list = events(all.body);
    expect(list.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
    const report = list.find((e) => e.event === 'log' && e.data.task === 'report');
    expect(report?.data.text).toBe('Hello, sse! (11 characters)');
    const firstId = list[0]!.id!;
    const resumed = events(
      (
        await api.call('GET', '/v1/runs/{id}/logs', {
          params: { id: run.id },
          headers: { 'last-event-id': firstId },
        })
      ).body,
    );
    expect(resumed.map((e) => e.id)).toEqual(list.slice(1).map((e) => e.id));
    const onlyReport = events(
      (
        await api.call('GET', '/v1/runs/{id}/logs', {
          params: { id: run.id },
          query: { task: 'report', attempt: 1 },
        })
      ).body,
    );
    expect(onlyReport.filter((e) => e.event === 'log').map((e) => e.data.task)).toEqual(['report']);
    const bad = await api.call('GET', '/v1/runs/{id}/logs', {
      params: { id: run.id },
      headers: { 'last-event-id': 'x' },
    });
    expect(bad.status).toBe(400);
  });

  it('follows a live run until it ends', async () => {
    const { body: wf } = await postYaml(
      manifest('chatty', '    - id: a\n      run: "for i in 1 2 3; do echo line-$i; sleep 0.3; done"\n'),
    );
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    const followed = await api.call('GET', '/v1/runs/{id}/logs', {
      params: { id: run.id },
      query: { follow: true },
    });
    const list = events(followed.body);
    expect(list.filter((e) => e.event === 'log' && e.data.task === 'a').map((e) => e.data.text)).toEqual([
      'line-1',
      'line-2',
      'line-3',
    ]);
    expect(list.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
  });
});

describe('limits and health', () => {
  it('answers a body over the limit 413 and a wrong media type 415', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024 + 1);
    const answer = await api.call('POST', '/v1/workflows', { raw: big, contentType: 'application/yaml' });
    expect(answer).toMatchObject({ status: 413, body: { code: 'body_too_large' } });
    const yamlRun = await api.call('POST', '/v1/runs', {
      raw: 'workflow: x',
      contentType: 'application/yaml',
    });
    expect(yamlRun).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
  });

  it('serves /healthz and /readyz without a token, and the OpenAPI document at /openapi.json', async () => {
    expect((await api.call('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    expect((await api.call('GET', '/readyz', { token: null })).status).toBe(200);
    const served = await (await fetch(`${api.url}/openapi.json`)).json();
    const { openapi } = await import('./api-harness.ts');
    expect(served).toEqual(openapi);
  });
});
