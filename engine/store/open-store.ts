/** Opens the default embedded store for a data dir. */
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export function openStore(options: { dataDir: string }): Store {
  return new SqliteStore(options.dataDir);
}
