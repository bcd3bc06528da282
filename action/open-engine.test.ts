import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'maestro-action-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A child process: the runtime's logger writes to file descriptor 2, which only a child can read.
const openAndClose = `
import { openActionEngine } from ${JSON.stringify(new URL('./open-engine.ts', import.meta.url).href)};
import { loadBuiltinCatalog } from ${JSON.stringify(new URL('../tasks/index.ts', import.meta.url).href)};
const engine = await openActionEngine({
  cwd: ${JSON.stringify(dir)},
  defaultDataDir: ${JSON.stringify(join(dir, 'data'))},
  catalog: await loadBuiltinCatalog(),
  env: process.env,
});
await engine.close();
`;

describe('openActionEngine', () => {
  it('logs each note about the runners once', () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', openAndClose], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        MAESTRO_LOG_LEVEL: 'info',
        MAESTRO_PROVENANCE: 'off',
        MAESTRO_POLICY: 'off',
        DOCKER_HOST: 'tcp://127.0.0.1:2375',
      },
    });
    expect(result.status, result.stderr).toBe(0);
    const notes = result.stderr.split('\n').filter((line) => line.includes('is not a unix socket'));
    expect(notes).toHaveLength(1);
  });
});
