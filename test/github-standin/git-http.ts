/**
 * Git's smart HTTP protocol for the stand-in, served by the real `git http-backend` (CGI), as
 * GitHub serves `https://github.com/<owner>/<repo>.git` to an App with its installation token
 * (HTTP Basic, user `x-access-token`, password the token). Only fetches: the receive-pack
 * service is refused, as it would be for a read-only installation.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitHttpRequestRecord {
  method: string;
  /** `owner/name` of the repository asked for. */
  repo: string;
  path: string;
  /** The token the client presented (Basic password), if any. */
  token: string | undefined;
  status: number;
}

/** `/<owner>/<repo>.git/<rest>` → its parts, or undefined for any other path. */
export function matchGitPath(pathname: string): { owner: string; name: string; rest: string } | undefined {
  const m = /^\/([^/]+)\/([^/]+?)\.git(\/.*)$/.exec(pathname);
  return m ? { owner: m[1]!, name: m[2]!, rest: m[3]! } : undefined;
}

export function basicToken(req: IncomingMessage): string | undefined {
  const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return at < 0 ? undefined : decoded.slice(at + 1);
}

/** Runs `git http-backend` for one request on a bare repository and streams its answer. */
export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  bareDir: string,
  rest: string,
  query: string,
): Promise<number> {
  if (rest.includes('receive-pack') || query.includes('receive-pack')) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end('pushes are not served\n');
    return Promise.resolve(403);
  }
  const name = bareDir.split('/').pop()!;
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: dirname(bareDir),
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      PATH_INFO: `/${name}${rest}`,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding']
        ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
        : {}),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    let status = 200;
    let started = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (started) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const at = line.indexOf(':');
        const key = line.slice(0, at).trim();
        const value = line.slice(at + 1).trim();
        if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      started = true;
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => {
      if (!started) res.writeHead(500).end();
      else res.end();
      resolve(status);
    });
  });
}
