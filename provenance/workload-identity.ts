/**
 * The run's workload identity (`${workload.identity}`): a short-lived token the engine signs with
 * the receipts' key for one task of one run, which a service such as SIG verifies against the key
 * Maestro publishes (GET /v1/keys, or the receipts' public key file). It binds the run id, the
 * task, the namespace, the workflow and the plan digest to one audience and an expiry.
 *
 * Format: `mwi1.` + base64url(JSON of a DSSE envelope) whose payload type is
 * WORKLOAD_IDENTITY_TYPE and whose payload is the claims' JSON; the signature is ECDSA P-256
 * SHA-256 over DSSE's PAE, as a receipt's is. DSSE rather than a JWT because the signer's only
 * operation is `signDsse` (its private key never leaves the closure), and a DSSE envelope is a
 * standard any in-toto/DSSE library verifies. The token carries no key: a task gets the token,
 * never what signs it.
 */
import { createPublicKey, randomUUID, verify as cryptoVerify } from 'node:crypto';
import type { ProvenanceSigner } from './signer.ts';
import { preAuthEncoding } from './local-key.ts';

export const WORKLOAD_IDENTITY_TYPE = 'application/vnd.maestro.workload-identity.v1+json';
const PREFIX = 'mwi1.';
/** The longest life a verifier accepts, whatever the token says. */
export const MAX_WORKLOAD_IDENTITY_TTL_MS = 60 * 60 * 1000;
const CLOCK_SKEW_MS = 60 * 1000;

export interface WorkloadIdentityClaims {
  /** `maestro`: who issued it. */
  iss: string;
  /** `maestro:<namespace>/<workflow>/<task>`. */
  sub: string;
  aud: string;
  runId: string;
  task: string;
  namespace: string;
  workflow: string;
  planDigest: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  jti: string;
}

export interface WorkloadIdentityRequest {
  runId: string;
  task: string;
  namespace: string;
  workflow: string;
  planDigest: string;
}

export interface WorkloadIdentityIssuerOptions {
  signer: ProvenanceSigner;
  /** Who the token is for (default `sig`): a verifier refuses a token meant for another. */
  audience?: string;
  ttlMs?: number;
  now?: () => number;
}

/** Mints workload identities with a key signer; undefined for a signer without a key (keyless). */
export function createWorkloadIdentityIssuer(
  options: WorkloadIdentityIssuerOptions,
): ((request: WorkloadIdentityRequest) => Promise<string>) | undefined {
  const { signer } = options;
  if (!signer.publicKeyPem) return undefined;
  const audience = options.audience ?? 'sig';
  const ttlMs = Math.min(options.ttlMs ?? 15 * 60 * 1000, MAX_WORKLOAD_IDENTITY_TTL_MS);
  const now = options.now ?? Date.now;
  return async (request) => {
    const iat = Math.floor(now() / 1000);
    const claims: WorkloadIdentityClaims = {
      iss: 'maestro',
      sub: `maestro:${request.namespace}/${request.workflow}/${request.task}`,
      aud: audience,
      ...request,
      iat,
      exp: iat + Math.floor(ttlMs / 1000),
      jti: randomUUID(),
    };
    const bundle = (await signer.signDsse(
      Buffer.from(JSON.stringify(claims), 'utf8'),
      WORKLOAD_IDENTITY_TYPE,
    )) as { dsseEnvelope?: unknown };
    return PREFIX + Buffer.from(JSON.stringify(bundle.dsseEnvelope), 'utf8').toString('base64url');
  };
}

export interface WorkloadIdentityCheck {
  /** The published public keys (PEM) the token may be signed with. */
  publicKeysPem: readonly string[];
  audience: string;
  now?: number;
}

export type WorkloadIdentityVerdict =
  { ok: true; claims: WorkloadIdentityClaims } | { ok: false; reason: string };

/** Verifies a workload identity: signature by a published key, audience, and time. */
export function verifyWorkloadIdentity(token: string, check: WorkloadIdentityCheck): WorkloadIdentityVerdict {
  const refuse = (reason: string): WorkloadIdentityVerdict => ({ ok: false, reason });
  if (!token.startsWith(PREFIX)) return refuse('not a Maestro workload identity');
  let envelope: { payloadType?: unknown; payload?: unknown; signatures?: Array<{ sig?: unknown }> };
  try {
    envelope = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return refuse('the token does not decode');
  }
  if (envelope.payloadType !== WORKLOAD_IDENTITY_TYPE || typeof envelope.payload !== 'string')
    return refuse('not a workload identity envelope');
  const body = Buffer.from(envelope.payload, 'base64');
  const signed = preAuthEncoding(WORKLOAD_IDENTITY_TYPE, body);
  const sigs = (envelope.signatures ?? []).map((s) => s.sig).filter((s) => typeof s === 'string');
  const verified = check.publicKeysPem.some((pem) =>
    sigs.some((sig) => cryptoVerify('sha256', signed, createPublicKey(pem), Buffer.from(sig, 'base64'))),
  );
  if (!verified) return refuse('the signature is not by a published Maestro key');
  let claims: WorkloadIdentityClaims;
  try {
    claims = JSON.parse(body.toString('utf8')) as WorkloadIdentityClaims;
  } catch {
    return refuse('the claims do not parse');
  }
  const now = check.now ?? Date.now();
  if (claims.aud !== check.audience)
    return refuse(`meant for ${JSON.stringify(claims.aud)}, not this audience`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) return refuse('expired');
  if (typeof claims.iat !== 'number' || claims.iat * 1000 > now + CLOCK_SKEW_MS)
    return refuse('issued in the future');
  if ((claims.exp - claims.iat) * 1000 > MAX_WORKLOAD_IDENTITY_TTL_MS)
    return refuse('lives longer than allowed');
  return { ok: true, claims };
}
