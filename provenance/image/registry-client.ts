/**
 * A small OCI distribution-spec v1.1 client over fetch: resolve a tag to its digest, read
 * manifests and blobs (each checked against its digest before use), list referrers (with the
 * referrers-tag fallback), push blobs and manifests. Written by hand because no well-kept npm
 * client covers referrers and pushes (`@snyk/docker-registry-v2-client` only pulls, and none reads
 * the referrers API); this is the part of the spec Maestro needs and nothing more.
 *
 * Plain HTTP is used only for loopback registries and for hosts the operator lists as insecure.
 * Anonymous bearer tokens (the `WWW-Authenticate: Bearer` challenge) and basic credentials work,
 * given per host or looked up in Docker's auth file and credential helpers (registry-auth.ts).
 * Credentials never follow a redirect to another origin (fetch drops `authorization` there; a
 * registry sends blobs to its CDN that way).
 */
import { createHash } from 'node:crypto';
import { isLoopbackHost } from '../../core/index.ts';
import { RegistryError, ImageError, ImageReason } from './image-errors.ts';
import type { ImageReference } from './image-reference.ts';
import type { BasicCredentials, CredentialLookup } from './registry-auth.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_TYPES = [
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
/** Manifests and signature bundles are small; a registry sending more is refused. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

export interface RegistryClientOptions {
  /** Registries (`host:port`) reached over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  /** Basic credentials per registry host. */
  credentials?: Record<string, BasicCredentials>;
  /** Credentials for hosts `credentials` does not name: dockerConfigCredentials (registry-auth.ts). */
  credentialsFor?: CredentialLookup;
  fetch?: typeof fetch;
}

