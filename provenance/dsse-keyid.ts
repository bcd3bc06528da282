/**
 * The DSSE signature's `keyid` is left empty in every bundle Maestro writes.
 *
 * Why: the keyid is an optional, unsigned hint (DSSE spec), but Sigstore's Go clients (cosign via
 * sigstore-go and go-securesystemslib's DSSE verifier) skip any signature whose non-empty keyid
 * differs from the id *they* derive from the key they were given, and then fail with "accepted
 * signatures do not match threshold, Found: 0". Maestro used to put its own `sha256:<spki>`
 * fingerprint there, so cosign rejected every receipt. An empty keyid is what cosign itself and
 * sigstore-js keyless signing emit. The key's name stays in the bundle's verification material
 * (`publicKey.hint`), which no client treats as a filter, and where Maestro reads the
 * development-key marker.
 */
interface BundleWithDsse {
  dsseEnvelope?: { signatures?: { keyid?: string; sig?: string }[] };
}

/**
 * A copy of a serialized Sigstore bundle with every DSSE signature's keyid emptied. The signature
 * covers only the payload type and payload (PAE), so the result verifies exactly as the input did;
 * used for new bundles and to re-emit bundles issued before this change (export, disclosure).
 */
export function withEmptyDsseKeyIds<T>(bundle: T): T {
  const dsse = (bundle as BundleWithDsse | null)?.dsseEnvelope;
  if (!dsse?.signatures?.some((s) => s.keyid)) return bundle;
  return {
    ...bundle,
    dsseEnvelope: { ...dsse, signatures: dsse.signatures.map((s) => ({ ...s, keyid: '' })) },
  } as T;
}
