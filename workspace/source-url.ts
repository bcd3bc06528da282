/**
 * Which remote locations a source may come from. HTTPS anywhere; plain HTTP only to a loopback
 * address (the GitHub stand-in, a local mirror), since a token sent in the clear to another host
 * is a token given away. Credentials never ride in the URL: the URL is recorded with the run and
 * in its receipts, and git writes it to FETCH_HEAD; the token goes in a header instead.
 */
import { isLoopbackHost } from '../core/index.ts';
import { SourceRefusedError } from './source-errors.ts';

export function isRemoteLocation(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

export function checkRemoteUrl(location: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new SourceRefusedError(location, 'not a URL', 'pass an https:// URL or a local directory');
  }
  if (url.username || url.password)
    throw new SourceRefusedError(
      redactUserinfo(url),
      'the URL carries credentials, which would be stored with the run',
      'drop the user:password@ part; Maestro sends the token in a header',
    );
  if (url.search || url.hash)
    throw new SourceRefusedError(location, 'the URL has a query or fragment', 'pass the plain clone URL');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new SourceRefusedError(
    location,
    url.protocol === 'http:'
      ? 'plain HTTP is allowed only to a loopback address'
      : `${url.protocol} is not allowed`,
    'use an https:// clone URL',
  );
}

function redactUserinfo(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '***';
  copy.password = '';
  return copy.href;
}
