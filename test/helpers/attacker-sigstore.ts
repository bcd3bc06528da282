/**
 * An attacker's own complete Sigstore: a Fulcio-like CA, a CT log and a Rekor log (from
 * `@sigstore/mock`, the sigstore-js project's test services), served on 127.0.0.1 so Maestro's
 * real keyless signer (`createKeylessSigner`) signs through it, plus the `trusted_root.json` that
 * trusts exactly these services. Bundles it makes are valid Sigstore bundles for any identity the
 * attacker names; they verify only under this root, never under Sigstore's public-good root.
 * Also the only place Maestro's keyless signing path runs end to end (Fulcio and Rekor over HTTP).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { initializeCA, initializeCTLog, initializeTLog, rekorHandler } from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { createKeylessSigner, type ProvenanceSigner } from '../../provenance/index.ts';

const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

export interface AttackerSigstore {
  /** Maestro's keyless signer, pointed at the attacker's services, claiming `identity`. */
  signer: ProvenanceSigner;
  /** The attacker's trusted_root.json (parsed JSON), trusting only the attacker's services. */
  trustedRoot: unknown;
  /** Where the Fulcio-like CA and the Rekor log answer (MAESTRO_FULCIO_URL, MAESTRO_REKOR_URL). */
  url: string;
  /** Another keyless signer on the same services, whose certificates name another identity. */
  signerAs(identity: { san: string; issuer: string }): ProvenanceSigner;
  close(): Promise<void>;
}

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const unsignedJwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

/** The identity a token claims (as Fulcio reads it from the OIDC token), else the default one. */
function claimedIdentity(
  token: string | undefined,
  fallback: { san: string; issuer: string },
): { san: string; issuer: string } {
  try {
    const claims = JSON.parse(Buffer.from((token ?? '').split('.')[1] ?? '', 'base64url').toString()) as {
      sub?: unknown;
      iss?: unknown;
    };
    if (typeof claims.sub === 'string' && typeof claims.iss === 'string')
      return { san: claims.sub, issuer: claims.iss };
  } catch {
    // no readable token: the default identity
  }
  return fallback;
}

async function readBody(req: NodeJS.ReadableStream): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk.toString();
  return body;
}

/**
 * Real Rekor stores a `dsse` entry as hashes plus signatures, not as the proposed envelope; the
 * mock logs what it is given, so the attacker's log does Rekor's transformation first.
 */
function storedDsseEntry(proposed: {
  spec: { proposedContent: { envelope: string; verifiers: string[] } };
}): object {
  const { envelope, verifiers } = proposed.spec.proposedContent;
  const parsed = JSON.parse(envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64')) },
      signatures: parsed.signatures.map((s) => ({ signature: s.sig, verifier: verifiers[0] })),
    },
  };
}

/** Starts the attacker's services; the certificates name `identity.san` issued by `identity.issuer`. */
export async function startAttackerSigstore(identity: {
  san: string;
  issuer: string;
}): Promise<AttackerSigstore> {
  const started = new Date(Date.now() - 60_000);
  const ctKeys = keyPair();
  const caKeys = keyPair();
  const tlogKeys = keyPair();
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctlog);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (req.url === '/api/v2/signingCert') {
        const request = JSON.parse(body) as {
          credentials?: { oidcIdentityToken?: string };
          publicKeyRequest: { publicKey: { content: string } };
        };
        const pem = request.publicKeyRequest.publicKey.content;
        const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');
        const claimed = claimedIdentity(request.credentials?.oidcIdentityToken, identity);
        const leaf = await ca.issueCertificate({
          publicKey: der,
          subjectAltName: claimed.san,
          extensions: [
            { oid: OID_FULCIO_ISSUER_V1, value: claimed.issuer, legacy: true },
            { oid: OID_FULCIO_ISSUER_V2, value: claimed.issuer },
          ],
        });
        const toPem = (d: ArrayBufferView) =>
          `-----BEGIN CERTIFICATE-----\n${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64')}\n-----END CERTIFICATE-----\n`;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            signedCertificateEmbeddedSct: {
              chain: { certificates: [toPem(leaf), toPem(ca.rootCertificate)] },
            },
          }),
        );
        return;
      }
      const rekor = rekorHandler(await tlogReady);
      const result = await rekor.fn(JSON.stringify(storedDsseEntry(JSON.parse(body))));
      res.writeHead(result.statusCode, { 'content-type': result.contentType ?? 'text/plain' });
      res.end(result.response);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tlogReady = initializeTLog(base, tlogKeys);
  const tlog = await tlogReady;
  const spki = (k: ReturnType<typeof keyPair>) => k.publicKey.export({ type: 'spki', format: 'der' });
  const trustedRoot = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: base,
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer) }] },
        validFor: { start: started },
        operator: 'attacker',
      },
    ],
    tlogs: [
      {
        baseUrl: base,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: {
          rawBytes: tlog.publicKey,
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: { start: started },
        },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest() },
        checkpointKeyId: undefined,
        operator: 'attacker',
      },
    ],
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: {
          rawBytes: spki(ctKeys),
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: { start: started },
        },
        logId: { keyId: Buffer.from(ctlog.logID.buffer, ctlog.logID.byteOffset, ctlog.logID.byteLength) },
        checkpointKeyId: undefined,
        operator: 'attacker',
      },
    ],
    timestampAuthorities: [],
  });
  const signerAs = (claimed: { san: string; issuer: string }) =>
    createKeylessSigner({
      identityProvider: { getToken: async () => unsignedJwt({ iss: claimed.issuer, sub: claimed.san }) },
      fulcioURL: base,
      rekorURL: base,
    });
  return {
    signer: signerAs(identity),
    signerAs,
    trustedRoot,
    url: base,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
