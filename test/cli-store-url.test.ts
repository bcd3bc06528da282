/**
 * Every command that reads runs opens the store the way `maestro run` does: with
 * MAESTRO_DATABASE_URL=postgres:// it refuses (the engine is not on PostgreSQL yet) instead of
 * quietly reading the SQLite file in the data dir, and the URL's password is never shown.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { captureIo } from './cli-helpers.ts';

describe('MAESTRO_DATABASE_URL on the commands that read stored runs', () => {
  for (const argv of [
    ['receipts', 'run-1'],
    ['disclose', 'run-1', '-o', 'bundle.tgz'],
  ])
    it(`maestro ${argv[0]} refuses postgres:// instead of reading SQLite`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'maestro-store-url-'));
      const io = captureIo(dir, {
        HOME: dir,
        MAESTRO_DATA_DIR: join(dir, 'data'),
        MAESTRO_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x',
      });
      expect(await runCli(argv, io)).not.toBe(0);
      expect(io.err()).toMatch(/PostgreSQL is not wired into it yet/);
      expect(io.out() + io.err()).not.toContain('hunter2');
    });
});
