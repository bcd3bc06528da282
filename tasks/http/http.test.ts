// The http task in-process on the SDK's harness against a local server: outputs, the body file,
// the error codes, the allow-list read through ctx.secret, cancellation. tasks/tasks.test.ts runs
// the same task as a process; request.test.ts covers the redirect rules in depth.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { http } from './index.ts';

let otherPort = 0;
const other = createServer((_req, res) => res.writeHead(200).end('other'));
const server = createServer((req, res) => {
  if (req.url === '/missing') res.writeHead(404).end('no');
  else if (req.url === '/away') res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/` }).end();
  else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 60_000).unref();
  else res.writeHead(200).end(`hello ${req.method}`);
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherPort = (other.address() as AddressInfo).port;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://localhost:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => other.close(() => r()));
});

const workspace = () => mkdtempSync(join(tmpdir(), 'maestro-http-'));

describe('the http task on the SDK', () => {
  it('outputs the status and the body digest, and writes the body to the workspace', async () => {
    const dir = workspace();
    const r = await runTask(http, { url: `${base}/ok`, method: 'POST' }, { workspace: dir });
    expect(r.outcome).toBe('succeeded');
    const digest = `sha256:${createHash('sha256').update('hello POST').digest('hex')}`;
    expect(r.outputs).toEqual({ status: 200, bodyDigest: digest });
    expect(readFileSync(join(dir, 'body'), 'utf8')).toBe('hello POST');
    expect(r.logs.map((l) => l.message)).toEqual([`POST ${base}/ok -> 200 (10 bytes, ${digest})`]);
  });

  it('an error status fails it (http_status) with its outputs set, unless failOnStatus is false', async () => {
    const failed = await runTask(http, { url: `${base}/missing` }, { workspace: workspace() });
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'http_status' });
    expect(failed.outputs.status).toBe(404);
    const tolerant = await runTask(
      http,
      { url: `${base}/missing`, failOnStatus: false },
      { workspace: workspace() },
    );
    expect(tolerant.outcome).toBe('succeeded');
  });

  it('request.ts’s refusals keep their codes: redirect_refused, url_invalid, identity_in_clear', async () => {
    const opts = { workspace: workspace() };
    const away = await runTask(http, { url: `${base}/away` }, opts);
    expect(away.error).toMatchObject({ code: 'redirect_refused' });
    expect((await runTask(http, { url: 'file:///etc/passwd' }, opts)).error).toMatchObject({
      code: 'url_invalid',
    });
    const clear = await runTask(http, { url: 'http://api.example/v1', identity: 'tok' }, opts);
    expect(clear.error).toMatchObject({ code: 'identity_in_clear' });
  });

  it('reads the policy’s allow-list (MAESTRO_EGRESS_ALLOWED_HOSTS) through ctx.secret', async () => {
    const secrets = { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(['localhost', '127.0.0.1']) };
    const r = await runTask(http, { url: `${base}/away` }, { workspace: workspace(), secrets });
    expect(r.outcome).toBe('succeeded');
    expect(r.logs[0]?.message).toBe(`302 ${base}/away -> http://127.0.0.1:${otherPort}/`);
  });

  it('cancellation aborts the request in flight', async () => {
    const stop = new AbortController();
    const running = runTask(http, { url: `${base}/slow` }, { workspace: workspace(), signal: stop.signal });
    setTimeout(() => stop.abort(new Error('stop')), 200);
    expect((await running).outcome).toBe('cancelled');
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(http.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(http.spec.outputs.properties ?? {}));
  });
});
