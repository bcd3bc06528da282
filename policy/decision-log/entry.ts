import { digestOf } from '../../core/index.ts';

/** The prevHash of the first entry. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** One recorded decision, as stored, exported (one JSON line each) and verified. */
export interface DecisionLogEntry {
  /** 1, 2, 3, … without gaps: position in the chain (inside the hashed content). */
  seq: number;
  decisionId: string;
  /** ISO 8601 UTC. */
  time: string;
  runId: string;
  taskId: string;
  attempt: number;
  deliveryId: string | null;
  inputDigest: string;
  bundleDigest: string;
  allow: boolean;
  unavailable: boolean;
  reasons: string[];
  /** `hash` of the entry before this one (GENESIS_HASH for the first). */
  prevHash: string;
  /** sha256 of the canonical JSON (RFC 8785) of every other field. */
  hash: string;
}

export type DecisionRecord = Omit<DecisionLogEntry, 'seq' | 'prevHash' | 'hash'>;

export function hashEntry(entry: Omit<DecisionLogEntry, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...content } = entry;
  return digestOf(content);
}
