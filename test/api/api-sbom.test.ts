/**
 * GET /v1/sbom over HTTP on a real server: SBOMs stored as `maestro sbom add` stores them
 * (putSbom with the parsed components), then asked which releases and images contain a component,
 * with and without a semver range. The scope refusals are the auth sweep's (api-auth-sweep.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImageSbom, parseSbom } from '../../provenance/index.ts';
import { startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
const manifest = `sha256:${'b'.repeat(64)}`;

function image(semverVersion: string): Promise<string> {
  return buildImageSbom(
    { name: '127.0.0.1:5000/team/app', digest: manifest },
    {
      dpkgStatus:
        'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n',
      osRelease: 'ID=debian\n',
      packageJsons: [
        { path: 'node_modules/semver/package.json', text: `{"name":"semver","version":"${semverVersion}"}` },
      ],
    },
  );
}

beforeAll(async () => {
  api = await startApi();
  const release = parseSbom(
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: { component: { type: 'library', name: 'summit-maestro', version: '0.2.0' } },
      components: [{ type: 'library', name: 'semver', version: '7.8.6', purl: 'pkg:npm/semver@7.8.6' }],
    }),
    'release',
  );
  await api.apiStore.putSbom(
    {
      digest: release.digest,
      kind: 'release',
      subject: 'summit-maestro',
      version: '0.2.0',
      subjectDigest: `sha256:${'c'.repeat(64)}`,
      document: JSON.stringify(release.bom),
      createdAt: 1,
    },
    release.components,
  );
  const img = parseSbom(await image('7.5.4'), 'image');
  await api.apiStore.putSbom(
    {
      digest: img.digest,
      kind: 'image',
      subject: '127.0.0.1:5000/team/app',
      version: null,
      subjectDigest: manifest,
      document: JSON.stringify(img.bom),
      createdAt: 2,
    },
    img.components,
  );
});
afterAll(async () => api?.close());

describe('GET /v1/sbom', () => {
  it('names every release and image that contains the component', async () => {
    const answer = await api.call('GET', '/v1/sbom', { query: { component: 'semver' } });
    expect(answer.status).toBe(200);
    expect(
      answer.body.items.map((m: { subject: string; component: { version: string } }) => [
        m.subject,
        m.component.version,
      ]),
    ).toEqual([
      ['127.0.0.1:5000/team/app', '7.5.4'],
      ['summit-maestro', '7.8.6'],
    ]);
    expect(answer.body.items[1]).toMatchObject({ kind: 'release', version: '0.2.0' });
    expect(answer.body.items[0]).toMatchObject({ kind: 'image', subjectDigest: manifest });
  });

  it('narrows by a semver range, also over a Debian version', async () => {
    const old = await api.call('GET', '/v1/sbom', { query: { component: 'semver', version: '<7.6' } });
    expect(old.body.items.map((m: { subject: string }) => m.subject)).toEqual(['127.0.0.1:5000/team/app']);
    const libc = await api.call('GET', '/v1/sbom', {
      query: { component: 'libc6', version: '>=2.36 <2.37' },
    });
    expect(libc.body.items).toHaveLength(1);
    const none = await api.call('GET', '/v1/sbom', { query: { component: 'left-pad' } });
    expect(none).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('answers 422 naming a range that is not semver, and 400 without a component', async () => {
    const bad = await api.call('GET', '/v1/sbom', { query: { component: 'semver', version: '>=banana' } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('sbom_range_invalid');
    expect((await api.call('GET', '/v1/sbom', {})).status).toBe(400);
  });
});
