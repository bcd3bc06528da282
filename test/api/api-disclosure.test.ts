/**
 * GET /v1/runs/{id}/disclosure over real HTTP against the real server (SQLite, the default OPA
 * policy, the local runner, the server's signing key): the archive verifies offline with the key
 * GET /v1/keys publishes, exactly as `maestro disclose verify` checks one (the same
 * verifyDisclosure), holds the run's receipts, its artifact and the manifest the workflow was
 * stored with; a token of another namespace, an unknown run and an artifact changed after it was
 * attested are refused with nothing packed. Before this route the path was a 404 route_not_found.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDisclosure } from '../../provenance/index.ts';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

const BUILD = manifest(
  'build',
  `    - id: build
      run: echo "built at $MAESTRO_RUN_ID" > built.txt
      artifacts: [built.txt]
    - id: check
      needs: [build]
      run: echo checked
`,
);

let api: ApiHarness;
let runId: string;
let digest: string;

beforeAll(async () => {
  api = await startApi();
  const stored = await api.call('POST', '/v1/workflows', { raw: BUILD, contentType: 'application/yaml' });
  digest = stored.body.digest as string;
  const accepted = await api.call('POST', '/v1/runs', { body: { workflow: digest } });
  runId = accepted.body.id as string;
  expect((await api.settle(runId)).body.run.status).toBe('succeeded');
});
afterAll(async () => api?.close());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('GET /v1/runs/{id}/disclosure', () => {
  it('answers a gzip archive that verifies offline against the key the server publishes', async () => {
    const answer = await api.call('GET', '/v1/runs/{id}/disclosure', { params: { id: runId } });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/gzip');
    expect(answer.headers?.get('content-disposition')).toBe(`attachment; filename="${runId}.disclosure.tgz"`);
    const keys = await api.call('GET', '/v1/keys');
    const report = await verifyDisclosure(answer.body as Buffer, {
      publicKey: keys.body.keys[0].publicKeyPem,
    });
    expect(report).toMatchObject({ runId, trust: 'pinned', artifacts: 1 });
    const receipts = await api.call('GET', '/v1/runs/{id}/receipts', { params: { id: runId } });
    expect(report.receipts).toBe(receipts.body.length);
    // Another key does not verify it: the index is the server's signature, not the archive's say-so.
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    await expect(verifyDisclosure(answer.body as Buffer, { publicKey: other.toString() })).rejects.toThrow();
  });

  it('refuses a token of another namespace (403) and an unknown run (404)', async () => {
    const elsewhere = await api.mint(['runs:read'], { namespaces: ['other'] });
    const foreign = await api.call('GET', '/v1/runs/{id}/disclosure', {
      params: { id: runId },
      token: elsewhere,
    });
    expect(foreign).toMatchObject({ status: 403, body: { code: 'forbidden_namespace' } });
    const unknown = await api.call('GET', '/v1/runs/{id}/disclosure', { params: { id: 'r-nope' } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'run_not_found' } });
  });

  it('refuses 409 when an attested artifact changed or is gone from the data dir, naming it', async () => {
    // The kept copy the receipt attests (<run>/build.1.artifacts/), not the workspace's.
    const kept = filesUnder(api.dataDir).find((f) => f.endsWith(`${runId}/build.1.artifacts/built.txt`));
    expect(kept, 'the attested artifact in the data dir').toBeDefined();
    writeFileSync(kept!, 'tampered\n');
    const answer = await api.call('GET', '/v1/runs/{id}/disclosure', { params: { id: runId } });
    expect(answer).toMatchObject({ status: 409, body: { code: 'disclose_artifact_changed' } });
    expect(answer.body.detail).toContain('built.txt');
    // Gone: a 409 too, naming the file but not the server's data dir.
    rmSync(kept!);
    const gone = await api.call('GET', '/v1/runs/{id}/disclosure', { params: { id: runId } });
    expect(gone).toMatchObject({ status: 409, body: { code: 'disclose_artifact_missing' } });
    expect(gone.body.detail).toContain('<data-dir>/');
    expect(gone.body.detail).not.toContain(api.dataDir);
  });
});
