/**
 * An ASN.1 DER ECDSA signature (what node:crypto and cosign write) as the IEEE P1363 r‖s that
 * WebCrypto verifies, for a curve of `size`-byte integers (32 for P-256, 48 for P-384, 66 for
 * P-521); null when it is not a well-formed signature of that size. Used by both receipt paths.
 */
export function derToRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | null {
  if (der[0] !== 0x30) return null;
  let at = 2;
  let total = der[1]!;
  if (total === 0x81) [total, at] = [der[2]!, 3];
  if (at + total !== der.length) return null;
  const out = new Uint8Array(2 * size);
  for (const half of [0, size]) {
    if (der[at] !== 0x02) return null;
    const len = der[at + 1]!;
    let int = der.subarray(at + 2, at + 2 + len);
    if (int.length !== len) return null;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return null;
    out.set(int, half + size - int.length);
    at += 2 + len;
  }
  return at === der.length ? out : null;
}
