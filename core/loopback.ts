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

/** The host of `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address stays whole. */
function hostPart(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!;
  const withPort = /^([^:]*):\d+$/.exec(host);
  return withPort ? withPort[1]! : host;
}
