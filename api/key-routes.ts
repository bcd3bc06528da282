/**
 * GET /v1/keys: what this server's receipts are signed with. The console verifies every receipt
 * in the browser against it (console/app/receipt-verify.ts) rather than asking the server whether
 * a receipt is good: a server that lies about a receipt cannot also make its signature verify.
 * Only public material leaves: the private key stays in the signer's closure, and a keyless
 * signer publishes the identity it signs as and the trust root, never its identity token.
 */
import { createPublicKey } from 'node:crypto';
import type { ApiBody } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';

export function listVerificationKeys(ctx: ApiContext): ApiBody.VerificationKeys {
  const signer = ctx.runtime.signer;
  if (!signer) return { signer: 'none', keys: [] };
  if (signer.kind === 'keyless') {
    const k = signer.keyless;
    return {
      signer: 'keyless',
      keys: [],
      ...(k
        ? {
            keyless: {
              certificateIdentity: k.certificateIdentity,
              certificateOidcIssuer: k.certificateOidcIssuer,
              trustedRoot: k.trustedRoot as Record<string, unknown>,
              trustedRootSource: k.trustedRootSource,
            },
          }
        : {}),
    };
  }
  if (!signer.publicKeyPem || !signer.keyFingerprint) return { signer: signer.kind, keys: [] };
  const jwk = createPublicKey(signer.publicKeyPem).export({ format: 'jwk' });
  return {
    signer: signer.kind,
    keys: [
      {
        keyid: signer.keyFingerprint,
        algorithm: 'ECDSA_P256_SHA256',
        publicKeyPem: signer.publicKeyPem,
        jwk: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) },
        development: signer.kind === 'development-key',
      },
    ],
  };
}
