/**
 * Verifies a receipt in the browser: a Sigstore bundle (v0.3) holding a DSSE envelope over an
 * in-toto Statement v1, against what `GET /v1/keys` publishes, plus that the statement's digest is
 * the one the run lists.
 *
 * Key-signed (ECDSA P-256 / SHA-256): the same checks as provenance/verify.ts's key path (media
 * type, the signature over the DSSE PAE, payload type, statement shape), on WebCrypto here: one
 * ECDSA verification needs no library, and this path stays in the page's main bundle.
 * Keyless (a Fulcio certificate, Rekor entries): @sigstore/verify itself, in its own bundle loaded
 * on first need (keyless/verify-keyless.ts), against the published identity and trust root.
 */
import type { ApiBody } from '../../core/index.ts';
import { derToRaw } from './der-signature.ts';
// A type only (erased): the verifier itself is fetched from KEYLESS_VERIFIER on first need.
import type { verifyKeylessBundle } from './keyless/verify-keyless.ts';

export type Verdict =
  | { state: 'verified'; keyid: string; development: boolean }
  | {
      state: 'verified';
      keyid?: undefined;
      identity: string;
      issuer: string;
      trustedRootSource: ApiBody.KeylessIdentity['trustedRootSource'];
    }
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
  const raw = derToRaw(sig, 32);
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
    return verifyKeyless(bundle, keys, expectedDigest);
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
    return fail(
      keys.signer === 'keyless'
        ? 'signed with a key, but the server signs keyless (certificates) and publishes no key'
        : 'the server publishes no verification key',
    );
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
  const problem = await signedStatementProblem(env.payloadType, payload, expectedDigest);
  if (problem) return fail(problem);
  return { state: 'verified', keyid: signer.keyid, development: signer.development };
}

/** What the signature covers, checked the same way on both paths: type, shape, digest. */
async function signedStatementProblem(
  payloadType: string,
  payload: Uint8Array<ArrayBuffer>,
  expectedDigest: string,
): Promise<string | null> {
  if (payloadType !== IN_TOTO) return `the payload type is ${payloadType}, not ${IN_TOTO}`;
  const problem = statementProblem(payload);
  if (problem) return problem;
  const digest = `sha256:${hex(await crypto.subtle.digest('SHA-256', payload))}`;
  if (digest !== expectedDigest)
    return `the signed statement is ${digest.slice(0, 19)}…, not the one the run lists`;
  return null;
}

type KeylessModule = { verifyKeylessBundle: typeof verifyKeylessBundle };
/** Served by the console beside app.js (console/serve.ts); a variable, so esbuild leaves it out. */
const KEYLESS_VERIFIER = '/console/keyless-verify.js';
let keylessModule: Promise<KeylessModule> | undefined;

async function verifyKeyless(
  bundle: unknown,
  keys: ApiBody.VerificationKeys,
  expectedDigest: string,
): Promise<Verdict> {
  const published = keys.keyless;
  if (!published)
    return {
      state: 'offline',
      reason:
        keys.signer === 'keyless'
          ? 'the server signs keyless but publishes no identity (its operator sets MAESTRO_KEYLESS_IDENTITY and MAESTRO_KEYLESS_ISSUER): verify offline with maestro verify'
          : 'signed keyless (a certificate), and the server publishes no identity: verify offline with maestro verify',
    };
  let signed: { payloadType: string; payload: Uint8Array };
  try {
    keylessModule ??= import(/* @vite-ignore */ KEYLESS_VERIFIER) as Promise<KeylessModule>;
    signed = await (await keylessModule).verifyKeylessBundle(bundle, published);
  } catch (error) {
    return fail(`keyless verification failed: ${(error as Error).message}`);
  }
  const problem = await signedStatementProblem(
    signed.payloadType,
    new Uint8Array(signed.payload),
    expectedDigest,
  );
  if (problem) return fail(problem);
  return {
    state: 'verified',
    identity: published.certificateIdentity,
    issuer: published.certificateOidcIssuer,
    trustedRootSource: published.trustedRootSource,
  };
}
