// `maestro app` set up the way probot apps are: started without APP_ID it serves the setup page,
// registers the App from app.yml through GitHub's manifest flow (the stand-in plays GitHub: its
// "new App" form and POST /app-manifests/{code}/conversions, checked against the OpenAPI
// description), writes the credentials to <data-dir>/github-app.env (0600), and the next start
// uses them: the stand-in mints installation tokens only for JWTs signed with the new key. The
// development relay (WEBHOOK_PROXY_URL) is a tiny local server-sent-events relay in smee's format.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubStandIn, signedDelivery, webhookExample } from './github-standin/index.ts';
import { waitFor } from './helpers/wait-for.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');
const work = mkdtempSync(join(tmpdir(), 'maestro-app-setup-'));
const dataDir = join(work, 'data');
let standIn: GitHubStandIn;
let standInUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  standIn = new GitHubStandIn({
    appId: '1',
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  standInUrl = await standIn.start();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await standIn.stop();
  rmSync(work, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startApp(
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = await freePort();
  const child = spawn(node, ['bin/maestro.ts', 'app', '--data-dir', dataDir], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      GHE_HOST: new URL(standInUrl).host,
      GHE_PROTOCOL: 'http',
      LOG_LEVEL: 'debug',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, url, output: () => output };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`maestro app did not come up:\n${output}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return child.exitCode ?? new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The setup page's form: where it posts and the manifest it carries. */
async function setupForm(url: string): Promise<{ action: string; manifest: string }> {
  const page = await (await fetch(`${url}/probot`)).text();
  const action = /<form action="([^"]+)" method="post">/.exec(page)?.[1];
  const manifest = /name="manifest" value="([^"]*)"/.exec(page)?.[1];
  if (!action || manifest === undefined) throw new Error(`no setup form in:\n${page}`);
  return { action: unescapeHtml(action), manifest: unescapeHtml(manifest) };
}

/** What the browser does: post the form to GitHub, follow GitHub's redirect back to the app. */
async function registerThroughBrowser(form: { action: string; manifest: string }): Promise<Response> {
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams({ manifest: form.manifest }),
    redirect: 'manual',
  });
  expect(posted.status).toBe(302);
  return fetch(posted.headers.get('location')!, { redirect: 'manual' });
}

let pushes = 0;
function pushDelivery(secret: string) {
  const payload = webhookExample('push');
  // Each delivery's body must differ: the App refuses a body it has seen (replay protection,
  // `duplicate_body`), and two tests within one second sent the same `pushed_at`.
  payload.repository.pushed_at = Math.floor(Date.now() / 1000) + (pushes += 1);
  payload.installation = { id: 4242, node_id: 'I_1' };
  return signedDelivery(secret, 'push', payload, randomUUID());
}

function tokenMints(): number[] {
  return standIn.requests
    .filter((r) => r.operationId === 'apps/create-installation-access-token')
    .map((r) => r.status);
}

describe('maestro app without APP_ID: the manifest flow', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let form: { action: string; manifest: string };

  beforeAll(async () => {
    app = await startApp();
    form = await setupForm(app.url);
  });

  it('serves the setup page, is alive but not ready, and refuses webhooks until registered', async () => {
    expect(app.output()).toMatch(/setup mode/);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    const webhook = await fetch(`${app.url}/api/github/webhooks`, { method: 'POST', body: '{}' });
    expect(webhook.status).toBe(503);
    expect((await fetch(`${app.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/probot');
  });

  it('posts app.yml as the manifest, with this instance as the webhook and redirect URLs', () => {
    expect(form.action).toMatch(new RegExp(`^${standInUrl}/settings/apps/new\\?state=[0-9a-f]{48}$`));
    const manifest = JSON.parse(form.manifest) as Record<string, unknown>;
    const appYml = parse(readFileSync('app.yml', 'utf8')) as Record<string, unknown>;
    expect(manifest.name).toBe(appYml.name);
    expect(manifest.default_permissions).toEqual(appYml.default_permissions);
    expect(manifest.default_events).toEqual(appYml.default_events);
    expect(manifest.hook_attributes).toEqual({ url: `${app.url}/api/github/webhooks`, active: true });
    expect(manifest.redirect_url).toBe(`${app.url}/probot/setup`);
  });

  it('refuses a code that comes back without the state it issued (a forged link), converting nothing', async () => {
    const forged = await fetch(`${app.url}/probot/setup?code=abc123&state=${'0'.repeat(48)}`);
    expect(forged.status).toBe(403);
    const missing = await fetch(`${app.url}/probot/setup?code=abc123`);
    expect(missing.status).toBe(403);
    const bad = await fetch(`${app.url}/probot/setup?code=..%2F..%2Fapp&state=x`);
    expect(bad.status).toBe(400);
    expect(standIn.requests.filter((r) => r.operationId === 'apps/create-from-manifest')).toEqual([]);
  });

  it('converts the code GitHub sends back and writes the credentials to github-app.env, 0600', async () => {
    const back = await registerThroughBrowser(form);
    expect(back.status).toBe(200);
    const registered = standIn.manifests.registered;
    expect(registered).toHaveLength(1);
    expect(
      standIn.requests.filter((r) => r.operationId === 'apps/create-from-manifest').map((r) => r.status),
    ).toEqual([201]);
    expect(await back.text()).toContain(`${standInUrl}/apps/${registered[0]!.slug}/installations/new`);
    const file = join(dataDir, 'github-app.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`APP_ID=${registered[0]!.id}\n`);
    expect(text).toContain(`WEBHOOK_SECRET=${registered[0]!.webhookSecret}\n`);
    expect(text).toContain(`GITHUB_CLIENT_ID=${registered[0]!.clientId}\n`);
    expect(text).toContain(`PRIVATE_KEY=${registered[0]!.pem.replaceAll('\n', '\\n')}\n`);
    // The secrets never reach the log.
    expect(app.output()).not.toContain(registered[0]!.webhookSecret);
    expect(app.output()).not.toContain('PRIVATE KEY');
  });

  it('refuses a second registration over the first', async () => {
    const again = await registerThroughBrowser(await setupForm(app.url));
    expect(again.status).toBe(409);
    expect(standIn.manifests.registered).toHaveLength(1);
    expect(await stop(app.child)).toBe(0);
  });

  it('the next start is the registered App: it reads github-app.env, and its key mints tokens', async () => {
    const registered = standIn.manifests.registered[0]!;
    const next = await startApp();
    expect(next.output()).toContain('maestro app listening');
    expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
    const wrong = pushDelivery('not-the-secret');
    expect(
      (
        await fetch(`${next.url}/api/github/webhooks`, {
          method: 'POST',
          body: wrong.body,
          headers: wrong.headers,
        })
      ).status,
    ).toBe(401);
    const push = pushDelivery(registered.webhookSecret);
    expect(
      (
        await fetch(`${next.url}/api/github/webhooks`, {
          method: 'POST',
          body: push.body,
          headers: push.headers,
        })
      ).status,
    ).toBe(202);
    await waitFor('the push to mint a token', () => (tokenMints().length > 0 ? true : undefined));
    expect(tokenMints()[0]).toBe(201);
    expect(standIn.violations).toEqual([]);
    expect(await stop(next.child)).toBe(0);
  });
});

describe('WEBHOOK_PROXY_URL: deliveries pulled from a smee-style relay', () => {
  let relay: Server;
  let relayUrl: string;
  const listeners: ServerResponse[] = [];

  beforeAll(async () => {
    // smee.io's protocol: the client holds GET <channel> open as text/event-stream; each delivery
    // is one `message` event whose data is the headers plus `body` (the parsed JSON payload).
    relay = createServer((req, res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write('event: ready\ndata: {}\n\n');
      listeners.push(res);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/channel`;
  });

  afterAll(async () => {
    for (const res of listeners) res.end();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  });

  it('forwards each relayed delivery to the webhook endpoint, which verifies it as any other', async () => {
    const registered = standIn.manifests.registered[0]!;
    const app = await startApp({ WEBHOOK_PROXY_URL: relayUrl });
    await waitFor('the relay client', () => (listeners.length > 0 ? listeners : undefined));
    expect(listeners).toHaveLength(1);
    // Forwarding starts when the client has seen the stream open, which it logs; an event written
    // before that is dropped by the client (smee-client's own rule), so wait for the log line.
    const explain = () => `the App's output:\n${app.output().slice(-6000)}`;
    await waitFor(
      'the relay connection',
      () => (app.output().includes('forwarding webhooks from the relay') ? true : undefined),
      { explain },
    );
    const before = tokenMints().length;
    const push = pushDelivery(registered.webhookSecret);
    const event = { ...push.headers, body: JSON.parse(push.body) as unknown, timestamp: Date.now() };
    listeners[0]!.write(`data: ${JSON.stringify(event)}\n\n`);
    await waitFor(
      'the forwarded delivery to mint a token',
      () => (tokenMints().length > before ? true : undefined),
      {
        explain,
      },
    );
    expect(tokenMints().slice(before)).toEqual([201]);
    expect(await stop(app.child)).toBe(0);
  }, 120_000);
});
