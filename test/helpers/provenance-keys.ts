import { generateKeyPairSync } from 'node:crypto';

/** A fresh ECDSA P-256 key pair as PEM: the private key PKCS#8, the public key SPKI. */
export function freshKeyPairPem(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A fresh ECDSA P-256 public key (PEM) that signed nothing. */
export function freshKeySignerPem(): string {
  return freshKeyPairPem().publicKeyPem;
}
