/**
 * The data directory and the databases in it hold what tasks and other local users must never
 * read: recorded inputs, logs, outputs, approvals, receipts. The directory is created 0700 and each
 * database file 0600 (tightened when an older, wider one exists), for every store that opens one:
 * the engine store, the decision log, the App's store. SQLite creates a database's -wal, -shm and
 * -journal files with the database file's own mode, so a 0600 database gets 0600 companions;
 * companions left wider by an older version are tightened here too.
 */
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import { InputError } from './errors.ts';

const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];

/** Tightens `path` to `mode` when it is ours and wider; a path owned by someone else is left alone. */
function tighten(path: string, mode: number): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat || (stat.mode & 0o777 & ~mode) === 0) return;
  if (stat.uid === process.getuid?.() || process.getuid?.() === 0) chmodSync(path, mode);
}

/** Creates `dir` (and missing parents) 0700, or tightens an existing one; refuses a non-directory. */
export function ensurePrivateDir(dir: string): void {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask; say it exactly
    return;
  }
  if (!stat.isDirectory())
    throw new InputError('data_dir_not_directory', `the data dir ${dir} exists but is not a directory`, {
      hint: 'pass --data-dir <dir> or set MAESTRO_DATA_DIR to a directory',
    });
  tighten(dir, 0o700);
}

/**
 * Makes sure a database file exists with mode 0600 before SQLite opens it (SQLite would create it
 * 0644 less the umask), and tightens its companions. An existing file keeps its content; a
 * symbolic link in its place is refused (O_NOFOLLOW), so the store is never redirected elsewhere.
 */
export function ensurePrivateDatabaseFile(file: string): void {
  // SQLite's names that are not files: an in-memory database, a temporary one, a URI.
  if (file === ':memory:' || file === '' || file.startsWith('file:')) return;
  try {
    closeSync(openSync(file, constants.O_CREAT | constants.O_RDWR | constants.O_NOFOLLOW, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new InputError(
        'database_is_link',
        `the database ${file} is a symbolic link; refusing to open it`,
        {
          cause: error,
          hint: 'replace the link with the database file itself',
        },
      );
    throw error;
  }
  tighten(file, 0o600);
  for (const suffix of SQLITE_COMPANIONS) tighten(`${file}${suffix}`, 0o600);
}
