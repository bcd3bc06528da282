/** Reads what a stored receipt says, for listing: the statement inside the DSSE payload. */
import type { ReceiptRecord } from '../../engine/index.ts';
import {
  DEV_KEY_HINT_PREFIX,
  verifyBundle,
  ProvenanceError,
  type MaestroAttemptFields,
  type MaestroRunFields,
  type ReceiptStatement,
} from '../../provenance/index.ts';
import type { ResolvedTrust } from './provenance-options.ts';

export interface ReceiptView {
  kind: 'attempt' | 'run';
  taskId: string;
  attempt: number;
  status: string;
  digest: string;
  createdAt: string;
  /** Signed with the development key (from the bundle's key hint). */
  development: boolean;
  /** `ok`, the rejection reason, or `unchecked` when no trust material was available. */
  verification: string;
  statement: ReceiptStatement | undefined;
}

export function viewReceipt(record: ReceiptRecord, trust: ResolvedTrust | undefined): ReceiptView {
  const bundle = record.bundle as {
    verificationMaterial?: { publicKey?: { hint?: string } };
    dsseEnvelope?: { payload?: string };
  };
  const development = (bundle.verificationMaterial?.publicKey?.hint ?? '').startsWith(DEV_KEY_HINT_PREFIX);
  let statement: ReceiptStatement | undefined;
  try {
    statement = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString('utf8'));
  } catch {
    statement = undefined;
  }
  const maestro = statement?.predicate?.buildDefinition?.internalParameters?.maestro as
    MaestroAttemptFields | MaestroRunFields | undefined;
  let verification = 'unchecked';
  if (trust) {
    try {
      verifyBundle(record.bundle, trust);
      verification = 'ok';
    } catch (error) {
      if (!(error instanceof ProvenanceError)) throw error;
      verification = error.reason;
    }
  }
  return {
    kind: record.taskId === '' ? 'run' : 'attempt',
    taskId: record.taskId,
    attempt: record.attempt,
    status: maestro?.status ?? 'unknown',
    digest: record.digest,
    createdAt: new Date(record.createdAt).toISOString(),
    development,
    verification,
    statement,
  };
}
