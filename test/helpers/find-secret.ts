// Where a secret's bytes appear under a folder (a data dir: its database, WAL, logs, receipts,
// artifacts): the attack tests of tasks that hold secrets assert this finds nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export function filesHolding(root: string, secret: string): string[] {
  const needle = Buffer.from(secret, 'utf8');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .filter((file) => readFileSync(file).includes(needle))
    .map((file) => relative(root, file));
}
