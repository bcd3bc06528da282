/**
 * `${workload.identity}` is the run's signed workload identity (provenance/workload-identity.ts):
 * minted by the engine with the receipts' key for one task, bound to the run, task, namespace,
 * workflow and plan digest, for one audience, short-lived. The SIG reference server, told the
 * published key (`workloadIdentity` / `maestro sig-dev-server --workload-key`), refuses every
 * other bearer: none, forged (another key, or a changed claim), expired, for another audience,
 * and the plain `maestro:<namespace>/<workflow>/<task>` string the engine sent before (which
 * anyone could write). The token never carries the signing key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';
import {
  createLocalKeySigner,
  createWorkloadIdentityIssuer,
  verifyWorkloadIdentity,
} from '../../provenance/index.ts';
import { ingestBatches, SigRequestError } from '../../sig/index.ts';
import { freshKeyPairPem } from '../helpers/provenance-keys.ts';

const keys = freshKeyPairPem();
const signer = createLocalKeySigner({ privateKeyPem: keys.privateKeyPem });
const request = {
  runId: 'r-1',
  task: 'export_bundle',
  namespace: 'legal',
  workflow: 'disclosure-export',
  planDigest: `sha256:${'b'.repeat(64)}`,
};
const servers: SigDevServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

async function start(now?: () => number) {
  const server = createSigDevServer({
    workloadIdentity: { publicKeysPem: [keys.publicKeyPem], audience: 'sig', ...(now ? { now } : {}) },
  });
  servers.push(server);
  return { server, url: await server.listen() };
}

const record = (id: string) => ({
  id,
  kind: 'event' as const,
  occurredAt: '2026-02-01T00:00:00.000Z',
  producer: { name: 'maestro/test' },
  payload: { n: 1 },
});

async function send(url: string, token: string | undefined, id: string) {
  return ingestBatches({ baseUrl: url, ...(token ? { token } : {}), retry: { limit: 0 } }, [record(id)], {
    idempotencyKey: `key-${id}`,
  });
}

describe('the workload identity token', () => {
  it('binds the run, task, namespace, workflow and plan digest to an audience and a short life', async () => {
    const issue = createWorkloadIdentityIssuer({ signer, now: () => 1_000_000_000_000 })!;
    const token = await issue(request);
    const verdict = verifyWorkloadIdentity(token, {
      publicKeysPem: [keys.publicKeyPem],
      audience: 'sig',
      now: 1_000_000_000_000,
    });
    expect(verdict).toMatchObject({
      ok: true,
      claims: {
        ...request,
        aud: 'sig',
        sub: 'maestro:legal/disclosure-export/export_bundle',
        iss: 'maestro',
      },
    });
    const claims = (verdict as { claims: { iat: number; exp: number } }).claims;
    expect(claims.exp - claims.iat).toBe(15 * 60);
    // Only a signature travels: neither the private key nor any of its parts.
    const decoded = Buffer.from(token.slice('mwi1.'.length), 'base64url').toString('utf8');
    expect(decoded).not.toContain('PRIVATE KEY');
    const d = String((signer as unknown as { keyFingerprint: string }).keyFingerprint);
    expect(d).toMatch(/^sha256:/);
    const privateD = (await import('node:crypto'))
      .createPrivateKey(keys.privateKeyPem)
      .export({ format: 'jwk' }).d as string;
    expect(token).not.toContain(privateD);
    expect(decoded).not.toContain(privateD);
  });

  it('a keyless signer (no key) issues none, so a task using one fails closed', () => {
    expect(
      createWorkloadIdentityIssuer({ signer: { kind: 'keyless', signDsse: signer.signDsse } }),
    ).toBeUndefined();
  });
});

describe('the SIG reference server requires a valid workload identity', () => {
  it('accepts the engine’s token and reads its claims', async () => {
    const { server, url } = await start();
    const token = await createWorkloadIdentityIssuer({ signer })!(request);
    const result = await send(url, token, 'ok-1');
    expect(result.accepted).toBe(1);
    expect(server.received.identities.at(-1)!.claims).toMatchObject(request);
  });

  it.each([
    ['no bearer', async () => undefined, /no bearer/],
    [
      'the plain name the engine sent before (anyone can write it)',
      async () => 'maestro:legal/disclosure-export/export_bundle',
      /not a Maestro workload identity/,
    ],
    [
      'signed by another key',
      async () =>
        createWorkloadIdentityIssuer({
          signer: createLocalKeySigner({ privateKeyPem: freshKeyPairPem().privateKeyPem }),
        })!(request),
      /not by a published Maestro key/,
    ],
    [
      'a claim changed after signing (another run)',
      async () => {
        const token = await createWorkloadIdentityIssuer({ signer })!(request);
        const envelope = JSON.parse(Buffer.from(token.slice(5), 'base64url').toString('utf8'));
        const claims = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
        envelope.payload = Buffer.from(JSON.stringify({ ...claims, runId: 'r-other' })).toString('base64');
        return `mwi1.${Buffer.from(JSON.stringify(envelope)).toString('base64url')}`;
      },
      /not by a published Maestro key/,
    ],
    [
      'expired',
      async () => createWorkloadIdentityIssuer({ signer, now: () => Date.now() - 16 * 60 * 1000 })!(request),
      /expired/,
    ],
    [
      'for another audience',
      async () => createWorkloadIdentityIssuer({ signer, audience: 'billing' })!(request),
      /meant for "billing"/,
    ],
  ])('refuses %s with 401, storing nothing', async (_name, make, reason) => {
    const { server, url } = await start();
    const token = await make();
    const error = await send(url, token, 'refused-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigRequestError);
    expect((error as SigRequestError).status).toBe(401);
    expect(server.received.records.size).toBe(0);
    expect(server.received.refusedIdentities.at(-1)!.reason).toMatch(reason);
  });
});
