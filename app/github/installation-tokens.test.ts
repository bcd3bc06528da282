import { describe, expect, it } from 'vitest';
import { InstallationTokens } from './installation-tokens.ts';

describe('InstallationTokens', () => {
  it('mints once per installation, shares a mint between concurrent asks, and renews before expiry', async () => {
    let now = 0;
    const mints: number[] = [];
    const tokens = new InstallationTokens(
      async (id) => {
        mints.push(id);
        return { token: `t-${id}-${mints.length}`, expiresAt: now + 60 * 60_000 };
      },
      () => now,
    );
    const [a, b] = await Promise.all([tokens.token(1), tokens.token(1)]);
    expect(a).toBe('t-1-1');
    expect(b).toBe('t-1-1');
    expect(await tokens.token(2)).toBe('t-2-2');
    now += 50 * 60_000; // ten minutes before expiry: still good
    expect(await tokens.token(1)).toBe('t-1-1');
    now += 6 * 60_000; // four minutes before expiry: renewed
    expect(await tokens.token(1)).toBe('t-1-3');
    expect(mints).toEqual([1, 2, 1]);
  });

  it('does not remember a failed mint', async () => {
    let fail = true;
    const tokens = new InstallationTokens(
      async () => {
        if (fail) throw new Error('refused');
        return { token: 'ok', expiresAt: 60 * 60_000 };
      },
      () => 0,
    );
    await expect(tokens.token(7)).rejects.toThrow('refused');
    fail = false;
    expect(await tokens.token(7)).toBe('ok');
  });

  it('mints again after a refused token is forgotten, whatever its expiry', async () => {
    let mints = 0;
    const tokens = new InstallationTokens(
      async () => ({ token: `t-${++mints}`, expiresAt: 60 * 60_000 }),
      () => 0,
    );
    expect(await tokens.token(3)).toBe('t-1');
    tokens.forget(3);
    expect(await tokens.token(3)).toBe('t-2');
    expect(await tokens.token(3)).toBe('t-2');
  });
});
