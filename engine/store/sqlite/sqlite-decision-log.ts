/**
 * The policy decision log on SQLite, in the engine's own database (`maestro.db`): one file for a
 * run's records and the decisions about them, and an append that joins the group commit's batch
 * (group-commit.ts) instead of committing in a file of its own. The batch that holds a decision is
 * committed before the decision's promise settles, so a task never acts on a decision a crash
 * could undo; the attempt start that decision allows usually commits in the same batch.
 *
 * A data dir from before keeps its log in `decisions.db`: its entries are copied into
 * `maestro.db` on open (one transaction; the chain trigger checks each continues the chain), and
 * the file is renamed `decisions.db.migrated`, kept as it was. A copy that crashed before the
 * rename is completed on the next open (the entries already copied are recognised by their
 * hashes). Two logs that do not continue each other (a `decisions.db` written by an older
 * version after the move) are refused: the chain would fork.
 *
 * An older maestro still running on the data dir may append meanwhile. The copy holds an
 * exclusive lock on the old file from before it reads until after the rename, so an append in
 * flight finishes first and is copied, and one that starts later waits and then finds its file
 * moved: SQLite refuses to write a database whose file was renamed (SQLITE_READONLY_DBMOVED),
 * so that decision fails, and its task with it, instead of landing outside the live log.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DecisionLogError, openDecisionLog, type DecisionLog } from '../../../policy/index.ts';
import type { AsyncSqliteStore } from './async-sqlite-store.ts';

/** The file a data dir kept its decision log in before it moved into `maestro.db`. */
export const LEGACY_DECISION_LOG = 'decisions.db';

export function sqliteDecisionLog(store: AsyncSqliteStore, dataDir: string): DecisionLog {
  const db = store.sync.connection;
  const log = openDecisionLog(db, (fn, write) => store.batch(fn, write));
  const legacy = join(dataDir, LEGACY_DECISION_LOG);
  if (existsSync(legacy)) adoptLegacyLog(db, legacy);
  // Shared: the store closes the connection.
  return { ...log, close: async () => undefined };
}

/** SQLite's primary result code for a lock held by another connection. */
const SQLITE_BUSY = 5;

type Head = { seq: number; hash: string } | undefined;

function adoptLegacyLog(db: DatabaseSync, file: string): void {
  db.prepare('ATTACH DATABASE ? AS legacy').run(file);
  try {
    // The lock the copy takes is kept until DETACH, past its COMMIT and the rename.
    db.exec('PRAGMA legacy.locking_mode = EXCLUSIVE');
    const hasLog = db
      .prepare("SELECT 1 FROM legacy.sqlite_master WHERE type = 'table' AND name = 'policy_decision_log'")
      .get();
    if (hasLog) copyEntries(db, file);
    for (const suffix of ['', '-wal', '-shm'])
      if (existsSync(file + suffix)) renameSync(file + suffix, `${file}.migrated${suffix}`);
  } catch (error) {
    if (((error as { errcode?: number }).errcode ?? 0) % 256 !== SQLITE_BUSY) throw error;
    throw new DecisionLogError(
      `cannot move ${file} into maestro.db: another process holds it (an older maestro still running on this ` +
        'data dir?); stop it, then start this one again',
      { cause: error },
    );
  } finally {
    db.exec('DETACH DATABASE legacy');
  }
}

/** The legacy entries past maestro.db's head, in one transaction; refuses a fork. */
function copyEntries(db: DatabaseSync, file: string): void {
  const last = (schema: string) =>
    db.prepare(`SELECT seq, hash FROM ${schema}.policy_decision_log ORDER BY seq DESC LIMIT 1`).get() as Head;
  const hashAt = (schema: string, seq: number) =>
    (db.prepare(`SELECT hash FROM ${schema}.policy_decision_log WHERE seq = ?`).get(seq) as Head)?.hash;
  // EXCLUSIVE: no old writer holds or takes the old file's lock while this reads it.
  db.exec('BEGIN EXCLUSIVE');
  try {
    const head = last('main');
    const legacy = last('legacy');
    // Shared entries must be the same ones: the shorter log's last entry, in both.
    const shared = legacy && head ? Math.min(legacy.seq, head.seq) : undefined;
    if (shared !== undefined && hashAt('main', shared) !== hashAt('legacy', shared))
      throw new DecisionLogError(
        `${file} holds decisions that do not continue the decision log in maestro.db (entry ${shared} differs): ` +
          'refusing to fork the chain; export it (maestro audit export --db) and move it aside',
      );
    if (legacy && legacy.seq > (head?.seq ?? 0))
      db.prepare(
        'INSERT INTO main.policy_decision_log SELECT * FROM legacy.policy_decision_log WHERE seq > ? ORDER BY seq',
      ).run(head?.seq ?? 0);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
