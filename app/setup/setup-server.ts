import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ProbotOctokit } from 'probot';
import { buildManifest } from './app-manifest.ts';
import { CREDENTIALS_FILE, readCredentials, writeCredentials } from './credentials-file.ts';
import { renderRegisteredPage, renderSetupPage } from './setup-page.ts';

export interface SetupServerOptions {
  dataDir: string;
  appYmlPath: string;
  webhookPath: string;
  webhookProxyUrl?: string;
  /** GitHub's web address: `https://github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>`. */
  githubUrl: string;
  /** The REST API the code is converted at: `https://api.github.com` or `…/api/v3`. */
  apiBaseUrl: string;
  /** Register the App under this organisation (probot's GH_ORG) instead of the signed-in user. */
  org?: string;
  logger: Logger;
}

/**
 * `maestro app` before it is a GitHub App (started without APP_ID): probot's setup flow on
 * probot's paths. GET /probot shows a button that posts app.yml as a manifest to GitHub; GitHub
 * sends the browser back to /probot/setup?code=…&state=…, and the code is converted
 * (POST /app-manifests/{code}/conversions) into the App's id, private key, webhook secret and
 * OAuth client, written to <data-dir>/github-app.env (0600) for the next start.
 *
 * Written here rather than mounted from probot: probot exports its setup app only through `run()`,
 * which reads app.yml, package.json and .env from the working directory, writes the key to `.env`
 * there (impossible on a read-only root, and not 0600), points the webhook at `/`, and checks no
 * `state`. The conversion itself uses probot's Octokit, as probot's ManifestCreation does.
 */
export function createSetupServer(options: SetupServerOptions): Server {
  // GitHub hands `state` back with the code: a code arriving without the one this page issued
  // (a forged link, another tab's registration) is refused.
  const state = randomBytes(24).toString('hex');
  let registering = false;
  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.logger.error({ err: error }, 'app setup failed');
      if (!response.headersSent)
        reply(response, 502, { error: 'registering the App failed', code: 'setup_failed' });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://setup.local');
    if (url.pathname === '/healthz') return reply(response, 200, { status: 'ok' });
    if (url.pathname === '/readyz')
      return reply(response, 503, { status: 'not registered', setup: '/probot' });
    if (url.pathname === options.webhookPath)
      return reply(response, 503, {
        error: 'the GitHub App is not registered yet: open /probot',
        code: 'not_registered',
      });
    if (request.method !== 'GET') return reply(response, 405, { error: 'method not allowed' });
    if (url.pathname === '/') return redirect(response, '/probot');
    if (url.pathname === '/probot') return setupPage(request, response);
    if (url.pathname === '/probot/setup') return convert(url, response);
    reply(response, 404, { error: 'not found' });
  }

  function setupPage(request: IncomingMessage, response: ServerResponse): void {
    const manifest = buildManifest(options.appYmlPath, {
      publicUrl: publicUrl(request),
      webhookPath: options.webhookPath,
      ...(options.webhookProxyUrl ? { webhookProxyUrl: options.webhookProxyUrl } : {}),
    });
    const owner = options.org ? `/organizations/${encodeURIComponent(options.org)}` : '';
    const createAppUrl = `${options.githubUrl}${owner}/settings/apps/new?state=${state}`;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      renderSetupPage({
        name: String(manifest.name ?? 'Summit Maestro'),
        createAppUrl,
        manifest: JSON.stringify(manifest),
      }),
    );
  }

  async function convert(url: URL, response: ServerResponse): Promise<void> {
    const code = url.searchParams.get('code') ?? '';
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(code))
      return reply(response, 400, { error: 'code missing or invalid', code: 'setup_bad_code' });
    if (!sameSecret(url.searchParams.get('state') ?? '', state))
      return reply(response, 403, {
        error: 'state does not match the setup page this server issued',
        code: 'setup_bad_state',
      });
    if (registering || readCredentials(options.dataDir).APP_ID)
      return reply(response, 409, {
        error: `this data dir already has ${CREDENTIALS_FILE}`,
        code: 'setup_done',
      });
    registering = true;
    try {
      const octokit = new ProbotOctokit({
        baseUrl: options.apiBaseUrl,
        retry: { enabled: false },
        throttle: { enabled: false },
      });
      const { data } = await octokit.request('POST /app-manifests/{code}/conversions', { code });
      const path = writeCredentials(options.dataDir, {
        APP_ID: String(data.id),
        PRIVATE_KEY: data.pem,
        WEBHOOK_SECRET: data.webhook_secret ?? '',
        GITHUB_CLIENT_ID: data.client_id,
        GITHUB_CLIENT_SECRET: data.client_secret,
      });
      const installUrl = `${data.html_url}/installations/new`;
      options.logger.info(
        { appId: data.id, slug: data.slug, credentials: path, installUrl },
        'GitHub App registered: restart maestro app to use it',
      );
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(renderRegisteredPage({ name: data.name, credentialsPath: path, installUrl }));
    } finally {
      registering = false;
    }
  }
}

/** Where the browser reached this server (probot's reading: X-Forwarded-* behind a proxy). */
function publicUrl(request: IncomingMessage): string {
  const forwardedProto = String(request.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim();
  const protocol = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : 'http';
  const host = String(request.headers['x-forwarded-host'] ?? request.headers.host ?? 'localhost');
  return `${protocol}://${host}`;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function redirect(response: ServerResponse, location: string): void {
  response
    .writeHead(302, { location, 'content-type': 'text/plain' })
    .end(`Found. Redirecting to ${location}`);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
