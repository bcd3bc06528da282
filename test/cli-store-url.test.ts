/**
 * Every command that reads runs opens the store the way `maestro run` does: with
 * MAESTRO_DATABASE_URL=postgres:// it opens that PostgreSQL database (here one nobody listens
 * for, so it fails naming it) instead of quietly reading the SQLite file in the data dir, and the
 * URL's password is never shown. Reading a real PostgreSQL: test/engine-postgres-e2e.test.ts.
 */
import { existsSync } from 'node:fs';
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
    it(`maestro ${argv[0]} opens postgres://, not SQLite`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'maestro-store-url-'));
      const io = captureIo(dir, {
        HOME: dir,
        MAESTRO_DATA_DIR: join(dir, 'data'),
        MAESTRO_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x',
      });
      expect(await runCli(argv, io)).not.toBe(0);
      expect(io.err()).toMatch(
        /the PostgreSQL database postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x cannot be used/,
      );
      expect(io.out() + io.err()).not.toContain('hunter2');
      expect(existsSync(join(dir, 'data', 'maestro.db'))).toBe(false);
    });
});
