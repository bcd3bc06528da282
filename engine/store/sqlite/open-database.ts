/**
 * Opens (or creates) the SQLite database under a data dir, refusing anything it cannot use
 * without changing it: a path that is not a directory, a file that is not a database, a schema
 * newer than this build. Durability settings:
 * - WAL: readers (`maestro runs list`) never block the executing engine, and a crash leaves the
 *   last committed transaction intact.
 * - synchronous=NORMAL by default (`durability: 'full'` for FULL). In WAL mode a NORMAL commit is
 *   written to the WAL before COMMIT returns, so it survives the process being killed (kill -9,
 *   OOM): that is the failure the engine's resume is built for and tested against. What NORMAL
 *   gives up is the latest commits on an OS crash or power loss (the WAL is synced at
 *   checkpoints, every 4,000 pages, not per commit); the database stays consistent, and a lost
 *   tail looks to resume exactly like a crash a moment earlier: an attempt recorded as running is closed as
 *   interrupted and retried under the task's policy. FULL adds an fsync per commit, measured at
 *   4 ms here against 0.01 ms (bench/run), and the engine commits ~6 times per task, which would
 *   dominate the cost of a small task. Operators who need "never re-run after power loss" choose
 *   `full`.
 * - busy_timeout: a second process (a CLI cancel) waits for the writer instead of failing.
 * - foreign_keys: attempts, logs and outputs can never point at a run that does not exist.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../../../core/index.ts';
import { StoreUnusableError } from '../../errors.ts';
import { migrations } from './migrations.ts';

export const databaseFileName = 'maestro.db';

/** The data dir 0700 (docs/security.md: nothing in it is for other local users or for tasks). */
function ensureDirectory(dataDir: string): void {
  const stat = statSync(dataDir, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory())
    throw new StoreUnusableError(`the data dir ${dataDir} exists but is not a directory`, {
      hint: 'pass --data-dir <dir> or set MAESTRO_DATA_DIR to a directory',
    });
  ensurePrivateDir(dataDir);
}

/**
 * Why the database cannot be used. A permission problem (the data dir or the file owned by
 * another user, e.g. a root-owned volume mounted for a non-root container) is said as such:
 * calling it "corrupt" would send the operator to restore a backup over a healthy database.
 */
function refuse(file: string, cause: unknown): never {
  const denied = permissionProblem(file);
  if (denied)
    throw new StoreUnusableError(`the data dir's database ${file} cannot be opened: ${denied}`, {
      cause,
      hint: 'run maestro as the user that owns the data dir, or give that user the directory (chown); the database was left untouched',
    });
  throw new StoreUnusableError(`the data dir's database ${file} cannot be read (corrupt or not a database)`, {
    cause,
    hint: 'it was left untouched; point --data-dir at another directory or restore it from a backup',
  });
}

function permissionProblem(file: string): string | undefined {
  for (const [path, mode] of [
    [dirname(file), constants.R_OK | constants.W_OK | constants.X_OK],
    [file, constants.R_OK | constants.W_OK],
  ] as const) {
    try {
      accessSync(path, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      const stat = statSync(path, { throwIfNoEntry: false });
      const owner = stat ? ` (owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)})` : '';
      return `permission denied on ${path}${owner} for uid ${process.getuid?.() ?? '?'}`;
    }
  }
  return undefined;
}

export type Durability = 'normal' | 'full';

/** WAL pages between automatic checkpoints (see openDatabase). */
export const checkpointPages = 4000;

export function openDatabase(dataDir: string, durability: Durability = 'normal'): DatabaseSync {
  ensureDirectory(dataDir);
  const file = join(dataDir, databaseFileName);
  let db: DatabaseSync;
  try {
    ensurePrivateDatabaseFile(file); // 0600 before SQLite creates it (and its -wal, -shm) 0644
    db = new DatabaseSync(file, { enableForeignKeyConstraints: true, timeout: 5000 });
  } catch (error) {
    refuse(file, error);
  }
  try {
    // Reading the schema first: on a file that is not a database this fails before anything is written.
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== 'ok') throw new Error(`quick_check: ${String(check?.quick_check)}`);
  } catch (error) {
    db.close();
    refuse(file, error);
  }
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  // A checkpoint every 4,000 WAL pages (16 MiB), not SQLite's 1,000: a run rewrites the same few
  // hot pages (the last leaves of transitions, logs, receipts) in every commit, and each checkpoint
  // copies every page it finds into the file and, under NORMAL, syncs both files while the engine's
  // only thread waits. dag-1000 checkpointed ~65 times (4-8 ms each); at 4,000, ~18: COMMIT's wall
  // time 507 -> 310 ms and its CPU 99 -> 60 ms per run (bench/run/RESULTS.md). What it changes:
  // the WAL file keeps up to 16 MiB between checkpoints, and under NORMAL an OS crash or power
  // loss can take up to that much of the latest commits instead of 4 MiB (kill -9 still loses none).
  db.exec(`PRAGMA wal_autocheckpoint = ${checkpointPages}`);
  db.exec('PRAGMA foreign_keys = ON');
  migrateSqlite(db, file, { table: 'schema_migrations', migrations });
  return db;
}

/** One SQLite database's forward-only migrations and the table that records which have run. */
export interface SqliteSchema {
  table: string;
  migrations: readonly { version: number; sql: string }[];
}

/**
 * The one SQLite migration runner (the engine's database, and the other stores' files): each
 * migration once, in order, in its own transaction; a newer schema than this build is refused
 * (and the database closed) untouched.
 */
export function migrateSqlite(db: DatabaseSync, file: string, schema: SqliteSchema): void {
  const { table, migrations } = schema;
  if (!/^[a-z_]+$/.test(table)) throw new Error(`bad migrations table name ${table}`);
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
  );
  const row = db.prepare(`SELECT max(version) AS v FROM ${table}`).get() as { v: number | null };
  const current = row.v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    db.close();
    throw new StoreUnusableError(
      `the database ${file} has schema version ${current}, newer than this maestro knows (${latest})`,
      { hint: 'upgrade maestro, or use another --data-dir' },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(migration.sql);
      db.prepare(`INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`).run(
        migration.version,
        Date.now(),
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
