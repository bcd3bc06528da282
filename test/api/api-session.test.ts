/**
 * Console sessions and the event stream over real HTTP, each attack as a test: a cross-site POST
 * with the cookie but no CSRF token, a session of a revoked token, a fixated session cookie, a
 * session minting another, and an event of another namespace. Every request and answer is
 * checked against openapi.json by the harness.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELLO, manifest, openapi, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
let digest: string;
let runId: string;
beforeAll(async () => {
  api = await startApi();
  digest = (await api.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' })).body
    .digest;
  runId = (await api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
  await api.settle(runId);
});
afterAll(async () => api?.close());

interface Session {
  cookie: string;
  setCookie: string;
  csrf: string;
  body: Record<string, unknown>;
}

async function signIn(token: string, headers: Record<string, string> = {}): Promise<Session> {
  const answer = await fetch(`${api.url}/v1/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  expect(answer.status).toBe(201);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const body = (await answer.json()) as Record<string, unknown>;
  return { cookie: setCookie.split(';')[0]!, setCookie, csrf: String(body.csrfToken), body };
}

const consoleToken = async (namespaces: string[] = []) =>
  api.mint(['console', 'runs:read', 'runs:write', 'workflows:read'], { namespaces, user: 'ops' });

/**
 * Reads the event stream until `until` holds (or 20 s pass); returns every event it got.
 * `onReady` is called once the stream has started (its `ready` event): changes made after it
 * are the stream's to deliver.
 */
async function readEvents(
  headers: Record<string, string>,
  until: (events: EventSourceMessage[]) => boolean,
  query = '',
  onReady: () => void = () => {},
): Promise<{ status: number; events: EventSourceMessage[] }> {
  const abort = new AbortController();
  const response = await fetch(`${api.url}/v1/events${query}`, { headers, signal: abort.signal });
  const events: EventSourceMessage[] = [];
  if (response.status !== 200) {
    onReady();
    return { status: response.status, events };
  }
  const reader = response
    .body!.pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  const deadline = setTimeout(() => abort.abort(), 20_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      events.push(value);
      if (value.event === 'ready') onReady();
      if (until(events)) break;
    }
  } catch {
    // aborted: the caller's expectation says what was missing
  } finally {
    clearTimeout(deadline);
    abort.abort();
  }
  return { status: 200, events };
}

describe('the token-for-session exchange', () => {
  it('sets an HttpOnly, SameSite=Strict, host-only cookie (Secure and __Host- over TLS) and stores only its hash', async () => {
    const plain = await signIn(await consoleToken());
    expect(plain.setCookie).toMatch(
      /^maestro-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    expect(plain.setCookie).not.toMatch(/Domain|Secure/);
    expect(plain.body).toMatchObject({ user: 'ops', namespaces: [] });
    const tls = await signIn(await consoleToken(), { 'x-forwarded-proto': 'https' });
    expect(tls.setCookie).toMatch(/^__Host-maestro-session=.*; Secure$/);
    const secret = plain.cookie.split('=')[1]!;
    const db = new DatabaseSync(join(api.dataDir, 'api.sqlite'));
    try {
      const rows = db.prepare('SELECT * FROM sessions').all();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(rows)).not.toContain(secret);
    } finally {
      db.close();
    }
  });

  it('authenticates GETs with the cookie alone, and answers the session and its CSRF token', async () => {
    const s = await signIn(await consoleToken());
    const runs = await api.call('GET', '/v1/runs', { token: null, headers: { cookie: s.cookie } });
    expect(runs.status).toBe(200);
    expect(runs.body.items.map((r: { id: string }) => r.id)).toContain(runId);
    const me = await api.call('GET', '/v1/session', { token: null, headers: { cookie: s.cookie } });
    expect(me).toMatchObject({ status: 200, body: { user: 'ops', csrfToken: s.csrf } });
    // A bearer token has no session to describe.
    expect((await api.call('GET', '/v1/session', { token: await consoleToken() })).status).toBe(404);
  });

  it('refuses a cross-site POST with the cookie but no (or a wrong) CSRF token; the right one passes', async () => {
    const s = await signIn(await consoleToken());
    const crossSite = { cookie: s.cookie, origin: 'https://evil.example' };
    const cancel = (headers: Record<string, string>) =>
      api.call('POST', '/v1/runs/{id}/cancel', { token: null, params: { id: runId }, headers });
    expect(await cancel(crossSite)).toMatchObject({ status: 403, body: { code: 'csrf_failed' } });
    expect(await cancel({ ...crossSite, 'x-csrf-token': `${s.csrf.slice(0, -1)}x` })).toMatchObject({
      status: 403,
      body: { code: 'csrf_failed' },
    });
    const other = await signIn(await consoleToken());
    expect(await cancel({ cookie: s.cookie, 'x-csrf-token': other.csrf })).toMatchObject({ status: 403 });
    expect((await cancel({ cookie: s.cookie, 'x-csrf-token': s.csrf })).status).toBe(200);
    // A bearer token needs no CSRF token.
    expect((await cancel({ authorization: `Bearer ${api.token}` })).status).toBe(200);
  });

  it('needs the CSRF token on every state-changing route of openapi.json', async () => {
    const s = await signIn(await api.mint(['admin']));
    const changing = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method, op]) => method !== 'get' && op['x-maestro-scope'] !== null)
        .map(([method]) => ({ path, method: method.toUpperCase() as 'POST' | 'DELETE' })),
    );
    expect(changing.length).toBeGreaterThanOrEqual(5);
    for (const route of changing) {
      const answer = await api.call(route.method, route.path, {
        token: null,
        params: { id: runId, digest },
        headers: { cookie: s.cookie },
      });
      expect(answer.status, `${route.method} ${route.path}`).toBe(403);
      expect(answer.body.code).toBe('csrf_failed');
    }
  });

  it('refuses the session of a revoked token at once, and ends its event stream', async () => {
    const token = await consoleToken();
    const s = await signIn(token);
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const stream = readEvents(
      { cookie: s.cookie },
      (events) => events.some((e) => e.event === 'end'),
      '',
      ready,
    );
    await started;
    const id = (await api.apiStore.listTokens()).at(-1)!.id;
    expect(await api.apiStore.revokeToken(id, Date.now())).toBe(true);
    const runs = await api.call('GET', '/v1/runs', { token: null, headers: { cookie: s.cookie } });
    expect(runs).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    const { events } = await stream;
    expect(events.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'unauthorized' }) });
  });

  it('closes a followed log of a revoked token’s session', async () => {
    const slow = manifest(
      'slow-log',
      '    - id: nap\n      run: for i in $(seq 1 40); do echo tick; sleep 0.5; done\n',
    );
    const slowDigest = (
      await api.call('POST', '/v1/workflows', { raw: slow, contentType: 'application/yaml' })
    ).body.digest;
    const id = (await api.call('POST', '/v1/runs', { body: { workflow: slowDigest } })).body.id;
    const token = await consoleToken();
    const s = await signIn(token);
    const response = await fetch(`${api.url}/v1/runs/${id}/logs?follow=true`, {
      headers: { cookie: s.cookie },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('tick')) text += (await reader.read()).value ?? '';
    const tokenId = (await api.apiStore.listTokens()).at(-1)!.id;
    await api.apiStore.revokeToken(tokenId, Date.now());
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // Closed while the run still runs: no `end` event (that one says the run finished).
    expect(text).not.toContain('event: end');
    expect((await api.call('GET', '/v1/runs/{id}', { params: { id } })).body.run.status).toBe('running');
    await api.call('POST', '/v1/runs/{id}/cancel', { params: { id } });
  });

  it('mints a new session on sign-in and ends the one the browser came with (no fixation)', async () => {
    const planted = await signIn(await consoleToken());
    const fresh = await signIn(await consoleToken(), { cookie: planted.cookie });
    expect(fresh.cookie).not.toBe(planted.cookie);
    const old = await api.call('GET', '/v1/runs', { token: null, headers: { cookie: planted.cookie } });
    expect(old.status).toBe(401);
    // A session cannot make another (it would outlive its own expiry).
    const again = await api.call('POST', '/v1/session', {
      token: null,
      headers: { cookie: fresh.cookie, 'x-csrf-token': fresh.csrf },
    });
    expect(again).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
  });

  it('signs out: the session ends and the cookie is cleared', async () => {
    const s = await signIn(await consoleToken());
    const headers = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    const out = await fetch(`${api.url}/v1/session`, { method: 'DELETE', headers });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ signedOut: true });
    expect(out.headers.get('set-cookie')).toMatch(/^maestro-session=; .*Max-Age=0/);
    const after = await api.call('GET', '/v1/runs', { token: null, headers: { cookie: s.cookie } });
    expect(after.status).toBe(401);
  });
});

