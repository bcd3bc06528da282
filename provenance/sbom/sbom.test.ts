import { describe, expect, it } from 'vitest';
import {
  buildImageSbom,
  diffSboms,
  parseApkInstalled,
  parseDpkgStatus,
  parseSbom,
  parseVersionRange,
  versionSatisfies,
  SbomReason,
} from './index.ts';

const DPKG = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: oldpkg
Status: deinstall ok config-files
Version: 1.0-1

Package: busybox
Status: install ok installed
Architecture: amd64
Version: 1:1.35.0-4+b3
`;

const APK = `C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64

P:busybox
V:1.36.1-r15
A:x86_64
`;

const files = {
  dpkgStatus: DPKG,
  osRelease: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
  packageJsons: [
    { path: 'opt/maestro/node_modules/semver/package.json', text: '{"name":"semver","version":"7.8.6"}' },
    {
      path: 'opt/maestro/node_modules/@sigstore/sign/package.json',
      text: '{"name":"@sigstore/sign","version":"4.1.1"}',
    },
    { path: 'opt/maestro/node_modules/broken/package.json', text: '{' },
  ],
};

describe('OS package databases', () => {
  it('lists the packages dpkg has installed, not the removed ones', () => {
    expect(parseDpkgStatus(DPKG)).toEqual([
      { ecosystem: 'deb', name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64' },
      { ecosystem: 'deb', name: 'busybox', version: '1:1.35.0-4+b3', arch: 'amd64' },
    ]);
  });
  it("reads apk's installed database", () => {
    expect(parseApkInstalled(APK).map((p) => `${p.name}@${p.version}`)).toEqual([
      'musl@1.2.4-r2',
      'busybox@1.36.1-r15',
    ]);
  });
});

describe('buildImageSbom', () => {
  const subject = { name: '127.0.0.1:5000/maestro', digest: `sha256:${'a'.repeat(64)}` };
  it('writes CycloneDX 1.6 with the OS and npm packages as purls, the same bytes every time', async () => {
    const text = await buildImageSbom(subject, files);
    expect(await buildImageSbom(subject, files)).toBe(text);
    const parsed = parseSbom(text, 'sbom');
    expect(parsed.bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
    expect(parsed.describes).toMatchObject({
      name: subject.name,
      version: subject.digest,
      type: 'container',
    });
    expect(parsed.components.map((c) => c.purl).sort()).toEqual([
      'pkg:deb/debian/busybox@1:1.35.0-4+b3?arch=amd64',
      'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64',
      'pkg:npm/%40sigstore/sign@4.1.1',
      'pkg:npm/semver@7.8.6',
    ]);
    expect(parsed.components.find((c) => c.name === 'sign')?.group).toBe('@sigstore');
  });
});

describe('parseSbom', () => {
  it('refuses what is not CycloneDX JSON, naming it', () => {
    expect(() => parseSbom('{"spdxVersion":"SPDX-2.3"}', 'x.json')).toThrow(
      expect.objectContaining({ code: SbomReason.malformed, message: expect.stringContaining('x.json') }),
    );
    expect(() => parseSbom('<bom/>', 'x.xml')).toThrow(
      expect.objectContaining({ code: SbomReason.malformed }),
    );
  });
  it('flattens nested components and gives one digest per document, whatever its key order', () => {
    const a = parseSbom(
      '{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","version":"1.0.0","components":[{"name":"b","version":"2.0.0"}]}]}',
      'a',
    );
    const b = parseSbom(
      '{"specVersion":"1.5","bomFormat":"CycloneDX","components":[{"version":"1.0.0","name":"a","components":[{"name":"b","version":"2.0.0"}]}]}',
      'b',
    );
    expect(a.components.map((c) => c.name)).toEqual(['a', 'b']);
    expect(a.digest).toBe(b.digest);
  });
});

describe('version ranges and diffs', () => {
  it('matches semver versions and the leading x.y.z of distribution versions', () => {
    const range = parseVersionRange('>=2.36 <2.37');
    expect(versionSatisfies('2.36-9+deb12u4', range)).toBe(true);
    expect(versionSatisfies('2.37.1', range)).toBe(false);
    expect(versionSatisfies('7.8.6', parseVersionRange('^7.5'))).toBe(true);
    expect(versionSatisfies('not-a-version', parseVersionRange('*'))).toBe(false);
    expect(() => parseVersionRange('>=banana')).toThrow(
      expect.objectContaining({ code: SbomReason.rangeInvalid }),
    );
  });
  it('names what was added, removed and changed between two SBOMs', () => {
    const c = (name: string, version: string) => ({
      name,
      version,
      type: 'library',
      purl: `pkg:npm/${name}@${version}`,
    });
    const diff = diffSboms([c('a', '1.0.0'), c('b', '1.0.0')], [c('a', '1.1.0'), c('c', '3.0.0')]);
    expect(diff).toEqual({
      added: [c('c', '3.0.0')],
      removed: [c('b', '1.0.0')],
      changed: [{ name: 'a', from: '1.0.0', to: '1.1.0' }],
    });
  });
});
