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

type Head = { seq: number; hash: string } | undefined;

function adoptLegacyLog(db: DatabaseSync, file: string): void {
  db.prepare('ATTACH DATABASE ? AS legacy').run(file);
  try {
    const hasLog = db
      .prepare("SELECT 1 FROM legacy.sqlite_master WHERE type = 'table' AND name = 'policy_decision_log'")
      .get();
    if (hasLog) copyEntries(db, file);
  } finally {
    db.exec('DETACH DATABASE legacy');
  }
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(file + suffix)) renameSync(file + suffix, `${file}.migrated${suffix}`);
}

/** The legacy entries past maestro.db's head, in one transaction; refuses a fork. */
function copyEntries(db: DatabaseSync, file: string): void {
  const last = (schema: string) =>
    db.prepare(`SELECT seq, hash FROM ${schema}.policy_decision_log ORDER BY seq DESC LIMIT 1`).get() as Head;
  const hashAt = (schema: string, seq: number) =>
    (db.prepare(`SELECT hash FROM ${schema}.policy_decision_log WHERE seq = ?`).get(seq) as Head)?.hash;
  db.exec('BEGIN IMMEDIATE');
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
