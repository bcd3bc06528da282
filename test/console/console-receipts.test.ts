/**
 * Receipts verified in the browser (console/app/receipt-verify.ts, WebCrypto) against the key
 * `GET /v1/keys` publishes, never by asking the server. A real run's receipts show verified; a
 * receipt altered on the wire (playwright's route) shows not verified with the reason: a changed
 * statement, a statement re-signed by an attacker's own key (with that key in the bundle), and a
 * validly signed receipt of another attempt served in this one's place.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELLO } from '../api/api-harness.ts';
import {
  checkAccessibility,
  eventually,
  screenshot,
  signInWith,
  startConsole,
  type ConsoleHarness,
} from './console-harness.ts';

interface Bundle {
  mediaType: string;
  verificationMaterial: { publicKey?: { hint: string } };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}
interface Served {
  task: string | null;
  attempt: number;
  digest: string;
  bundle: Bundle;
}

let c: ConsoleHarness;
let runId: string;
let token: string;

const verdict = (p: Page, task: string) => p.locator(`tr[data-receipt="${task}#1"] .verdict`);

/** A page whose receipts pass through `alter` on their way from the server to the app. */
async function pageWith(alter: (receipts: Served[]) => Served[]): Promise<Page> {
  const page = await c.page();
  await page.route('**/v1/runs/*/receipts*', async (route: Route) => {
    const response = await route.fetch();
    const receipts = (await response.json()) as Served[];
    await route.fulfill({ response, json: alter(receipts) });
  });
  await signInWith(page, c.api.url, token);
  await page.goto(`${c.api.url}/runs/${runId}`);
  return page;
}

const pae = (type: string, body: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);

function editStatement(bundle: Bundle, edit: (s: Record<string, unknown>) => void): Buffer {
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
  edit(statement);
  const payload = Buffer.from(JSON.stringify(statement));
  bundle.dsseEnvelope.payload = payload.toString('base64');
  return payload;
}

beforeAll(async () => {
  c = await startConsole();
  const stored = await c.api.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' });
  runId = (await c.api.call('POST', '/v1/runs', { body: { workflow: stored.body.digest } })).body.id;
  expect((await c.api.settle(runId)).body.run.status).toBe('succeeded');
  token = await c.api.mint(['console', 'runs:read']);
}, 120_000);

afterAll(async () => c?.close());

describe('receipts verified in the browser', () => {
  it('publishes the receipt key at GET /v1/keys: PEM, JWK and the keyid the bundles name', async () => {
    const keys = await c.api.call('GET', '/v1/keys');
    expect(keys.status).toBe(200);
    expect(keys.body.signer).toMatch(/^(local-key|development-key)$/);
    const [key] = keys.body.keys;
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(key.jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(JSON.stringify(keys.body)).not.toMatch(/PRIVATE|"d":/);
    const served = (await c.api.call('GET', '/v1/runs/{id}/receipts', { params: { id: runId } }))
      .body as Served[];
    expect(served.length).toBeGreaterThan(0);
    for (const r of served) expect(r.bundle.verificationMaterial.publicKey!.hint).toContain(key.keyid);
  });

  it("shows a real run's receipts as verified with the published key", async () => {
    const keyid = (await c.api.call('GET', '/v1/keys')).body.keys[0].keyid as string;
    const page = await pageWith((r) => r);
    await eventually(() => verdict(page, 'greet').textContent()).toMatch(/^Verified: signed by sha256:/);
    expect(await verdict(page, 'greet').textContent()).toContain(keyid.slice(0, 19));
    await checkAccessibility(page, 'the run page with verified receipts');
    await screenshot(page, 'receipts-verified');
    await page.context().close();
  });

  it('shows a receipt whose statement was changed as not verified', async () => {
    const page = await pageWith((receipts) => {
      for (const r of receipts)
        editStatement(r.bundle, (s) => {
          (s.subject as { digest: { sha256: string } }[])[0]!.digest.sha256 = 'f'.repeat(64);
        });
      return receipts;
    });
    await eventually(() => verdict(page, 'greet').textContent()).toBe(
      'Not verified: the signature does not verify with the published key',
    );
    await screenshot(page, 'receipts-tampered');
    await page.context().close();
  });

  it("shows a statement re-signed with an attacker's key (in the bundle) as not verified", async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const fingerprint = `sha256:${createHash('sha256')
      .update(attacker.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')}`;
    const page = await pageWith((receipts) => {
      for (const r of receipts) {
        const payload = editStatement(r.bundle, (s) => (s.predicateType = 'https://example.com/forged'));
        const env = r.bundle.dsseEnvelope;
        env.signatures = [
          {
            keyid: '',
            sig: sign('sha256', pae(env.payloadType, payload), attacker.privateKey).toString('base64'),
          },
        ];
        r.bundle.verificationMaterial = { publicKey: { hint: fingerprint } };
      }
      return receipts;
    });
    await eventually(() => verdict(page, 'greet').textContent()).toBe(
      'Not verified: the signature does not verify with the published key',
    );
    await page.context().close();
  });

  it("shows another attempt's validly signed receipt, served in this one's place, as not verified", async () => {
    const other = (await c.api.call('GET', '/v1/runs/{id}/receipts', { params: { id: runId } }))
      .body as Served[];
    const stranger = other.find((r) => r.task !== 'greet');
    expect(stranger, 'the run has a second receipt (the run-level one)').toBeDefined();
    const page = await pageWith((receipts) =>
      receipts.map((r) => (r.task === 'greet' ? { ...r, bundle: stranger!.bundle } : r)),
    );
    await eventually(() => verdict(page, 'greet').textContent()).toMatch(
      /^Not verified: the signed statement is sha256:[0-9a-f]{12}…, not the one the run lists$/,
    );
    await page.context().close();
  });
});
