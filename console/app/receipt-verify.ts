/**
 * Verifies a receipt in the browser: a Sigstore bundle (v0.3) holding a DSSE envelope over an
 * in-toto Statement v1, signed with ECDSA P-256 / SHA-256 by a key `GET /v1/keys` publishes. The
 * same checks as provenance/verify.ts's key path (media type, the signature over the DSSE PAE,
 * payload type, statement shape), plus that the statement's digest is the one the run lists.
 *
 * Written on WebCrypto rather than bundling @sigstore/verify: that library is built on node:crypto
 * and Buffer, and the key path is one ECDSA verification over the PAE, which WebCrypto does
 * natively. Keyless bundles (a Fulcio certificate, Rekor entries) need a trust root and the
 * certificate chain checked; the page sends those to `maestro verify` instead of half-checking them.
 */
import type { ApiBody } from '../../core/index.ts';

export type Verdict =
  | { state: 'verified'; keyid: string; development: boolean }
  | { state: 'failed'; reason: string }
  | { state: 'offline'; reason: string };

const MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
];
const IN_TOTO = 'application/vnd.in-toto+json';
const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

interface DsseJson {
  payload?: unknown;
  payloadType?: unknown;
  signatures?: { sig?: unknown }[];
}

const fail = (reason: string): Verdict => ({ state: 'failed', reason });

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** DSSE's pre-authentication encoding: what the signature covers (lengths in bytes, decimal). */
function pae(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = new TextEncoder().encode(payloadType);
  const head = new TextEncoder().encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/**
 * An ASN.1 DER ECDSA signature (what node:crypto and cosign write) as the IEEE P1363 r‖s that
 * WebCrypto verifies; null when it is not a well-formed P-256 signature.
 */
function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | null {
  if (der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out = new Uint8Array(64);
  let at = 2;
  for (const half of [0, 32]) {
    if (der[at] !== 0x02) return null;
    const len = der[at + 1]!;
    let int = der.subarray(at + 2, at + 2 + len);
    if (int.length !== len) return null;
    while (int.length > 32 && int[0] === 0) int = int.subarray(1);
    if (int.length > 32) return null;
    out.set(int, half + 32 - int.length);
    at += 2 + len;
  }
  return at === der.length ? out : null;
}

async function importKey(key: ApiBody.VerificationKey): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'jwk',
    { ...key.jwk, ext: true },
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
}

function statementProblem(payload: Uint8Array): string | null {
  let value: { _type?: unknown; subject?: unknown; predicateType?: unknown };
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as typeof value;
  } catch {
    return 'the signed payload is not JSON';
  }
  if (typeof value !== 'object' || value === null || value._type !== STATEMENT_V1)
    return 'the signed payload is not an in-toto Statement v1';
  if (!Array.isArray(value.subject) || typeof value.predicateType !== 'string')
    return 'the signed statement has no subjects or predicate type';
  return null;
}

/** One key's verdict on one envelope: does the signature over the PAE verify? */
async function signatureVerifies(
  key: ApiBody.VerificationKey,
  data: Uint8Array<ArrayBuffer>,
  sig: Uint8Array,
): Promise<boolean> {
  const raw = derToRaw(sig);
  if (!raw) return false;
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, await importKey(key), raw, data);
}

/**
 * The verdict on one receipt against the published keys. `expectedDigest` is the statement digest
 * the run lists for this attempt: a validly signed receipt of another attempt fails here.
 */
export async function verifyReceipt(
  bundle: unknown,
  keys: ApiBody.VerificationKeys,
  expectedDigest: string,
): Promise<Verdict> {
  const b = bundle as {
    mediaType?: unknown;
    dsseEnvelope?: DsseJson;
    verificationMaterial?: Record<string, unknown>;
  };
  if (typeof b !== 'object' || b === null) return fail('the receipt is not a JSON object');
  if (typeof b.mediaType !== 'string' || !MEDIA_TYPES.includes(b.mediaType))
    return fail(`the media type ${JSON.stringify(b.mediaType)} is not a Sigstore bundle v0.3`);
  const material = b.verificationMaterial ?? {};
  if ('certificate' in material || 'x509CertificateChain' in material)
    return { state: 'offline', reason: 'signed keyless (a certificate): verify offline with maestro verify' };
  const env = b.dsseEnvelope;
  if (
    !env ||
    typeof env.payload !== 'string' ||
    typeof env.payloadType !== 'string' ||
    !Array.isArray(env.signatures)
  )
    return fail('the bundle holds no DSSE envelope');
  if (env.signatures.length !== 1 || typeof env.signatures[0]!.sig !== 'string')
    return fail('the envelope must hold exactly one signature');
  if (!keys.keys.length)
    return keys.signer === 'keyless'
      ? { state: 'offline', reason: 'the server signs keyless: verify offline with maestro verify' }
      : fail('the server publishes no verification key');
  let payload: Uint8Array<ArrayBuffer>;
  let sig: Uint8Array;
  try {
    payload = fromBase64(env.payload);
    sig = fromBase64(env.signatures[0]!.sig);
  } catch {
    return fail('the envelope is not valid base64');
  }
  const data = pae(env.payloadType, payload);
  let signer: ApiBody.VerificationKey | undefined;
  for (const key of keys.keys) if (await signatureVerifies(key, data, sig)) signer = key;
  if (!signer) return fail('the signature does not verify with the published key');
  if (env.payloadType !== IN_TOTO) return fail(`the payload type is ${env.payloadType}, not ${IN_TOTO}`);
  const problem = statementProblem(payload);
  if (problem) return fail(problem);
  const digest = `sha256:${hex(await crypto.subtle.digest('SHA-256', payload))}`;
  if (digest !== expectedDigest)
    return fail(`the signed statement is ${digest.slice(0, 19)}…, not the one the run lists`);
  return { state: 'verified', keyid: signer.keyid, development: signer.development };
}
