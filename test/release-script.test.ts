/**
 * scripts/release.ts, run as release.yml runs it (`node scripts/release.ts --out <dir>`), then its
 * output checked as a user would: `maestro verify` on the signed provenance with the files as
 * artifacts, the SBOM's dependencies against what npm installed, SHA256SUMS against the files.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { readTgzStrict, RELEASE_BUILD_TYPE } from '../provenance/index.ts';
import { captureIo } from './cli-helpers.ts';
import { freshKeySignerPem } from './helpers/provenance-keys.ts';
import { withPackLock } from './helpers/pack-tarball.ts';

const repo = join(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
let work: string;
let out: string;
let publicKey: string;
const file = (name: string) => join(out, name);
const pkg = () => file(`summit-maestro-${version}.tgz`);
const action = () => file(`summit-maestro-action-${version}.tgz`);
const sbom = () => file(`summit-maestro-${version}.cdx.json`);
const provenance = () => file(`summit-maestro-${version}.provenance.sigstore.json`);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'maestro-release-'));
  out = join(work, 'release');
  const keys = join(work, 'keys');
  mkdirSync(keys, { mode: 0o700 });
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(keys, 'release.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  publicKey = join(keys, 'release.pub.pem');
  writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  // Not keyless here: no OIDC token outside Actions; the operator key signs.
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    MAESTRO_SIGNING_KEY: join(keys, 'release.pem'),
    MAESTRO_DATA_DIR: join(work, 'data'),
  };
  for (const name of ['GITHUB_ACTIONS', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'MAESTRO_SIGNING']) delete env[name];
  // npm pack's prepack rebuilds dist/: one pack of this repository at a time.
  await withPackLock(() =>
    execFileSync(process.execPath, ['scripts/release.ts', '--out', out], { cwd: repo, env, stdio: 'pipe' }),
  );
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function verify(args: string[]) {
  const io = captureIo(work, { PATH: process.env.PATH, HOME: work });
  const code = await runCli(['verify', provenance(), ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('scripts/release.ts', () => {
  it('writes the package, the Action bundle, the SBOM, the signed provenance and SHA256SUMS', () => {
    const sums = readFileSync(file('SHA256SUMS'), 'utf8').trim().split('\n');
    const names = [pkg(), action(), sbom(), provenance()];
    expect(sums).toEqual(names.map((p) => `${sha256(p)}  ${p.slice(out.length + 1)}`));
  });

  it('signs SLSA v1 provenance that maestro verify accepts with the release key, each file a subject', async () => {
    const ok = await verify([
      '--key',
      publicKey,
      '--artifact',
      pkg(),
      '--artifact',
      action(),
      '--artifact',
      sbom(),
      '--format',
      'json',
    ]);
    expect(ok.code, ok.err).toBe(0);
    const report = JSON.parse(ok.out) as {
      subjects: { name: string; digest: { sha256: string } }[];
      artifacts: { name: string }[];
    };
    expect(report.artifacts).toHaveLength(3);
    const subject = report.subjects.find((s) => s.name === `summit-maestro-${version}.tgz`);
    expect(subject?.digest.sha256).toBe(sha256(pkg()));
    const bundle = JSON.parse(readFileSync(provenance(), 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      predicateType: string;
      predicate: {
        buildDefinition: { buildType: string; resolvedDependencies: { digest: Record<string, string> }[] };
      };
    };
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.predicate.buildDefinition.buildType).toBe(RELEASE_BUILD_TYPE);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    expect(statement.predicate.buildDefinition.resolvedDependencies[0]?.digest['gitCommit']).toBe(head);
  });

  it('is rejected with another key, and for a tarball that is not the one attested', async () => {
    const other = join(work, 'other.pub.pem');
    writeFileSync(other, freshKeySignerPem());
    expect((await verify(['--key', other])).code).toBe(1);
    const changed = join(work, `summit-maestro-${version}.tgz`);
    copyFileSync(pkg(), changed);
    writeFileSync(changed, Buffer.concat([readFileSync(changed), Buffer.from([0])]));
    const tampered = await verify(['--key', publicKey, '--artifact', changed]);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toContain('FAILED');
  });

  it("lists the package's production dependencies with their installed versions, and no dev ones", () => {
    const bom = JSON.parse(readFileSync(sbom(), 'utf8')) as {
      bomFormat: string;
      metadata: { component: { name: string; version: string } };
      components: Component[];
    };
    interface Component {
      name: string;
      group?: string;
      version: string;
      components?: Component[];
    }
    const all: Component[] = [];
    const walk = (cs: Component[] = []) => cs.forEach((c) => (all.push(c), walk(c.components)));
    walk(bom.components);
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.metadata.component).toMatchObject({ name: 'summit-maestro', version });
    const installed = (name: string) =>
      (
        JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    expect(all.find((c) => c.name === 'commander' && !c.group)?.version).toBe(installed('commander'));
    expect(all.some((c) => c.name === 'vitest')).toBe(false);
  });

  it('packs the Action as action.yml and the committed bundle', async () => {
    const files = await readTgzStrict(readFileSync(action()));
    expect([...files.keys()].sort()).toEqual([
      'action/README.md',
      'action/action.yml',
      'action/dist/index.js',
    ]);
    expect(files.get('action/dist/index.js')?.equals(readFileSync(join(repo, 'action/dist/index.js')))).toBe(
      true,
    );
  });
});
