/**
 * The pg driver, loaded on first use: a run on the embedded SQLite store (the default) never
 * needs it, and loading it at start-up cost every command its modules (issue 18, start-up).
 * `loadPg` is awaited by `openPool`, the one way into PostgreSQL, so `loadedPg` (for the
 * synchronous helpers that run on an open pool's connections) always finds it loaded.
 */
import type pgModule from 'pg';

type Pg = typeof pgModule;
let loaded: Pg | undefined;

export async function loadPg(): Promise<Pg> {
  loaded ??= (await import('pg')).default;
  return loaded;
}

/** The driver once `loadPg` has run; a call before it is a programming error. */
export function loadedPg(): Pg {
  if (loaded === undefined) throw new Error('pg used before loadPg() (open a pool first)');
  return loaded;
}
