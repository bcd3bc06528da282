/** `maestro tokens create`: mint a token, store its hash, return the token to print once. */
import { randomUUID } from 'node:crypto';
import type { ApiStore, StoredToken } from './api-store.ts';
import { mintToken, type Scope } from './tokens.ts';

export const DEFAULT_TOKEN_TTL_MS = 90 * 86_400_000;

export interface CreateTokenOptions {
  name: string;
  scopes: Scope[];
  user: string;
  namespaces: string[];
  ttlMs: number;
  now: number;
}

export async function createToken(
  store: ApiStore,
  o: CreateTokenOptions,
): Promise<{ token: string; record: StoredToken }> {
  const { token, hash } = mintToken();
  const record: StoredToken = {
    id: `tok-${randomUUID().slice(0, 8)}`,
    name: o.name,
    hash,
    scopes: o.scopes,
    user: o.user,
    namespaces: o.namespaces,
    createdAt: o.now,
    expiresAt: o.now + o.ttlMs,
    revokedAt: null,
  };
  await store.putToken(record);
  return { token, record };
}
