/**
 * The embedded store's group commit (engine/store/sqlite/group-commit.ts): the writes of one turn
 * share one transaction, and nothing is answered before it commits.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { asyncSqliteStore } from '../engine/store/sqlite/async-sqlite-store.ts';
import { SqliteStore } from '../engine/store/sqlite/sqlite-store.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { newRun } from './store-contract/store-contract.ts';

function stores() {
  const dataDir = tempDir();
  const engine = asyncSqliteStore(new SqliteStore(dataDir));
  // Another connection, as another process sees the database: committed rows only.
  const other = new SqliteStore(dataDir);
  onTestFinished(async () => {
    other.close();
    await engine.close();
  });
  return { engine, other };
}

describe('SQLite group commit', () => {
  it('commits the writes of one turn together, and answers only once they are committed', async () => {
    const { engine, other } = stores();
    const one = engine.createRun(newRun('r1', 1000));
    const two = engine.createRun(newRun('r2', 1001));
    // Both ran (the same connection's read joins the batch), neither is committed yet.
    const read = engine.getRun('r1');
    expect(() => other.getRun('r1')).toThrow();
    let answered = false;
    void read.then(() => (answered = true));
    await Promise.resolve();
    expect(answered).toBe(false);
    await Promise.all([one, two]);
    expect((await read).id).toBe('r1');
    expect(other.getRun('r1').id).toBe('r1');
    expect(other.getRun('r2').id).toBe('r2');
  });

  it('rolls back a failing call alone: the others of its batch commit', async () => {
    const { engine, other } = stores();
    await engine.createRun(newRun('r1', 1000));
    const results = await Promise.allSettled([
      engine.createRun(newRun('r2', 1001)),
      engine.createRun(newRun('r1', 1002)), // the same id again: refused
      engine.transitionRun('r1', 'queued', 'running', 'started', 'engine', 1003),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(other.getRun('r2').id).toBe('r2');
    expect(other.getRun('r1').status).toBe('running');
    expect(other.getRun('r1').createdAt).toBe(1000);
  });

  it('does not deadlock two connections of one process: a transaction of the second commits the first batch', async () => {
    const { engine, other } = stores();
    const pending = engine.createRun(newRun('r1', 1000));
    // A synchronous write on the other connection while the batch holds the write lock.
    other.createRun(newRun('r2', 1001));
    await pending;
    expect(other.getRun('r1').id).toBe('r1');
    expect(other.getRun('r2').id).toBe('r2');
  });
});

describe('SQLite reads outside a batch', () => {
  it("answers the budget guard's and the usage report's reads at once, opening no write transaction", async () => {
    const { engine } = stores();
    const db = engine.sync.connection;
    const now = 5000;
    const reads = [
      () => engine.getBudget('ns'),
      () => engine.listBudgets(),
      () => engine.namespaceSpend({ namespace: 'ns', since: 0, now }),
      () => engine.taskDurations({ workflow: 'wf', taskId: 't' }),
      () => engine.usage({ since: 0, until: now, now, groupBy: 'namespace' }),
      () => engine.listTaskApprovals('r1'),
    ];
    for (const read of reads) {
      const answer = read();
      // A write would have begun BEGIN IMMEDIATE (taking the file's write lock) for this turn.
      expect(db.isTransaction).toBe(false);
      await answer;
    }
  });
});

describe('SQLite writes that wait for a batch (receipts)', () => {
  const receipt = (attempt: number) => ({
    runId: 'r1',
    taskId: 'a',
    attempt,
    digest: `sha256:${attempt}`,
    bundle: { n: attempt },
    createdAt: 10 + attempt,
  });

  it('commits a receipt with the next write, and answers it only once that batch is committed', async () => {
    const { engine, other } = stores();
    await engine.createRun(newRun('r1', 1000));
    let stored = false;
    const put = engine.putReceipt(receipt(1)).then(() => (stored = true));
    // No batch of its own: nothing holds the write lock, nothing is written yet.
    expect(engine.sync.connection.isTransaction).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stored).toBe(false);
    expect(other.listReceipts('r1')).toEqual([]);
    // A write something acts on opens the batch: the receipt runs first in it, both commit.
    const write = engine.transitionRun('r1', 'queued', 'running', 'started', 'engine', 1003);
    expect(engine.sync.connection.isTransaction).toBe(true);
    await Promise.all([put, write]);
    expect(stored).toBe(true);
    expect(other.listReceipts('r1').map((r) => r.attempt)).toEqual([1]);
    expect(other.getRun('r1').status).toBe('running');
  });

  it('stores a waiting receipt on its own when no other write comes', async () => {
    const { engine, other } = stores();
    await engine.createRun(newRun('r1', 1000));
    await engine.putReceipt(receipt(1));
    expect(other.listReceipts('r1').map((r) => r.digest)).toEqual(['sha256:1']);
  });

  it('lets no read go around a waiting receipt, and stores the waiting ones on close', async () => {
    const { engine, other } = stores();
    await engine.createRun(newRun('r1', 1000));
    void engine.putReceipt(receipt(1));
    // The read opens the batch, the waiting write first: it reads what it will be told is stored.
    expect((await engine.listReceiptDigests('r1')).map((r) => r.attempt)).toEqual([1]);
    void engine.putReceipt(receipt(2));
    await engine.close();
    expect(other.listReceipts('r1').map((r) => r.attempt)).toEqual([1, 2]);
  });
});
