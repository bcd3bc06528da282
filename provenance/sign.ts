import type { SignedReceipt } from '../core/index.ts';
import { canonicalJson, sha256Digest } from '../core/index.ts';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, type InTotoStatement } from './statement.ts';
import type { ProvenanceSigner } from './signer.ts';

/**
 * Signs any in-toto Statement v1 (receipts, approval attestations) as a DSSE envelope in a
 * Sigstore bundle. The payload is the statement's canonical JSON, so `digest` is reproducible.
 */
export async function signStatement(
  statement: InTotoStatement,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  if (statement._type !== IN_TOTO_STATEMENT_V1)
    throw new TypeError(`statement _type must be ${IN_TOTO_STATEMENT_V1}, got ${String(statement._type)}`);
  if (!Array.isArray(statement.subject) || statement.subject.length === 0)
    throw new TypeError('statement must have at least one subject');
  return signPayload(Buffer.from(canonicalJson(statement), 'utf8'), signer);
}

/**
 * Signs a statement's canonical JSON already written as bytes (the run statement,
 * run-statement-bytes.ts): the digest and the signature are over exactly these bytes.
 */
export async function signPayload(payload: Buffer, signer: ProvenanceSigner): Promise<SignedReceipt> {
  const digest = sha256Digest(payload);
  return { digest, bundle: await signer.signDsse(payload, IN_TOTO_PAYLOAD_TYPE) };
}
