/**
 * A proxy in front of the test OCI registry that misbehaves the way a registry (or someone between
 * the runner and it) can: a tag that moves once it has been read (the race between verification
 * and start), and manifest bytes served for a digest they are not (a lying or poisoned registry).
 * Everything else is forwarded to the real registry unchanged, so pushes, referrers and blobs
 * behave as the registry's own.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Forwards one request to `upstream` (`host:port`); upload Locations are rewritten to `self`. */
export function forwardTo(upstream: string, self: string, req: IncomingMessage, res: ServerResponse): void {
  const [hostname, port] = upstream.split(':');
  const headers = { ...req.headers, host: upstream };
  delete headers.authorization;
  const out = request({ hostname, port, path: req.url, method: req.method, headers }, (answer) => {
    const back = { ...answer.headers };
    if (typeof back.location === 'string') back.location = back.location.replace(upstream, self);
    res.writeHead(answer.statusCode ?? 502, back);
    answer.pipe(res);
  });
  req.pipe(out);
}

export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface RegistryProxy {
  host: string;
  /** After the first read of `repository:tag`, the tag names `digest` (as a push would make it). */
  moveTagAfterFirstRead(repository: string, tag: string, digest: string): void;
  /** Reads of `repository@digest` get the bytes of `other` (with `digest` as the claimed digest). */
  serveOtherBytes(repository: string, digest: string, other: string): void;
  /** How many GETs of a manifest by this reference the proxy answered. */
  reads(repository: string, reference: string): number;
  stop(): Promise<void>;
}

export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const moves = new Map<string, string>();
  const lies = new Map<string, string>();
  const counts = new Map<string, number>();
  let self = '';

  async function manifestOf(repository: string, digest: string) {
    const answer = await fetch(`http://${upstream}/v2/${repository}/manifests/${digest}`, {
      headers: {
        accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    return { bytes: Buffer.from(await answer.arrayBuffer()), type: answer.headers.get('content-type') ?? '' };
  }

  const server = createServer((req, res) => {
    const match = /^\/v2\/(.+)\/manifests\/([^/?]+)$/.exec(req.url ?? '');
    if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return forwardTo(upstream, self, req, res);
    const [, repository, reference] = match as unknown as [string, string, string];
    const key = `${repository}@${reference}`;
    const seen = counts.get(key) ?? 0;
    if (req.method === 'GET') counts.set(key, seen + 1);
    const other = lies.get(key) ?? (seen > 0 ? moves.get(key) : undefined);
    if (!other) return forwardTo(upstream, self, req, res);
    req.resume();
    void manifestOf(repository, other).then(({ bytes, type }) => {
      const claimed = lies.has(key) ? reference : other;
      res.writeHead(200, {
        'content-type': type,
        'content-length': bytes.length,
        'docker-content-digest': claimed,
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    });
  });
  self = await listenLoopback(server);
  return {
    host: self,
    moveTagAfterFirstRead: (repository, tag, digest) => void moves.set(`${repository}@${tag}`, digest),
    serveOtherBytes: (repository, digest, other) => void lies.set(`${repository}@${digest}`, other),
    reads: (repository, reference) => counts.get(`${repository}@${reference}`) ?? 0,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
