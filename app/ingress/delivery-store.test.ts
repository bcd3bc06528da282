import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { bodyDigest, DELIVERY_SCHEMA_VERSION } from './delivery-schema.ts';
import { openSqliteDeliveryStore } from './delivery-store.ts';

describe('the delivery store', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // What both stores do (redelivery, replay, claims, pruning) is the contract's:
  // test/store-contract/app-store-contract.ts. Here: upgrading an old SQLite file.
  it('upgrades a data dir made before body digests: existing rows are backfilled and guard against replay', async () => {
    dir = mkdtempSync(join(tmpdir(), 'deliveries-'));
    // The table exactly as app-store.ts created it, with a pending delivery and a replay the old
    // code stored twice.
    const old = new DatabaseSync(join(dir, 'github-app.sqlite'));
    old.exec(`CREATE TABLE deliveries (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL,
      received_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', error TEXT)`);
    const insert = old.prepare(
      'INSERT INTO deliveries (id, name, payload, received_at, state) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run('first', 'push', '{"after":"a"}', 1, 'done');
    insert.run('replayed', 'push', '{"after":"a"}', 2, 'done');
    insert.run('waiting', 'push', '{"after":"b"}', 3, 'pending');
    old.close();

    const store = openSqliteDeliveryStore(dir);
    expect((await store.pendingDeliveries()).map((d) => d.id)).toEqual(['waiting']);
    expect(
      await store.recordDelivery({ id: 'new', name: 'push', payload: '{"after":"a"}', receivedAt: 4 }),
    ).toBe('duplicate_body');
    expect(
      await store.recordDelivery({ id: 'new', name: 'push', payload: '{"after":"b"}', receivedAt: 4 }),
    ).toBe('duplicate_body');
    // Rows from before claims are unclaimed: the next start takes them.
    expect((await store.claimPending(1, 2)).map((d) => d.id)).toEqual(['waiting']);
    await store.close();
    const db = new DatabaseSync(join(dir, 'github-app.sqlite'));
    const version = db.prepare("SELECT version FROM app_schema WHERE component = 'deliveries'").get();
    expect(Number(version?.version)).toBe(DELIVERY_SCHEMA_VERSION);
    const digests = db.prepare('SELECT id, body_digest FROM deliveries ORDER BY id').all();
    expect(digests).toEqual([
      { id: 'first', body_digest: bodyDigest('{"after":"a"}') },
      { id: 'replayed', body_digest: null },
      { id: 'waiting', body_digest: bodyDigest('{"after":"b"}') },
    ]);
    // A newer schema than this build knows is refused, untouched.
    db.prepare("UPDATE app_schema SET version = 99 WHERE component = 'deliveries'").run();
    db.close();
    expect(() => openSqliteDeliveryStore(dir)).toThrow(/newer than this maestro knows/);
  });
});
