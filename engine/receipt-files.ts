/**
 * A run's receipts as files: one Sigstore bundle per attempt and one per run, named
 * `<task>-<attempt>.sigstore.json` and `run-<n>.sigstore.json` (`maestro receipts -o`, the Action).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withEmptyDsseKeyIds } from '../provenance/index.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { ReceiptRecord } from './store/store.ts';

export function receiptFileName(record: ReceiptRecord): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return record.taskId === ''
    ? `run-${record.attempt}.sigstore.json`
    : `${safe(record.taskId)}-${record.attempt}.sigstore.json`;
}

/** Writes every receipt of the run to `dir` (created); returns how many. */
export async function exportReceipts(store: AsyncStore, runId: string, dir: string): Promise<number> {
  const records = await store.listReceipts(runId);
  mkdirSync(dir, { recursive: true });
  // Receipts stored before the keyid was left empty leave without it, so cosign verifies them.
  for (const record of records) {
    const bundle = withEmptyDsseKeyIds(record.bundle);
    writeFileSync(join(dir, receiptFileName(record)), `${JSON.stringify(bundle, null, 2)}\n`);
  }
  return records.length;
}
