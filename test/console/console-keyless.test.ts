/**
 * Keyless receipts verified in the browser (console/app/keyless/, @sigstore/verify bundled, its
 * crypto answered by WebCrypto) against the identity and trust root `GET /v1/keys` publishes.
 * The server signs through a Sigstore of the test's own (test/helpers/attacker-sigstore.ts:
 * @sigstore/mock's Fulcio-like CA, CT log and Rekor on 127.0.0.1) with MAESTRO_SIGNING=keyless,
 * and publishes MAESTRO_KEYLESS_IDENTITY, MAESTRO_KEYLESS_ISSUER and MAESTRO_TRUSTED_ROOT. A real
 * run's receipts show verified; altered on the wire (playwright's route) they show not verified:
 * a changed statement, the same statement signed keyless as another identity under the same root,
 * and the same identity certified by another Sigstore (an attacker's own CA and logs).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELLO } from '../api/api-harness.ts';
import { startAttackerSigstore, type AttackerSigstore } from '../helpers/attacker-sigstore.ts';
import {
  checkAccessibility,
  eventually,
  screenshot,
  signInWith,
  startConsole,
  type ConsoleHarness,
} from './console-harness.ts';

const SAN = 'https://github.com/acme/ops/.github/workflows/maestro.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const OTHER = 'https://github.com/evil/fork/.github/workflows/maestro.yml@refs/heads/main';

interface Bundle {
  dsseEnvelope: { payload: string; payloadType: string };
}
interface Served {
  task: string | null;
  attempt: number;
  bundle: Bundle;
}

let c: ConsoleHarness;
let sigstore: AttackerSigstore;
let elsewhere: AttackerSigstore;
let dir: string;
let runId: string;
let token: string;
const savedToken = process.env.SIGSTORE_ID_TOKEN;

const verdict = (p: Page, task: string) => p.locator(`tr[data-receipt="${task}#1"] .verdict`);
const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

/** A page whose receipts pass through `alter` (which may sign anew) on their way to the app. */
async function pageWith(alter: (receipts: Served[]) => Promise<Served[]>): Promise<Page> {
  const page = await c.page();
  await page.route('**/v1/runs/*/receipts*', async (route: Route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: await alter((await response.json()) as Served[]) });
  });
  await signInWith(page, c.api.url, token);
  await page.goto(`${c.api.url}/runs/${runId}`);
  return page;
}

/** Each receipt's own statement, signed keyless again by `signer` (a valid bundle of its own). */
const resignedBy = (signer: AttackerSigstore['signer']) => async (receipts: Served[]) =>
  Promise.all(
    receipts.map(async (r) => ({
      ...r,
      bundle: (await signer.signDsse(
        Buffer.from(r.bundle.dsseEnvelope.payload, 'base64'),
        r.bundle.dsseEnvelope.payloadType,
      )) as unknown as Bundle,
    })),
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-console-keyless-'));
  [sigstore, elsewhere] = await Promise.all([
    startAttackerSigstore({ san: SAN, issuer: ISSUER }),
    startAttackerSigstore({ san: SAN, issuer: ISSUER }),
  ]);
  writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
  // The server's OIDC token, as cosign's and sigstore-js's CI provider read it (never logged).
  process.env.SIGSTORE_ID_TOKEN = jwt({ iss: ISSUER, sub: SAN });
  c = await startConsole({
    env: {
      MAESTRO_SIGNING: 'keyless',
      MAESTRO_FULCIO_URL: sigstore.url,
      MAESTRO_REKOR_URL: sigstore.url,
      MAESTRO_KEYLESS_IDENTITY: SAN,
      MAESTRO_KEYLESS_ISSUER: ISSUER,
      MAESTRO_TRUSTED_ROOT: join(dir, 'trusted_root.json'),
    },
  });
  const stored = await c.api.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' });
  runId = (await c.api.call('POST', '/v1/runs', { body: { workflow: stored.body.digest } })).body.id;
  expect((await c.api.settle(runId)).body.run.status).toBe('succeeded');
  token = await c.api.mint(['console', 'runs:read']);
}, 180_000);

afterAll(async () => {
  if (savedToken === undefined) delete process.env.SIGSTORE_ID_TOKEN;
  else process.env.SIGSTORE_ID_TOKEN = savedToken;
  await c?.close();
  await Promise.all([sigstore?.close(), elsewhere?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('keyless receipts verified in the browser', () => {
  it('publishes the keyless identity and the trust root at GET /v1/keys, and no token', async () => {
    const keys = await c.api.call('GET', '/v1/keys');
    expect(keys.status).toBe(200);
    expect(keys.body).toEqual({
      signer: 'keyless',
      keys: [],
      keyless: {
        certificateIdentity: SAN,
        certificateOidcIssuer: ISSUER,
        trustedRoot: sigstore.trustedRoot,
        trustedRootSource: 'file',
      },
    });
    expect(JSON.stringify(keys.body)).not.toContain(process.env.SIGSTORE_ID_TOKEN!.split('.')[1]);
    const served = (await c.api.call('GET', '/v1/runs/{id}/receipts', { params: { id: runId } })).body as {
      bundle: { verificationMaterial: Record<string, unknown> };
    }[];
    expect(served.length).toBeGreaterThan(0);
    for (const r of served) expect(Object.keys(r.bundle.verificationMaterial)).toContain('certificate');
  });

  it("shows a real run's keyless receipts as verified for the published identity", async () => {
    const page = await pageWith(async (r) => r);
    await eventually(() => verdict(page, 'greet').textContent()).toBe(
      `Verified: signed keyless by ${SAN} (issuer ${ISSUER}), under the operator's trust root`,
    );
    await checkAccessibility(page, 'the run page with keyless receipts');
    await screenshot(page, 'receipts-keyless-verified');
    await page.context().close();
  });

  it('shows a keyless receipt whose statement was changed as not verified', async () => {
    const page = await pageWith(async (receipts) => {
      for (const r of receipts) {
        const statement = JSON.parse(Buffer.from(r.bundle.dsseEnvelope.payload, 'base64').toString());
        statement.predicateType = 'https://example.com/forged';
        r.bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      }
      return receipts;
    });
    await eventually(() => verdict(page, 'greet').textContent()).toMatch(
      /^Not verified: keyless verification failed: DSSE (payload hash mismatch|signature)/,
    );
    await screenshot(page, 'receipts-keyless-tampered');
    await page.context().close();
  });

  it('shows the same statement signed keyless as another identity, under the same root, as not verified', async () => {
    const page = await pageWith(resignedBy(sigstore.signerAs({ san: OTHER, issuer: ISSUER })));
    await eventually(() => verdict(page, 'greet').textContent()).toBe(
      `Not verified: keyless verification failed: certificate identity error - expected ${SAN}, got ${OTHER}`,
    );
    await page.context().close();
  });

  it('shows the same identity certified by another Sigstore (an attacker’s CA and logs) as not verified', async () => {
    const page = await pageWith(resignedBy(elsewhere.signer));
    await eventually(() => verdict(page, 'greet').textContent()).toBe(
      'Not verified: keyless verification failed: Failed to verify certificate chain',
    );
    await page.context().close();
  });
});
