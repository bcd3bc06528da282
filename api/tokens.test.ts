import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiStore } from './open-api-store.ts';
import { authenticate, authorize } from './auth.ts';
import { createToken } from './create-token.ts';
import { hashToken, isWellFormedToken, mintToken, parseExpiry, parseScopes } from './tokens.ts';

describe('tokens', () => {
  it('are mst_ + 30 base62 + a checksum that catches a changed character', () => {
    const { token, hash } = mintToken();
    expect(token).toMatch(/^mst_[0-9A-Za-z]{36}$/);
    expect(isWellFormedToken(token)).toBe(true);
    expect(hash).toBe(hashToken(token));
    const flipped = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    expect(isWellFormedToken(flipped)).toBe(false);
    expect(isWellFormedToken(`${token}x`)).toBe(false);
    expect(mintToken().token).not.toBe(token);
  });

  it('are stored as their SHA-256 only: the token is nowhere in the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-tokens-'));
    try {
      const store = await openApiStore({ dataDir: dir });
      const { token } = await createToken(store, {
        name: 'ci',
        scopes: ['runs:read'],
        user: 'ci',
        namespaces: [],
        ttlMs: 1000,
        now: 0,
      });
      await store.close();
      const bytes = readdirSync(dir)
        .map((f) => readFileSync(join(dir, f)).toString('latin1'))
        .join('');
      expect(bytes).not.toContain(token);
      expect(bytes).not.toContain(token.slice(4, 20));
      expect(bytes).toContain(hashToken(token));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('authenticate refuses missing, malformed, unknown, revoked and expired tokens alike (401)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-auth-'));
    const store = await openApiStore({ dataDir: dir });
    try {
      const make = (now: number) =>
        createToken(store, { name: 'x', scopes: ['runs:read'], user: 'u', namespaces: [], ttlMs: 1000, now });
      const live = await make(10_000);
      const caller = await authenticate(store, `Bearer ${live.token}`, 10_500);
      expect(caller).toMatchObject({ user: 'u', scopes: ['runs:read'] });
      expect(() => authorize(caller, 'runs:write')).toThrow(expect.objectContaining({ status: 403 }));
      const cases = [
        undefined,
        'Basic abc',
        `Bearer ${live.token.slice(0, -1)}x`,
        `Bearer ${mintToken().token}`,
        `Bearer ${live.token}`, // at its expiry time
      ];
      for (const [i, header] of cases.entries())
        await expect(authenticate(store, header, i === 4 ? 11_000 : 10_500), String(header)).rejects.toThrow(
          expect.objectContaining({ status: 401, code: 'unauthorized' }),
        );
      await store.revokeToken(live.record.id, 10_600);
      await expect(authenticate(store, `Bearer ${live.token}`, 10_700)).rejects.toThrow(
        expect.objectContaining({ status: 401 }),
      );
      expect(await store.revokeToken(live.record.id, 10_800)).toBe(false);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parse scopes and lifetimes, naming what is wrong', () => {
    expect(parseScopes('runs:write, workflows:write')).toEqual(['runs:write', 'workflows:write']);
    expect(() => parseScopes('runs:write,root')).toThrow(/unknown scope root/);
    expect(() => parseScopes('')).toThrow(/none given/);
    expect(parseExpiry('90d')).toBe(90 * 86_400_000);
    expect(parseExpiry('12h')).toBe(12 * 3_600_000);
    expect(parseExpiry('soon')).toBeUndefined();
  });
});
