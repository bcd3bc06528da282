/**
 * Opens the default embedded store for a data dir. `durability`: `normal` (default) survives a
 * killed process; `full` also survives power loss, at one fsync per commit (see open-database.ts).
 */
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export function openStore(options: { dataDir: string; durability?: 'normal' | 'full' }): Store {
  return new SqliteStore(options.dataDir, options.durability);
}
