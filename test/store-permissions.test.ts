/**
 * A data dir another user owns (a root-owned volume mounted for the image's non-root user) is a
 * permission problem, said as one. Before, it was reported as "corrupt or not a database", which
 * sends an operator to restore a backup over a healthy database.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../engine/index.ts';

const repo = join(import.meta.dirname, '..');

/** `maestro runs list` as another user when we are root (setpriv), else as us on a 0000 dir. */
function runsListDenied(dataDir: string) {
  const maestro = [process.execPath, join(repo, 'bin/maestro.ts'), 'runs', 'list', '--data-dir', dataDir];
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(dataDir, 0o000);
  const [command, ...args] = asRoot
    ? ['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', ...maestro]
    : maestro;
  return spawnSync(command!, args, { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmpdir() } });
}

// As root the check runs maestro as uid 1000, which must be able to read the checkout: a clone
// inside a 0700 directory (`mktemp -d`) is not readable to it, and there the case cannot be played.
const asOther = ['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups'];
const otherReadsCheckout =
  process.getuid?.() !== 0 ||
  spawnSync(asOther[0]!, [...asOther.slice(1), 'test', '-r', join(repo, 'bin/maestro.ts')]).status === 0;

describe('a data dir this user cannot open', () => {
  it.skipIf(!otherReadsCheckout)(
    'says permission denied, names the owner and mode, and leaves the database untouched',
    () => {
      const root = mkdtempSync(join(tmpdir(), 'maestro-perm-'));
      chmodSync(root, 0o755);
      const dataDir = join(root, 'data');
      openStore({ dataDir }).close(); // a healthy database, its dir 0700
      const before = readFileSync(join(dataDir, 'maestro.db'));
      const result = runsListDenied(dataDir);
      chmodSync(dataDir, 0o700);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /cannot be opened: permission denied on .*data \(owner uid \d+, mode [0-7]+\)/,
      );
      expect(result.stderr).not.toMatch(/corrupt/);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(readFileSync(join(dataDir, 'maestro.db')).equals(before)).toBe(true);
    },
  );
});
