// sendRequest in-process against two loopback servers: `localhost` (first) redirects to `127.0.0.1`
// (second), a name the allow-list may refuse. tasks/tasks.test.ts runs the same task as a process.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpTaskError, sendRequest } from './request.ts';

const seen: { server: string; method?: string; url?: string; authorization?: string; body: string }[] = [];
const record = (server: string, req: IncomingMessage, body: string) =>
  seen.push({ server, method: req.method, url: req.url, authorization: req.headers.authorization, body });
const readBody = async (req: IncomingMessage) => {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
};
let secondPort = 0;
const second = createServer(async (req, res) => {
  record('second', req, await readBody(req));
  res.writeHead(200).end('second');
});
const first = createServer(async (req, res) => {
  record('first', req, await readBody(req));
  if (req.url === '/elsewhere')
    res.writeHead(302, { location: `http://127.0.0.1:${secondPort}/landed` }).end();
  else if (req.url === '/see-other') res.writeHead(303, { location: '/final' }).end();
  else if (req.url === '/loop') res.writeHead(307, { location: '/loop' }).end();
  else if (req.url === '/ftp') res.writeHead(302, { location: 'ftp://localhost/x' }).end();
  else res.writeHead(req.url === '/missing' ? 404 : 200).end(`first ${req.url}`);
});
/** This machine's first non-loopback IPv4 address: a witness there is "another host". */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const witnessed: (string | undefined)[] = [];
const witness = createServer((req, res) => {
  witnessed.push(req.headers.authorization ?? req.headers.cookie ?? req.headers['proxy-authorization']);
  res.writeHead(200).end('seen');
});
let lanBase = '';
let base = '';
const lines: string[] = [];
const log = (line: string) => void lines.push(line);
const both = { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(['localhost', '127.0.0.1']) };

beforeAll(async () => {
  await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
  secondPort = (second.address() as AddressInfo).port;
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
  base = `http://localhost:${(first.address() as AddressInfo).port}`;
  if (lanAddress) {
    await new Promise<void>((resolve) => witness.listen(0, lanAddress, resolve));
    lanBase = `http://${lanAddress}:${(witness.address() as AddressInfo).port}`;
  }
});
afterAll(async () => {
  if (lanAddress) await new Promise<void>((resolve) => witness.close(() => resolve()));
  await new Promise<void>((resolve) => first.close(() => resolve()));
  await new Promise<void>((resolve) => second.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  lines.length = 0;
});

describe('the http task’s request', () => {
  it('returns the status and body, with the method and URL it ended at', async () => {
    const result = await sendRequest({ url: `${base}/missing` }, {}, log);
    expect(result.status).toBe(404);
    expect(result.body.toString()).toBe('first /missing');
    expect(result.method).toBe('GET');
    expect(result.url.pathname).toBe('/missing');
  });

  it('refuses a hop to a host off the allow-list before contacting it', async () => {
    const attempt = sendRequest({ url: `${base}/elsewhere` }, {}, log);
    await expect(attempt).rejects.toThrow(HttpTaskError);
    await expect(sendRequest({ url: `${base}/elsewhere` }, {}, log)).rejects.toThrow(
      /127\.0\.0\.1 is not on the outbound allow-list \(localhost\)/,
    );
    expect(seen.filter((s) => s.server === 'second')).toEqual([]);
  });

  it('follows an allowed hop without the credential meant for the first origin, and logs the hop', async () => {
    const result = await sendRequest(
      { url: `${base}/elsewhere`, identity: 'tok', headers: { Cookie: 'c=1', 'x-kept': 'yes' } },
      both,
      log,
    );
    expect(result.status).toBe(200);
    expect(seen.map((s) => [s.server, s.authorization])).toEqual([
      ['first', 'Bearer tok'],
      ['second', undefined],
    ]);
    expect(lines).toEqual([`302 ${base}/elsewhere -> http://127.0.0.1:${secondPort}/landed`]);
  });

  it('turns a POST into a GET without its body on 303, as fetch does', async () => {
    const result = await sendRequest({ url: `${base}/see-other`, method: 'POST', body: 'payload' }, {}, log);
    expect(result.method).toBe('GET');
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/see-other', 'payload'],
      ['GET', '/final', ''],
    ]);
  });

  it('stops after ten redirects, and refuses a redirect to another scheme', async () => {
    await expect(sendRequest({ url: `${base}/loop` }, {}, log)).rejects.toThrow(/more than 10 redirects/);
    await expect(sendRequest({ url: `${base}/ftp` }, {}, log)).rejects.toThrow(/ftp: is not http\(s\)/);
  });

  it('the attack: an identity (a bearer token) over plain http:// to a host beyond loopback is refused before sending', async () => {
    for (const url of ['http://api.example/v1', 'http://127.example.com/v1'])
      await expect(sendRequest({ url, identity: 'tok-9f3e' }, {}, log), url).rejects.toThrow(
        /^identity would go to .* in clear over http:\/\/: use https:\/\//,
      );
    // To loopback it still goes (a server beside the runner), and without an identity anywhere.
    seen.length = 0;
    expect((await sendRequest({ url: `${base}/ok`, identity: 'tok-9f3e' }, {}, log)).status).toBe(200);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-9f3e']);
  });

  it('the attack: an authorization, proxy-authorization or cookie header over plain http:// beyond loopback is refused before sending', async () => {
    expect(lanAddress, 'this machine has no non-loopback address for the witness').toBeDefined();
    for (const [name, value] of [
      ['Authorization', 'Bearer tok-77ab'],
      ['proxy-authorization', 'Basic dTpw'],
      ['COOKIE', 'session=s-41c9'],
    ] as const) {
      const sent = sendRequest({ url: `${lanBase}/v1`, headers: { [name]: value } }, {}, log);
      await expect(sent, name).rejects.toThrow(
        new RegExp(
          `^the ${name.toLowerCase()} header would go to ${lanAddress!.replace(/\./g, '\\.')} in clear over http://`,
        ),
      );
      await expect(
        sendRequest({ url: `${lanBase}/v1`, headers: { [name]: value } }, {}, log),
      ).rejects.toMatchObject({
        code: 'credential_in_clear',
      });
    }
    expect(witnessed).toEqual([]);
    // Without a credential the witness is reached (so the refusal above is the header's), and to
    // loopback the header still goes.
    expect((await sendRequest({ url: `${lanBase}/v1`, headers: { 'x-trace': '1' } }, {}, log)).status).toBe(
      200,
    );
    seen.length = 0;
    await sendRequest({ url: `${base}/ok`, headers: { Authorization: 'Bearer tok-77ab' } }, {}, log);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-77ab']);
  });

  it('refuses a URL that is not http(s), and names a request that cannot be sent', async () => {
    await expect(sendRequest({ url: 'file:///etc/passwd' }, {}, log)).rejects.toThrow(/invalid url/);
    await expect(sendRequest({ url: 'not a url' }, {}, log)).rejects.toThrow(/invalid url/);
    await expect(sendRequest({ url: 'http://127.0.0.1:1/' }, {}, log)).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:1\/ failed/,
    );
  });
});
