import { createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { sha256Digest } from '../core/index.ts';
import { withEmptyDsseKeyIds } from './dsse-keyid.ts';
import { SigningConfigError } from './errors.ts';
import { DEV_KEY_HINT_PREFIX, DEV_KEY_WARNING, type ProvenanceSigner } from './signer.ts';

export interface LocalKeySignerOptions {
  /** PKCS#8 or SEC1 PEM of an ECDSA P-256 private key. */
  privateKeyPem: string;
  /** Where the key came from, for error messages (a path, or "inline"). */
  source?: string;
  /** Marks the development key: every output carries the warning. */
  development?: boolean;
}

/** `sha256:<hex>` of a public key's SubjectPublicKeyInfo DER: the key's stable name. */
export function keyFingerprint(publicKey: KeyObject): string {
  return sha256Digest(publicKey.export({ type: 'spki', format: 'der' }));
}

const STAND_IN = Buffer.from([0]);

/** Parses a P-256 private key or says exactly why it cannot be used. */
function loadP256PrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new SigningConfigError(`signing key ${source} is not a readable PEM private key`, {
      cause,
      hint: 'create one with: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt',
    });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new SigningConfigError(`signing key ${source} is not an ECDSA P-256 key`, {
      hint: 'Maestro signs with ECDSA P-256 (prime256v1) keys',
    });
  return key;
}

/** A signer over an operator-configured (or development) ECDSA P-256 key. */
export function createLocalKeySigner(options: LocalKeySignerOptions): ProvenanceSigner {
  const privateKey = loadP256PrivateKey(options.privateKeyPem, options.source ?? 'inline');
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const fingerprint = keyFingerprint(publicKey);
  const hint = options.development ? `${DEV_KEY_HINT_PREFIX}${fingerprint}` : fingerprint;
  return {
    kind: options.development ? 'development-key' : 'local-key',
    keyFingerprint: fingerprint,
    publicKeyPem,
    ...(options.development ? { warning: DEV_KEY_WARNING } : {}),
    // The hint names the key in the verification material; the DSSE keyid stays empty (cosign).
    // The same bundle @sigstore/sign's DSSEBundleBuilder makes with this key and no witnesses
    // (local-key.test.ts compares them), from @sigstore/bundle alone: the builder's package
    // loads its Fulcio, Rekor, TUF and fetch stack (~130 modules, ~10 MiB) with it.
    signDsse: async (payload, payloadType) => {
      // A view of the caller's bytes, not a copy (a run statement's are megabytes; nothing
      // changes them while they are signed).
      const artifact = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      const signature = await signOffThread(preAuthEncoding(payloadType, artifact), privateKey);
      // bundleToJSON base64s a copy of the payload (@sigstore/protobuf-specs' base64FromBytes
      // copies it first): the envelope is made around a one-byte stand-in, then given the
      // payload's base64 in the same member, so the JSON is the same and the payload is encoded
      // once. An empty payload has no member at all (protobuf JSON), so it goes through as is.
      const json = bundleToJSON(
        toDSSEBundle({
          artifact: artifact.length > 0 ? STAND_IN : artifact,
          artifactType: payloadType,
          signature,
          keyHint: hint,
          certificateChain: false,
        }),
      );
      if (artifact.length > 0 && json.dsseEnvelope) json.dsseEnvelope.payload = artifact.toString('base64');
      return withEmptyDsseKeyIds(json);
    },
  };
}

/**
 * The ECDSA signature, computed on libuv's thread pool (crypto.sign with a callback) rather than
 * on the event loop: a receipt per attempt made signing ~5 % of `maestro run`'s main thread on
 * the 1,000-task bench (bench/run/RESULTS.md), the thread every run's scheduling shares.
 */
function signOffThread(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    cryptoSign('sha256', data, key, (error, signature) => (error ? reject(error) : resolve(signature))),
  );
}

/**
 * DSSE's pre-authentication encoding, what is signed: `DSSEv1 <len(type)> <type> <len(body)> <body>`
 * (the DSSE v1 protocol). Written here because the one library function for it,
 * @sigstore/core's `dsse.preAuthEncoding`, is reached only through that package's index, which
 * loads its X.509 and ASN.1 code too; local-key.test.ts checks both give the same bytes.
 */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}
