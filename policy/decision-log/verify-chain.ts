import { GENESIS_HASH, hashEntry, type DecisionLogEntry } from './entry.ts';

export const TamperKind = {
  edited: 'edited',
  removed: 'removed',
  inserted: 'inserted',
  reordered: 'reordered',
  malformed: 'malformed',
} as const;
export type TamperKind = (typeof TamperKind)[keyof typeof TamperKind];

export interface TamperFinding {
  /** 0-based position in the log (file line index, or row order of the live table). */
  index: number;
  kind: TamperKind;
  decisionId?: string;
  seq?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  /** Hash of the last entry: compare it with a copy kept elsewhere to detect a cut-off tail. */
  headHash: string;
  findings: TamperFinding[];
}

/**
 * Checks a decision log's hash chain and names every tampered entry. Per entry, in order:
 *  - edited:    the stored hash is not the digest of the entry's content; or the entry's prevHash
 *               names no entry while its seq continues the chain (the previous entry was edited
 *               and its hash recomputed);
 *  - reordered: the entry links to an entry that comes later, or its seq goes backwards;
 *  - removed:   its prevHash names no entry and its seq skips ahead (the gap is what is missing);
 *  - inserted:  the next (or a later) entry links past it to the entry before it.
 * Entries appended at the tail with a valid chain, or a cut-off tail, are found only against a
 * head hash kept elsewhere (headHash); docs/policy.md says how.
 */
export function verifyChain(entries: readonly unknown[]): VerifyReport {
  const findings: TamperFinding[] = [];
  const flagged = new Set<number>();
  const flag = (finding: TamperFinding) => {
    if (flagged.has(finding.index)) return;
    flagged.add(finding.index);
    findings.push(finding);
  };
  const valid = entries.map((e) => (isEntry(e) ? e : undefined));
  const indexByHash = new Map<string, number>();
  valid.forEach((e, i) => e && indexByHash.set(e.hash, i));

  for (let i = 0; i < entries.length; i++) {
    const e = valid[i];
    if (!e) {
      flag({ index: i, kind: 'malformed', message: `entry ${i} is not a decision log entry` });
      continue;
    }
    const id = { index: i, decisionId: e.decisionId, seq: e.seq };
    if (hashEntry(e) !== e.hash) {
      flag({
        ...id,
        kind: 'edited',
        message: `entry ${i} (${e.decisionId}) was edited: its content does not match its hash`,
      });
      continue;
    }
    const prev = i > 0 ? valid[i - 1] : undefined;
    const expectedPrev = i === 0 ? GENESIS_HASH : (prev?.hash ?? '');
    const expectedSeq = i === 0 ? 1 : (prev?.seq ?? 0) + 1;
    if (e.prevHash === expectedPrev && e.seq === expectedSeq) continue;
    const linked = indexByHash.get(e.prevHash);
    const next = valid[i + 1];
    if ((linked !== undefined && linked > i) || (prev && e.seq < prev.seq)) {
      flag({
        ...id,
        kind: 'reordered',
        message: `entry ${i} (${e.decisionId}, seq ${e.seq}) is out of order`,
      });
    } else if (next && next.prevHash === expectedPrev) {
      flag({
        ...id,
        kind: 'inserted',
        message: `entry ${i} (${e.decisionId}) was inserted: the chain skips it`,
      });
    } else if (linked === undefined && e.prevHash !== GENESIS_HASH && e.seq > expectedSeq) {
      const missing = e.seq - expectedSeq === 1 ? `seq ${expectedSeq}` : `seq ${expectedSeq}–${e.seq - 1}`;
      flag({ ...id, kind: 'removed', message: `${missing} removed before entry ${i} (${e.decisionId})` });
    } else if (linked === undefined && e.seq === expectedSeq && i > 0) {
      const p = valid[i - 1];
      flag({
        index: i - 1,
        kind: 'edited',
        decisionId: p?.decisionId,
        seq: p?.seq,
        message: `entry ${i - 1} (${p?.decisionId}) was edited and its hash recomputed: entry ${i} does not link to it`,
      });
    } else if (linked !== undefined && linked < i - 1) {
      for (let j = linked + 1; j < i; j++) {
        const x = valid[j];
        flag({
          index: j,
          kind: 'inserted',
          decisionId: x?.decisionId,
          seq: x?.seq,
          message: `entry ${j} (${x?.decisionId}) was inserted: the chain skips it`,
        });
      }
    } else if (!flagged.has(i) && !flagged.has(i - 1)) {
      flag({
        ...id,
        kind: 'edited',
        message: `entry ${i} (${e.decisionId}) does not continue the chain (seq ${e.seq}, expected ${expectedSeq})`,
      });
    }
  }
  findings.sort((a, b) => a.index - b.index);
  const last = valid[valid.length - 1];
  return {
    ok: findings.length === 0,
    entries: entries.length,
    headHash: last?.hash ?? GENESIS_HASH,
    findings,
  };
}

function isEntry(value: unknown): value is DecisionLogEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    Number.isInteger(e.seq) &&
    typeof e.decisionId === 'string' &&
    typeof e.hash === 'string' &&
    typeof e.prevHash === 'string' &&
    typeof e.allow === 'boolean' &&
    Array.isArray(e.reasons)
  );
}
