/**
 * API tokens: `mst_` + 30 random base62 characters + a 6-character base62 CRC32 of them, so a
 * secret scanner can recognise a token (and a typo is caught before the store is asked). Only the
 * token's SHA-256 is ever stored; the token itself is printed once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The one scope table: every route names one of these (route-table.ts); later routes add rows. */
export const SCOPES = [
  'workflows:read',
  'workflows:write',
  'runs:read',
  'runs:write',
  'approvals:write',
  // Its own scope, not admin: a scraper's token sits in Prometheus's configuration, so it
  // should read the metrics and nothing else.
  'metrics:read',
  // Exchanging the token for a browser session (the console): a token made for CI or a scraper
  // cannot become a cookie unless the operator says so.
  'console',
  // SIG starting an allow-listed runbook (POST /v1/runbooks/…/trigger): not runs:write, so SIG's
  // token cannot start any stored workflow, only what the operator's allow-list names.
  'runbooks:trigger',
  // Reading the stored SBOMs (GET /v1/sbom): which releases and images contain a component. Its
  // own scope: a vulnerability scanner's token learns what is deployed, and nothing about runs.
  'sbom:read',
  // Setting a namespace's budget and quotas (PUT /v1/budgets/…): its own scope, so a token that
  // starts runs cannot raise the limit its runs are held to.
  'budgets:write',
  // Reading what namespaces spent (GET /v1/usage) and their budgets (GET /v1/budgets…): a
  // namespace-limited token reads its own namespaces only.
  'usage:read',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export const TOKEN_PREFIX = 'mst_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const TOKEN_SHAPE = /^mst_[0-9A-Za-z]{36}$/;

function base62(value: bigint, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out;
}

function checksum(random: string): string {
  return base62(BigInt(crc32(random)), CHECKSUM_LENGTH);
}

/** A new token (to print once) and the hash to store. */
export function mintToken(): { token: string; hash: string } {
  // Rejection-free: 30 characters from 30 random bytes, each reduced mod 62 via a 64-bit draw.
  const bytes = randomBytes(RANDOM_LENGTH * 8);
  let random = '';
  for (let i = 0; i < RANDOM_LENGTH; i++) random += ALPHABET[Number(bytes.readBigUInt64BE(i * 8) % 62n)];
  const token = `${TOKEN_PREFIX}${random}${checksum(random)}`;
  return { token, hash: hashToken(token) };
}

/** Well formed: the prefix, the length, the alphabet and the checksum all hold. */
export function isWellFormedToken(token: string): boolean {
  if (!TOKEN_SHAPE.test(token)) return false;
  const random = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + RANDOM_LENGTH);
  return checksum(random) === token.slice(TOKEN_PREFIX.length + RANDOM_LENGTH);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length || scopes.length === 0)
    throw new Error(
      `unknown scope${unknown.length === 1 ? '' : 's'} ${unknown.join(', ') || '(none given)'}; scopes are ${SCOPES.join(', ')}`,
    );
  return scopes as Scope[];
}

/** `90d`, `12h`, `30m`: a duration in milliseconds, or undefined when the text is not one. */
export function parseExpiry(text: string): number | undefined {
  const match = /^(\d{1,5})([dhm])$/.exec(text);
  if (!match) return undefined;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
  return Number(match[1]) * unit;
}
