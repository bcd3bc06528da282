/**
 * The decision log contract on SQLite (in the engine store's `maestro.db`, as the runtime opens
 * it), and the move of an older data dir's `decisions.db` into it.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { openAsyncSqliteStore } from '../../engine/store/sqlite/async-sqlite-store.ts';
import { openDecisionLog, type DecisionLog } from '../../policy/index.ts';
import { decisionRecord as record } from '../helpers/decision-records.ts';
import { openPolicyLog } from '../../runtime/index.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { decisionLogContract } from './decision-log-contract.ts';

/** The log as the runtime opens it: in a store of its own on `dataDir`, both closed together. */
async function openLog(dataDir: string): Promise<DecisionLog> {
  const store = openAsyncSqliteStore(dataDir);
  const log = await openPolicyLog({ dataDir, durability: 'normal' }, store).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return {
    ...log,
    close: async () => {
      await log.close();
      await store.close();
    },
  };
}

decisionLogContract('sqlite', {
  database: async () => {
    const dataDir = tempDir('maestro-decision-log-');
    return {
      open: () => openLog(dataDir),
      sql: async (statement) => {
        const db = new DatabaseSync(join(dataDir, 'maestro.db'));
        try {
          db.exec(statement);
        } finally {
          db.close();
        }
      },
    };
  },
});

/** A data dir whose `decisions.db` holds `n` decisions, written as before the move. */
async function legacyDataDir(n: number): Promise<string> {
  const dataDir = tempDir('maestro-decision-log-legacy-');
  const old = openDecisionLog(join(dataDir, 'decisions.db'));
  for (let i = 1; i <= n; i++) await old.append(record(i));
  await old.close();
  return dataDir;
}

describe('an older data dir’s decisions.db', () => {
  it('is copied into maestro.db on open and renamed; the chain goes on from its last entry', async () => {
    const dataDir = await legacyDataDir(3);
    const log = await openLog(dataDir);
    try {
      expect(existsSync(join(dataDir, 'decisions.db'))).toBe(false);
      expect(existsSync(join(dataDir, 'decisions.db.migrated'))).toBe(true);
      await log.append(record(4));
      expect((await log.entries()).map((e) => e.decisionId)).toEqual(['d-1', 'd-2', 'd-3', 'd-4']);
      expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
    } finally {
      await log.close();
    }
  });

  it('copied once: a copy left in place (a crash before the rename) adds nothing on the next open', async () => {
    const dataDir = await legacyDataDir(2);
    await (await openLog(dataDir)).close();
    copyFileSync(join(dataDir, 'decisions.db.migrated'), join(dataDir, 'decisions.db'));
    const log = await openLog(dataDir);
    try {
      expect((await log.entries()).map((e) => e.seq)).toEqual([1, 2]);
      expect(existsSync(join(dataDir, 'decisions.db'))).toBe(false);
    } finally {
      await log.close();
    }
  });

  it('is refused when it does not continue the log in maestro.db (the chain would fork)', async () => {
    const dataDir = await legacyDataDir(1);
    const log = await openLog(dataDir);
    await log.append(record(2));
    await log.close();
    const fork = openDecisionLog(join(dataDir, 'decisions.db'));
    await fork.append(record(7));
    await fork.close();
    await expect(openLog(dataDir)).rejects.toThrow(/do not continue the decision log in maestro.db/);
    expect(existsSync(join(dataDir, 'decisions.db'))).toBe(true);
  });
});

describe('an older maestro still holding decisions.db open while this one moves it', () => {
  it('cannot append after the move: its decision fails instead of landing outside the live log', async () => {
    const dataDir = await legacyDataDir(2);
    // The older version's open log, as a server of that version holds it across the move.
    const old = openDecisionLog(join(dataDir, 'decisions.db'));
    try {
      await (await openLog(dataDir)).close();
      expect(existsSync(join(dataDir, 'decisions.db'))).toBe(false);
      await expect(old.append(record(3))).rejects.toThrow(/cannot record policy decision d-3: .*readonly/);
    } finally {
      await old.close();
    }
    const log = await openLog(dataDir);
    try {
      expect((await log.entries()).map((e) => e.decisionId)).toEqual(['d-1', 'd-2']);
      expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
    } finally {
      await log.close();
    }
  });

  it('waits for an append in flight and refuses the move, leaving the file in place, if it does not end', async () => {
    const dataDir = await legacyDataDir(1);
    const writer = new DatabaseSync(join(dataDir, 'decisions.db'));
    writer.exec('BEGIN IMMEDIATE'); // an old writer mid-append, holding its file's write lock
    try {
      await expect(openLog(dataDir)).rejects.toThrow(
        /cannot move .*decisions\.db into maestro\.db: another process holds it/,
      );
      expect(existsSync(join(dataDir, 'decisions.db'))).toBe(true);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    const log = await openLog(dataDir);
    try {
      expect((await log.entries()).map((e) => e.decisionId)).toEqual(['d-1']);
    } finally {
      await log.close();
    }
  });
});
