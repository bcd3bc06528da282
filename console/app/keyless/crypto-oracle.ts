/**
 * The `crypto` module @sigstore/core asks for, in the browser (esbuild aliases `crypto` here for
 * the keyless verifier's bundle). sigstore-js calls node:crypto synchronously (createHash, verify)
 * and WebCrypto only answers asynchronously, so each answer comes from a memo: a question not in
 * it is recorded and answered provisionally (a digest of zeros, a signature that verifies), and
 * `settle` re-runs the whole verification once WebCrypto has answered every recorded question.
 * When a run asks nothing new, every answer it used was WebCrypto's own, so its outcome is exactly
 * what @sigstore/verify decides on Node. Why not a synchronous JavaScript ECDSA: WebCrypto is the
 * browser's own audited code, and this adds no curve arithmetic (nor its bytes) to the page.
 */
import { Buffer } from 'buffer';
import { derToRaw } from '../der-signature.ts';

type Answer = boolean | Uint8Array;
interface Question {
  id: string;
  ask: () => Promise<Answer>;
}

/** The one verification in progress: set by `settle` around its synchronous run only. */
let current: { memo: Map<string, Answer>; asked: Question[] } | undefined;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const HASHES: Record<string, { name: string; size: number }> = {
  sha256: { name: 'SHA-256', size: 32 },
  sha384: { name: 'SHA-384', size: 48 },
  sha512: { name: 'SHA-512', size: 64 },
};

function oracle(): NonNullable<typeof current> {
  if (!current) throw new Error('node:crypto is only answered inside settle()');
  return current;
}

function hashOf(algorithm: string | null | undefined): { name: string; size: number } {
  const hash = HASHES[(algorithm ?? 'sha256').toLowerCase().replace('-', '')];
  if (!hash) throw new Error(`unsupported digest ${algorithm}`);
  return hash;
}

function ask(id: string, fallback: Answer, question: () => Promise<Answer>): Answer {
  const o = oracle();
  const known = o.memo.get(id);
  if (known !== undefined) return known;
  if (!o.asked.some((q) => q.id === id)) o.asked.push({ id, ask: question });
  return fallback;
}

export function createHash(algorithm: string) {
  const hash = hashOf(algorithm);
  const parts: Uint8Array[] = [];
  return {
    update(data: Uint8Array | string) {
      parts.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      return this;
    },
    digest(encoding?: 'hex' | 'base64') {
      const data = Buffer.concat(parts);
      const answer = ask(
        `h|${hash.name}|${b64(data)}`,
        new Uint8Array(hash.size),
        async () => new Uint8Array(await crypto.subtle.digest(hash.name, data)),
      ) as Uint8Array;
      const out = Buffer.from(answer);
      return encoding ? out.toString(encoding) : out;
    },
  };
}

/** A public key as @sigstore/core holds it: the SubjectPublicKeyInfo DER, imported when asked. */
export interface ShimKeyObject {
  readonly type: 'public';
  readonly spki: Uint8Array;
  readonly format: 'spki' | 'pkcs1';
}

export function createPublicKey(
  key: string | Uint8Array | ShimKeyObject | { key: string | Uint8Array; format?: string; type?: string },
): ShimKeyObject {
  if (typeof key === 'string') {
    const body = key.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
    return { type: 'public', spki: Buffer.from(body, 'base64'), format: 'spki' };
  }
  if (key instanceof Uint8Array) return { type: 'public', spki: key, format: 'spki' };
  if ('spki' in key) return key;
  const inner = createPublicKey(key.key);
  return { ...inner, format: key.type === 'pkcs1' ? 'pkcs1' : 'spki' };
}

export function verify(
  algorithm: string | null | undefined,
  data: Uint8Array,
  key: ShimKeyObject | string | Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = createPublicKey(key);
  const id = `v|${algorithm ?? ''}|${k.format}|${b64(k.spki)}|${b64(data)}|${b64(signature)}`;
  return ask(id, true, () => verifyWithWebCrypto(algorithm, k, data, signature)) as boolean;
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const CURVES = [
  { namedCurve: 'P-256', size: 32 },
  { namedCurve: 'P-384', size: 48 },
  { namedCurve: 'P-521', size: 66 },
];

/** ECDSA (P-256/384/521, DER signatures as node:crypto takes them) or Ed25519; RSA is refused. */
async function verifyWithWebCrypto(
  algorithm: string | null | undefined,
  key: ShimKeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (key.format !== 'spki') return false;
  const spki = new Uint8Array(key.spki);
  const bytes = new Uint8Array(data);
  for (const curve of CURVES) {
    const imported = await crypto.subtle
      .importKey('spki', spki, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['verify'])
      .catch(() => undefined);
    if (!imported) continue;
    const raw = derToRaw(signature, curve.size);
    if (!raw) return false;
    return crypto.subtle.verify({ name: 'ECDSA', hash: hashOf(algorithm).name }, imported, raw, bytes);
  }
  const ed = await crypto.subtle
    .importKey('spki', spki, { name: 'Ed25519' }, false, ['verify'])
    .catch(() => undefined);
  return ed ? crypto.subtle.verify({ name: 'Ed25519' }, ed, new Uint8Array(signature), bytes) : false;
}

/**
 * Runs `verification` (synchronous, calling the functions above) until it asks nothing WebCrypto
 * has not answered, then returns its outcome or throws its error. Bounded: a verification that
 * keeps asking new questions is refused rather than looped on.
 */
export async function settle<T>(verification: () => T, maxRounds = 32): Promise<T> {
  const memo = new Map<string, Answer>();
  for (let round = 0; round < maxRounds; round++) {
    const state = { memo, asked: [] as Question[] };
    current = state;
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: verification() };
    } catch (error) {
      outcome = { error };
    } finally {
      current = undefined;
    }
    if (state.asked.length === 0) {
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    }
    for (const q of state.asked) memo.set(q.id, await q.ask());
  }
  throw new Error(`the verification did not settle in ${maxRounds} rounds`);
}

export default { createHash, createPublicKey, verify, timingSafeEqual };
