// successWhen and the Idempotency-Key, in-process on the SDK's harness against a local server.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { http } from './index.ts';
import { useLoopbackServer } from '../../test/helpers/loopback-http.ts';

const keys: (string | undefined)[] = [];
let fails = 0;
const server = createServer((req, res) => {
  keys.push(req.headers['idempotency-key'] as string | undefined);
  req.resume();
  if (req.url === '/flaky' && fails++ % 2 === 0) return void res.writeHead(503).end('busy');
  if (req.url === '/pending')
    return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"pending"}');
  if (req.url === '/html') return void res.writeHead(200).end('<html>');
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"ready","count":3}');
});
let base = '';
useLoopbackServer(server, (url) => (base = url));
const opts = (secrets: Record<string, string> = {}) => ({
  workspace: mkdtempSync(join(tmpdir(), 'maestro-http-cond-')),
  secrets,
});

describe('successWhen', () => {
  it('holds over status, lower-cased headers and json', async () => {
    const when =
      "status == 200 && json.state == 'ready' && json.count > 2 && headers['content-type'] == 'application/json'";
    const r = await runTask(http, { url: `${base}/ok`, successWhen: when }, opts());
    expect(r.outcome).toBe('succeeded');
  });

  it('false fails with condition_false, its outputs set, saying the status and never the body', async () => {
    const r = await runTask(http, { url: `${base}/pending`, successWhen: "json.state == 'ready'" }, opts());
    expect(r.error).toMatchObject({ code: 'condition_false' });
    expect((r.error as Error).message).toBe(
      `successWhen "json.state == 'ready'" is false: GET ${base}/pending answered 200 (19 bytes)`,
    );
    expect(r.outputs.status).toBe(200);
  });

  it('a condition that does not compile is an input error naming successWhen', async () => {
    const r = await runTask(http, { url: `${base}/ok`, successWhen: 'status ==' }, opts());
    expect(r.outcome).toBe('invalid');
    expect(r.errors[0]).toMatchObject({ path: '/successWhen' });
    const notBool = await runTask(http, { url: `${base}/ok`, successWhen: 'status' }, opts());
    expect(notBool.outcome).toBe('invalid');
  });

  it('one that cannot be evaluated on the response is condition_error', async () => {
    const r = await runTask(http, { url: `${base}/html`, successWhen: "json.state == 'ready'" }, opts());
    expect(r.error).toMatchObject({ code: 'condition_error' });
  });
});

describe('the Idempotency-Key', () => {
  const ids = (run: string) => ({ MAESTRO_RUN_ID: run, MAESTRO_TASK_ID: 'charge' });
  it('is the same on every retry and attempt of the task in a run, another in another run', async () => {
    keys.length = 0;
    fails = 0;
    const retry = { attempts: 2, initialDelayMs: 1 };
    await runTask(http, { url: `${base}/flaky`, method: 'POST', retry }, opts(ids('run-1'))); // 503 then 200
    await runTask(http, { url: `${base}/ok`, method: 'POST' }, opts(ids('run-1'))); // a second attempt
    await runTask(http, { url: `${base}/ok`, method: 'POST' }, opts(ids('run-2')));
    expect(keys).toHaveLength(4);
    expect(keys[0]).toMatch(/^"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/);
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(keys[3]).not.toBe(keys[0]);
  });

  it('is not sent on a GET, is the input’s when given, and none with false', async () => {
    keys.length = 0;
    await runTask(http, { url: `${base}/ok` }, opts(ids('run-1')));
    await runTask(http, { url: `${base}/ok`, method: 'PUT', idempotencyKey: 'order-7' }, opts(ids('run-1')));
    await runTask(http, { url: `${base}/ok`, method: 'DELETE', idempotencyKey: false }, opts(ids('run-1')));
    expect(keys).toEqual([undefined, '"order-7"', undefined]);
  });

  it('holding a quote or a backslash, is sent as an RFC 8941 string that parses back to itself', async () => {
    keys.length = 0;
    const key = 'order "7" \\ eu';
    const r = await runTask(
      http,
      { url: `${base}/ok`, method: 'PUT', idempotencyKey: key },
      opts(ids('run-1')),
    );
    expect(r.outcome).toBe('succeeded');
    expect(keys).toEqual(['"order \\"7\\" \\\\ eu"']);
    expect(parseSfString(keys[0]!)).toBe(key);
  });

  it('outside printable ASCII (or empty, or over 255), is an input error at /idempotencyKey; nothing is sent', async () => {
    keys.length = 0;
    for (const key of ['café', 'a\tb', 'line\nbreak', '', 'k'.repeat(256)]) {
      const r = await runTask(http, { url: `${base}/ok`, method: 'PUT', idempotencyKey: key }, opts());
      expect(r.outcome, JSON.stringify(key)).toBe('invalid');
      expect(r.errors.map((e) => e.path)).toContain('/idempotencyKey');
    }
    expect(keys).toEqual([]);
  });
});

/** RFC 8941 §4.2.5, parsing an sf-string: what a server that reads the header as a Structured Field gets. */
function parseSfString(field: string): string {
  if (field[0] !== '"') throw new Error('not a string');
  let out = '';
  for (let i = 1; i < field.length; i++) {
    const c = field[i]!;
    if (c === '\\') {
      const next = field[++i];
      if (next !== '"' && next !== '\\') throw new Error(`bad escape at ${i}`);
      out += next;
    } else if (c === '"') {
      if (i !== field.length - 1) throw new Error(`the string ends at ${i}, before the field does`);
      return out;
    } else if (c < ' ' || c > '~') throw new Error(`not printable ASCII at ${i}`);
    else out += c;
  }
  throw new Error('no closing quote');
}
