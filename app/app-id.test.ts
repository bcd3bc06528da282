import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeConfigFromEnv } from '../runtime/index.ts';
import { readAppId } from './config.ts';
import { AppConfigError } from './errors.ts';
import { createMaestroApp, type MaestroAppOptions } from './maestro-app.ts';
import { openAppRuntime } from './runtime.ts';

describe('APP_ID', () => {
  it('is read as a number, and a value that is not one fails naming the variable', () => {
    expect(readAppId('777')).toBe(777);
    for (const bad of ['abc', '12abc', '', ' 12', '0', '1e3', '-4'])
      expect(() => readAppId(bad), bad).toThrow(/^APP_ID must be the numeric GitHub App id/);
  });

  it('stops createMaestroApp before anything starts (it was NaN in the JWTs and the comment check)', async () => {
    // Nothing else is looked at: the options below would fail later, not first.
    const error = await createMaestroApp({ appId: 'my-app' } as MaestroAppOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).setting).toBe('APP_ID');
    expect((error as AppConfigError).fault).toBe('user');
    expect((error as Error).message).toContain('"my-app"');
  });

  it('stops openAppRuntime before the runtime opens: nothing is created in the data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maestro-app-id-'));
    try {
      const error = await openAppRuntime({
        appId: 'NaN',
        privateKey: '',
        webhookSecret: 'x',
        webhookPath: '/api/github/webhooks',
        baseUrl: 'http://127.0.0.1:1',
        runtime: runtimeConfigFromEnv({ MAESTRO_DATA_DIR: dataDir, PATH: '/usr/bin' }, { cwd: dataDir }),
        forkRunner: 'none',
        runUpdateIntervalMs: 1000,
      }).catch((e: unknown) => e);
      expect((error as AppConfigError).setting).toBe('APP_ID');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
