import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export interface RegisteredApp {
  id: number;
  slug: string;
  manifest: Record<string, unknown>;
  pem: string;
  publicKey: KeyObject;
  webhookSecret: string;
  clientId: string;
  clientSecret: string;
}

/**
 * GitHub's App manifest flow for the stand-in: the web form (POST /settings/apps/new, or
 * /organizations/<org>/settings/apps/new, with a `manifest` form field) that GitHub answers,
 * after the user confirms, by sending the browser to the manifest's `redirect_url` with a
 * one-time `code` and the `state` it was given; and the REST conversion of that code
 * (POST /app-manifests/{code}/conversions, checked against the OpenAPI description like every
 * API call) into the App's id, private key, webhook secret and OAuth client.
 */
export class ManifestFlow {
  readonly registered: RegisteredApp[] = [];
  /** Form posts the stand-in received (owner is the org, or undefined for the user). */
  readonly formPosts: { owner: string | undefined; state: string | null }[] = [];
  readonly #codes = new Map<string, { manifest: Record<string, unknown>; expiresAt: number }>();
  #nextId = 70_000;

  /** The web form, or false when the path is not it. */
  handleForm(method: string, url: URL, body: Buffer, res: ServerResponse): boolean {
    const match = /^(?:\/organizations\/([^/]+))?\/settings\/apps\/new$/.exec(url.pathname);
    if (!match || method !== 'POST') return false;
    const state = url.searchParams.get('state');
    this.formPosts.push({ owner: match[1], state });
    const raw = new URLSearchParams(body.toString('utf8')).get('manifest');
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(raw ?? '') as Record<string, unknown>;
    } catch {
      res.writeHead(422, { 'content-type': 'text/plain' }).end('Invalid GitHub App configuration');
      return true;
    }
    const code = randomBytes(10).toString('hex');
    // GitHub: "the code expires after one hour"; it is good for one conversion.
    this.#codes.set(code, { manifest, expiresAt: Date.now() + 60 * 60 * 1000 });
    const back = new URL(String(manifest.redirect_url));
    back.searchParams.set('code', code);
    if (state !== null) back.searchParams.set('state', state);
    res.writeHead(302, { location: back.toString() }).end();
    return true;
  }

  /** The conversion: 201 with the App and its secrets, once per code; 404 otherwise. */
  convert(code: string, origin: string): [number, unknown] {
    const entry = this.#codes.get(code);
    this.#codes.delete(code);
    if (!entry || entry.expiresAt <= Date.now()) return [404, { message: 'Not Found' }];
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const name = String(entry.manifest.name ?? 'app');
    const app: RegisteredApp = {
      id: this.#nextId++,
      slug: name.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-'),
      manifest: entry.manifest,
      pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      publicKey,
      webhookSecret: randomBytes(20).toString('hex'),
      clientId: `Iv1.${randomBytes(8).toString('hex')}`,
      clientSecret: randomBytes(20).toString('hex'),
    };
    this.registered.push(app);
    const now = new Date().toISOString();
    return [
      201,
      {
        id: app.id,
        slug: app.slug,
        node_id: `A_${app.id}`,
        owner: { login: 'octo-org', id: 1, type: 'Organization' },
        name,
        description: entry.manifest.description ?? null,
        external_url: String(entry.manifest.url ?? origin),
        html_url: `${origin}/apps/${app.slug}`,
        created_at: now,
        updated_at: now,
        permissions: entry.manifest.default_permissions ?? {},
        events: entry.manifest.default_events ?? [],
        client_id: app.clientId,
        client_secret: app.clientSecret,
        webhook_secret: app.webhookSecret,
        pem: app.pem,
      },
    ];
  }
}