export interface RegistryClient {
  resolve(ref: ImageReference): Promise<FetchedManifest>;
  manifest(ref: ImageReference, digest: string): Promise<FetchedManifest>;
  blob(ref: ImageReference, digest: string): Promise<Buffer>;
  referrers(ref: ImageReference, digest: string, artifactType?: string): Promise<Descriptor[]>;
  pushBlob(ref: ImageReference, bytes: Buffer): Promise<Descriptor>;
  pushManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<string>;
}

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Whether a registry is reached over plain HTTP: loopback ones, and those the operator lists. */
export function isPlainHttpRegistry(registry: string, insecureRegistries: readonly string[] = []): boolean {
  return isLoopbackHost(registry) || insecureRegistries.includes(registry);
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const doFetch = options.fetch ?? fetch;
  const tokens = new Map<string, string>();
  const base = (ref: ImageReference) => {
    const plain = isPlainHttpRegistry(ref.registry, options.insecureRegistries);
    return `${plain ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  };

  async function send(
    ref: ImageReference,
    url: string,
    init: RequestInit = {},
    reauthorised = false,
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = tokens.get(ref.registry + ref.repository);
    const basic = options.credentials?.[ref.registry] ?? (await options.credentialsFor?.(ref.registry));
    if (token) headers.set('authorization', `Bearer ${token}`);
    else if (basic)
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`,
      );
    let response: Response;
    try {
      response = await doFetch(url, { ...init, headers, redirect: 'follow' });
    } catch (cause) {
      throw new RegistryError(`registry ${ref.registry} is unreachable: ${(cause as Error).message}`, {
        cause,
      });
    }
    const challenge = response.headers.get('www-authenticate');
    // No token yet, or the one held lacks this request's scope (a token from a pull, asked to push,
    // or expired): the challenge names the scope; ask for it once.
    if (response.status === 401 && !reauthorised && challenge?.toLowerCase().startsWith('bearer ')) {
      await response.body?.cancel();
      tokens.set(ref.registry + ref.repository, await bearerToken(ref, challenge, basic));
      return send(ref, url, init, true);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(
        `registry ${ref.registry} answered ${response.status} for ${ref.repository}: ${basic ? 'the credentials given were refused' : 'it needs credentials and none were found'}`,
        {
          retryable: false,
          hint: `log in (docker login / podman login ${ref.registry}, which write the auth file REGISTRY_AUTH_FILE or ~/.docker/config.json name), or fix the credential helper`,
        },
      );
    }
    return response;
  }

  async function bearerToken(
    ref: ImageReference,
    challenge: string,
    basic: BasicCredentials | undefined,
  ): Promise<string> {
    const params = Object.fromEntries(
      [...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (!params.realm)
      throw new RegistryError(`registry ${ref.registry} sent a bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull,push`);
    const headers: Record<string, string> = basic
      ? { authorization: `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}` }
      : {};
    const response = await doFetch(url, { headers }).catch((cause: Error) => {
      throw new RegistryError(`the token service of ${ref.registry} is unreachable: ${cause.message}`);
    });
    if (!response.ok)
      throw new RegistryError(`the token service of ${ref.registry} answered ${response.status}`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`the token service of ${ref.registry} returned no token`);
    return token;
  }

  async function readBounded(ref: ImageReference, response: Response, what: string): Promise<Buffer> {
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_DOCUMENT_BYTES) {
      await response.body?.cancel();
      throw new RegistryError(`${what} from ${ref.registry} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_DOCUMENT_BYTES)
      throw new RegistryError(`${what} from ${ref.registry} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    return bytes;
  }

  async function getManifest(
    ref: ImageReference,
    reference: string,
    expected?: string,
  ): Promise<FetchedManifest> {
    const response = await send(ref, `${base(ref)}/manifests/${reference}`, {
      headers: { accept: MANIFEST_TYPES.join(', ') },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ImageError(
        ImageReason.notFound,
        `${ref.registry}/${ref.repository}:${reference} is not in the registry`,
        {
          hint: 'push the image first, or check the reference',
        },
      );
    }
    if (!response.ok)
      throw new RegistryError(`${ref.registry} answered ${response.status} for manifest ${reference}`);
    const bytes = await readBounded(ref, response, 'a manifest');
    const digest = sha256Of(bytes);
    // The bytes are what counts: a header or a pinned digest that disagrees with them is an attack
    // (or a broken registry), and the image is not used.
    const claimed = response.headers.get('docker-content-digest');
    if ((expected && digest !== expected) || (claimed && claimed !== digest))
      throw new ImageError(
        ImageReason.digestChanged,
        `the registry served manifest bytes with digest ${digest} for ${expected ?? claimed}`,
      );
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new RegistryError(`the manifest ${digest} from ${ref.registry} is not JSON`, { cause });
    }
    const mediaType =
      (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
      response.headers.get('content-type') ??
      OCI_MANIFEST;
    return { digest, mediaType, bytes, json };
  }

  return {
    resolve: (ref) => getManifest(ref, ref.digest ?? ref.tag ?? 'latest', ref.digest),
    manifest: (ref, digest) => getManifest(ref, digest, digest),

    async blob(ref, digest) {
      const response = await send(ref, `${base(ref)}/blobs/${digest}`);
      if (!response.ok)
        throw new RegistryError(`${ref.registry} answered ${response.status} for blob ${digest}`);
      const bytes = await readBounded(ref, response, 'a blob');
      if (sha256Of(bytes) !== digest)
        throw new ImageError(
          ImageReason.signatureInvalid,
          `the blob served as ${digest} has digest ${sha256Of(bytes)}`,
        );
      return bytes;
    },

    async referrers(ref, digest, artifactType) {
      const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      let response = await send(ref, `${base(ref)}/referrers/${digest}${query}`, {
        headers: { accept: OCI_INDEX },
      });
      if (response.status === 404) {
        // distribution-spec v1.1: no referrers API, so the referrers tag `sha256-<hex>` instead.
        await response.body?.cancel();
        response = await send(ref, `${base(ref)}/manifests/${digest.replace(':', '-')}`, {
          headers: { accept: OCI_INDEX },
        });
        if (response.status === 404) {
          await response.body?.cancel();
          return [];
        }
      }
      if (!response.ok)
        throw new RegistryError(`${ref.registry} answered ${response.status} for referrers of ${digest}`);
      const index = JSON.parse((await readBounded(ref, response, 'a referrers list')).toString('utf8')) as {
        manifests?: Descriptor[];
      };
      const list = Array.isArray(index.manifests) ? index.manifests : [];
      return artifactType ? list.filter((d) => d.artifactType === artifactType) : list;
    },

    async pushBlob(ref, bytes) {
      const digest = sha256Of(bytes);
      const head = await send(ref, `${base(ref)}/blobs/${digest}`, { method: 'HEAD' });
      if (head.ok) return { mediaType: 'application/octet-stream', digest, size: bytes.length };
      const started = await send(ref, `${base(ref)}/blobs/uploads/`, { method: 'POST' });
      await started.body?.cancel();
      const location = started.headers.get('location');
      if (started.status !== 202 || !location)
        throw new RegistryError(`${ref.registry} refused a blob upload (${started.status})`);
      const url = new URL(location, `${base(ref)}/`);
      url.searchParams.set('digest', digest);
      const put = await send(ref, url.toString(), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(bytes),
      });
      await put.body?.cancel();
      if (put.status !== 201)
        throw new RegistryError(`${ref.registry} refused blob ${digest} (${put.status})`);
      return { mediaType: 'application/octet-stream', digest, size: bytes.length };
    },

    async pushManifest(ref, bytes, mediaType) {
      const digest = sha256Of(bytes);
      const put = await send(ref, `${base(ref)}/manifests/${digest}`, {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: new Uint8Array(bytes),
      });
      await put.body?.cancel();
      if (put.status !== 201)
        throw new RegistryError(`${ref.registry} refused manifest ${digest} (${put.status})`);
      return digest;
    },
  };
}
