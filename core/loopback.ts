/**
 * Whether a host is this machine's loopback: `localhost`, 127.0.0.0/8 or ::1 (in any spelling,
 * IPv4-mapped forms included). The one check behind every "plain text only to a loopback
 * address" rule (secrets over plain HTTP, SASL without TLS, gRPC metadata secrets, SMTP without
 * TLS, plain-HTTP registries), so they cannot drift: an earlier copy took any host name starting
 * with `127.` (`127.example.com`) for loopback. Accepts a URL's `hostname` (`[::1]`) and a
 * `host:port` (`127.0.0.1:5000`, `[::1]:5000`). Matched by address, never by name prefix.
 */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopbackHost(host: string): boolean {
  const name = hostPart(host).toLowerCase();
  if (name === 'localhost' || name === 'localhost.') return true;
  const family = isIP(name);
  if (family === 0) return false;
  return LOOPBACK.check(name, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Why a credential (`what`: "the bearer token", "the authorization header") may not be sent to
 * `url`, or undefined where it may: over plain http:// only to a loopback address, since anyone on
 * the path would read it. The one rule and message behind every `credential_in_clear` refusal
 * (the http task's credential headers and identity, the SIG clients' bearer), so they cannot
 * drift apart; callers throw it as their own error type with that code.
 */
export function credentialInClear(url: URL, what: string): string | undefined {
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return undefined;
  return `${what} would go to ${url.hostname} in clear over http://: use https:// (plain http only to a loopback address)`;
}

/** The host of `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address stays whole. */
function hostPart(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!;
  const withPort = /^([^:]*):\d+$/.exec(host);
  return withPort ? withPort[1]! : host;
}
