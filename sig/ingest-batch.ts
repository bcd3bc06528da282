import type { SigIngest } from '../core/index.ts';
import type { ContractVersion } from './contract-documents.ts';
import { recordsForVersion } from './downgrade.ts';
import { sigRequest, type SigConnection } from './http.ts';
import { negotiateVersion } from './negotiate.ts';

/** The contract's bound on one batch (ingest.schema.json, Batch.records.maxItems). */
export const MAX_BATCH = 500;

export interface IngestBatchOptions {
  /**
   * The key of this whole ingest, kept across retries and re-runs: batch i is sent as
   * `<key>.<i>`, so running the same ingest again replays instead of storing twice.
   */
  idempotencyKey: string;
  /** Records per batch, at most MAX_BATCH. */
  batchSize?: number;
  /** Skip negotiation (tests, or a pinned deployment). */
  version?: ContractVersion;
  /**
   * The first batch to send (default 0): a resumed ingest skips the batches a checkpoint says
   * SIG stored. Batch boundaries depend only on `batchSize`, so batch i keeps its key and body.
   */
  fromBatch?: number;
  /** Called after SIG stored batch i (the caller checkpoints here). */
  onBatch?: (index: number, answer: SigIngest.BatchResult) => void | Promise<void>;
}

export interface IngestResult {
  version: ContractVersion;
  batches: number;
  accepted: number;
  duplicates: number;
  /** Batches SIG had already stored under their key (a re-run, or a retry whose answer was lost). */
  replayed: number;
  /** Requests sent, retries included. */
  attempts: number;
  /** Fields left out for an older SIG (producer, labels), with the record id. */
  dropped: string[];
  warnings: string[];
}

/**
 * Sends records to SIG in bounded batches, one after another (SIG's 429 and Retry-After slow it
 * down: the next batch waits for the last one's answer). Each batch is retried with its same key
 * and body until SIG answers, so a retry after a lost answer stores nothing twice.
 */
export async function ingestBatches(
  conn: SigConnection,
  records: readonly SigIngest.Record[],
  options: IngestBatchOptions,
): Promise<IngestResult> {
  const version = options.version ?? (await negotiateVersion(conn, 'ingest'));
  const size = Math.min(options.batchSize ?? MAX_BATCH, MAX_BATCH);
  const all = recordsForVersion(records, version);
  const result: IngestResult = {
    version,
    batches: 0,
    accepted: 0,
    duplicates: 0,
    replayed: 0,
    attempts: 0,
    dropped: all.dropped,
    warnings: [],
  };
  const from = Math.max(0, Math.floor(options.fromBatch ?? 0));
  for (let i = from, start = from * size; start < records.length; start += size, i++) {
    const chunk = all.value.slice(start, start + size);
    const body = { schemaVersion: version, idempotencyKey: `${options.idempotencyKey}.${i}`, records: chunk };
    const answer = await sigRequest(conn, 'POST', `/v${version}/ingest/batches`, body);
    const batch = answer.body as SigIngest.BatchResult;
    result.batches++;
    result.attempts += answer.attempts;
    result.accepted += batch.accepted;
    result.duplicates += batch.duplicates;
    if (batch.replayed) result.replayed++;
    result.warnings.push(...(batch.warnings ?? []));
    await options.onBatch?.(i, batch);
  }
  return result;
}
