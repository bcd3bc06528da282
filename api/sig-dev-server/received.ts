import type { SigClaims, SigIngest } from '../../core/index.ts';
import type { WorkloadIdentityClaims } from '../../provenance/index.ts';

/** A request the server accepted, as a test reads it back. */
export interface ReceivedBatch {
  version: number;
  idempotencyKey: string;
  bodyDigest: string;
  answer: SigIngest.BatchResult;
}

export interface ReceivedTrigger {
  version: number;
  namespace: string;
  name: string;
  body: Record<string, unknown>;
}

/**
 * What the SIG reference server keeps, in memory: every record once (by id), every batch by its
 * idempotency key with the answer it got, each stream's next offset, the claims with their
 * receipts, the triggers, and every request refused for breaking the contract.
 */
export class SigReceived {
  readonly records = new Map<string, { record: SigIngest.Record; version: number; via: string }>();
  readonly batches = new Map<string, ReceivedBatch>();
  readonly streams = new Map<string, { nextOffset: number; version: number }>();
  readonly claims = new Map<string, SigClaims.Claim & { version: number }>();
  readonly claimKeys = new Map<string, { id: string; bodyDigest: string }>();
  readonly triggers: ReceivedTrigger[] = [];
  /** The workload identities accepted (when the server requires them), with their claims. */
  readonly identities: Array<{ method: string; url: string; claims: WorkloadIdentityClaims }> = [];
  /** Requests refused for their workload identity, with the reason. */
  readonly refusedIdentities: Array<{ method: string; url: string; reason: string }> = [];
  readonly violations: Array<{
    method: string;
    url: string;
    problems: Array<{ pointer: string; message: string }>;
  }> = [];

  /** Stores a record unless its id is known; returns whether it was new. */
  addRecord(record: SigIngest.Record, version: number, via: string): boolean {
    if (this.records.has(record.id)) return false;
    this.records.set(record.id, { record, version, via });
    return true;
  }
}
