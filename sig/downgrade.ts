import type { SigClaims, SigIngest } from '../core/index.ts';
import type { ContractVersion } from './contract-documents.ts';
import { SigNotRepresentableError } from './errors.ts';

/** A value as an older major takes it, and the fields left out on the way (reported, never silent). */
export interface Downgraded<T> {
  value: T;
  dropped: string[];
}

const RECORD_KINDS: Record<ContractVersion, readonly string[]> = {
  1: ['event', 'metric'],
  2: ['event', 'metric', 'log'],
  3: ['event', 'metric', 'log', 'trace'],
};

/**
 * Today's record in the shape a vN server takes. v3's producer becomes v1/v2's source; v2's labels
 * (index hints, not data) are left out for v1 and reported; a kind the version lacks cannot be
 * sent at all, because changing it would change what the record says.
 */
export function recordForVersion(
  record: SigIngest.Record,
  version: ContractVersion,
): Downgraded<SigIngest.Record> {
  if (!RECORD_KINDS[version].includes(record.kind))
    throw new SigNotRepresentableError(
      `record ${record.id}`,
      version,
      `kind ${record.kind} arrived in a later version`,
    );
  if (version === 3) return { value: record, dropped: [] };
  const { producer, labels, ...rest } = record;
  const value: SigIngest.Record = { ...rest, source: record.source ?? producer?.name ?? '' };
  // The producer's name travels as source; its instance (or a name that differs from source) cannot.
  const lost =
    producer && (producer.instance !== undefined || (record.source ?? producer.name) !== producer.name);
  const dropped = lost ? ['producer'] : [];
  if (labels && version >= 2) value.labels = labels;
  else if (labels) dropped.push('labels');
  return { value, dropped };
}

/**
 * Every record for a version, checked before any is sent (one that cannot be held fails the whole
 * call up front), with the fields left out named `<id>: <field>`.
 */
export function recordsForVersion(records: readonly SigIngest.Record[], version: ContractVersion) {
  const dropped: string[] = [];
  const value = records.map((record) => {
    const down = recordForVersion(record, version);
    dropped.push(...down.dropped.map((field) => `${record.id}: ${field}`));
    return down.value;
  });
  return { value, dropped };
}

const CLAIM_KINDS: Record<ContractVersion, readonly string[]> = {
  1: ['build', 'test', 'disclosure'],
  2: ['build', 'test', 'disclosure', 'attestation'],
  3: ['build', 'test', 'disclosure', 'attestation'],
};

export function claimForVersion(
  claim: SigClaims.ClaimRequest,
  version: ContractVersion,
): Downgraded<SigClaims.ClaimRequest> {
  if (!CLAIM_KINDS[version].includes(claim.kind))
    throw new SigNotRepresentableError(
      `claim ${claim.idempotencyKey}`,
      version,
      `kind ${claim.kind} arrived in a later version`,
    );
  if (claim.expiresAt !== undefined && version < 2)
    throw new SigNotRepresentableError(
      `claim ${claim.idempotencyKey}`,
      version,
      'v1 has no expiresAt; the claim would never expire',
    );
  if (version === 3) return { value: claim, dropped: [] };
  const { policy, ...rest } = claim;
  return { value: rest, dropped: policy ? ['policy'] : [] };
}

/** v3's location is v1/v2's uri. */
export function receiptLinkForVersion(
  link: SigClaims.ReceiptLink,
  version: ContractVersion,
): SigClaims.ReceiptLink {
  if (version === 3) return link;
  const { location, ...rest } = link;
  const uri = rest.uri ?? location;
  return uri === undefined ? rest : { ...rest, uri };
}
