import { generateKeyPairSync } from 'node:crypto';

/** A fresh ECDSA P-256 public key (PEM) that signed nothing. */
export function freshKeySignerPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}
