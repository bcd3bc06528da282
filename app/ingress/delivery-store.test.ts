import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { bodyDigest, DELIVERY_SCHEMA_VERSION } from './delivery-schema.ts';
import { openDeliveryStore } from './delivery-store.ts';

const DAY = 86_400_000;

describe('the delivery store', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the same id (a redelivery) and the same bytes under another id (a replay)', () => {
    dir = mkdtempSync(join(tmpdir(), 'deliveries-'));
    const store = openDeliveryStore(dir);
    const payload = '{"ref":"refs/heads/main"}';
    expect(store.recordDelivery({ id: 'a', name: 'push', payload, receivedAt: 1 })).toBe('recorded');
    expect(store.recordDelivery({ id: 'a', name: 'push', payload: '{}', receivedAt: 2 })).toBe(
      'duplicate_id',
    );
    expect(store.recordDelivery({ id: 'b', name: 'push', payload, receivedAt: 3 })).toBe('duplicate_body');
    expect(store.deliveryState('b')).toBeUndefined();
    expect(store.recordDelivery({ id: 'c', name: 'push', payload: `${payload} `, receivedAt: 4 })).toBe(
      'recorded',
    );
    store.close();
  });

  it('prunes finished deliveries past the retention with their digests, and never a pending one', () => {
    dir = mkdtempSync(join(tmpdir(), 'deliveries-'));
    const store = openDeliveryStore(dir);
    const now = 100 * DAY;
    store.recordDelivery({ id: 'old-done', name: 'push', payload: '{"n":1}', receivedAt: now - 31 * DAY });
    store.recordDelivery({ id: 'old-failed', name: 'push', payload: '{"n":2}', receivedAt: now - 40 * DAY });
    store.recordDelivery({ id: 'old-pending', name: 'push', payload: '{"n":3}', receivedAt: now - 90 * DAY });
    store.recordDelivery({ id: 'recent', name: 'push', payload: '{"n":4}', receivedAt: now - 29 * DAY });
    store.markDelivery('old-done', 'done');
    store.markDelivery('old-failed', 'failed', 'boom');
    store.markDelivery('recent', 'done');
    expect(store.pruneDeliveries(now - 30 * DAY)).toBe(2);
    expect(store.deliveryState('old-done')).toBeUndefined();
    expect(store.deliveryState('old-pending')).toBe('pending');
    expect(store.pendingDeliveries().map((d) => d.id)).toEqual(['old-pending']);
    // A kept delivery still guards its bytes; a pruned one's id and digest went together.
    expect(store.recordDelivery({ id: 'x', name: 'push', payload: '{"n":4}', receivedAt: now })).toBe(
      'duplicate_body',
    );
    expect(store.recordDelivery({ id: 'old-done', name: 'push', payload: '{"n":1}', receivedAt: now })).toBe(
      'recorded',
    );
    store.close();
  });

  it('upgrades a data dir made before body digests: existing rows are backfilled and guard against replay', () => {
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

    const store = openDeliveryStore(dir);
    expect(store.pendingDeliveries().map((d) => d.id)).toEqual(['waiting']);
    expect(store.recordDelivery({ id: 'new', name: 'push', payload: '{"after":"a"}', receivedAt: 4 })).toBe(
      'duplicate_body',
    );
    expect(store.recordDelivery({ id: 'new', name: 'push', payload: '{"after":"b"}', receivedAt: 4 })).toBe(
      'duplicate_body',
    );
    store.close();
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
    expect(() => openDeliveryStore(dir)).toThrow(/newer than this maestro knows/);
  });
});