describe('GET /v1/events', () => {
  const DATA = manifest('elsewhere', '    - id: only\n      run: echo hi\n').replace(
    'namespace: quickstart',
    'namespace: data',
  );

  it('streams run and task changes of the token’s namespaces only, never another namespace’s', async () => {
    const s = await signIn(await consoleToken(['quickstart']));
    const dataDigest = (
      await api.call('POST', '/v1/workflows', { raw: DATA, contentType: 'application/yaml' })
    ).body.digest;
    let mine = '';
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const reading = readEvents(
      { cookie: s.cookie },
      (events) =>
        events.some(
          (e) =>
            e.event === 'run' && JSON.parse(e.data).run === mine && JSON.parse(e.data).to === 'succeeded',
        ),
      '',
      ready,
    );
    await started;
    // The other namespace's run first: its events come before ours in the store's order.
    const theirs = (await api.call('POST', '/v1/runs', { body: { workflow: dataDigest } })).body.id;
    await api.settle(theirs);
    mine = (await api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
    const { events } = await reading;
    expect(events[0]!.event).toBe('ready');
    const data = events.filter((e) => e.event !== 'ready').map((e) => JSON.parse(e.data));
    expect(data.some((d) => d.run === mine && d.task === 'greet' && d.to === 'succeeded')).toBe(true);
    expect(data.every((d) => d.namespace === 'quickstart')).toBe(true);
    expect(data.some((d) => d.run === theirs)).toBe(false);
    // Asking for the other namespace outright is refused.
    const asked = await readEvents({ cookie: s.cookie }, () => true, '?namespace=data');
    expect(asked.status).toBe(403);
  });

  it('resumes after Last-Event-ID with exactly the events that followed it', async () => {
    const headers = { authorization: `Bearer ${api.token}` };
    const start = await readEvents(headers, (e) => e.length >= 1);
    const position = Number(start.events[0]!.id);
    const next = (await api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
    await api.settle(next);
    const resumed = await readEvents({ ...headers, 'last-event-id': String(position) }, (e) =>
      e.some((x) => x.event === 'run' && JSON.parse(x.data).to === 'succeeded'),
    );
    const changes = resumed.events.filter((e) => e.event !== 'ready');
    expect(changes[0]!.data).toContain(next);
    expect(JSON.parse(changes[0]!.data)).toMatchObject({ run: next, task: null, from: null, to: 'queued' });
    expect(changes.map((e) => Number(e.id))).toEqual(changes.map((e) => Number(e.id)).sort((a, b) => a - b));
    expect(Number(changes[0]!.id)).toBeGreaterThan(position);
  });
});
