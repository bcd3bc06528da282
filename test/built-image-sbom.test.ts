/**
 * SBOMs of images that runs build, stored by Maestro on its own (docs/supply-chain.md, "SBOMs of
 * images runs build"): a `maestro run` step with host access builds an image with Podman, pushes
 * it to the test OCI registry and reports it with an `image` message (by digest). Nothing else is
 * asked of the task: the engine makes the image's CycloneDX SBOM from its files, signs it onto the
 * digest as an OCI 1.1 referrer with the receipts' key, and stores it, so `maestro sbom query`
 * answers that the image contains semver and libc6, and the referrer verifies with that key. A
 * step that reports an image and then fails gets no SBOM stored, and a report by tag is refused.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { createRegistryClient, fetchImageSbom, parseImageReference } from '../provenance/index.ts';
import { runCaptured, shellIo, writeWorkflow } from './cli-helpers.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';
import { TEST_IMAGE } from './setup/podman-service.ts';

let dir: string;
let registry: OciRegistry;
let publicKeyPem: string;
const root = join(import.meta.dirname, '..');

/** A host step building `repository` (libc6 in dpkg, semver in node_modules), pushing it, reporting it. */
function buildStep(id: string, repository: string, after = ''): string {
  const image = `${registry.host}/${repository}`;
  return `    - id: ${id}
      hostAccess: true
      run: |
        set -e
        ctx=$(mktemp -d)
        mkdir -p $ctx/node_modules/semver
        printf 'Package: libc6\\nStatus: install ok installed\\nArchitecture: amd64\\nVersion: 2.36-9+deb12u4\\n' > $ctx/status
        echo '{"name":"semver","version":"7.5.1"}' > $ctx/node_modules/semver/package.json
        echo 'BUILD_ID=${randomUUID()}' > $ctx/os-release
        printf 'FROM ${TEST_IMAGE}\\nCOPY status /var/lib/dpkg/status\\nCOPY os-release /etc/os-release\\nCOPY node_modules /opt/app/node_modules\\n' > $ctx/Containerfile
        podman build -q -t ${image}:1 $ctx
        podman push -q --tls-verify=false --digestfile $ctx/digest ${image}:1
        printf '{"v":1,"type":"image","reference":"${image}@%s"}\\n' "$(cat $ctx/digest)" >> "$MAESTRO_MESSAGES"
        printf '{"v":1,"type":"image","reference":"${image}:1"}\\n' >> "$MAESTRO_MESSAGES"
        cat $ctx/digest > ${join(dir, `${id}.digest`)}
${after}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-built-image-'));
  registry = await startOciRegistry();
  const keys = freshKeyPairPem();
  publicKeyPem = keys.publicKeyPem;
  writeFileSync(join(dir, 'receipts.pem'), keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'receipts.pub.pem'), keys.publicKeyPem);
  writeFileSync(join(dir, 'runners.yaml'), 'local:\n  hostAccess: granted\n');
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ MAESTRO_DATA_DIR: join(dir, 'data'), MAESTRO_SIGNING_KEY: join(dir, 'receipts.pem') });

function logsOf(taskId: string): string[] {
  const store = openStore({ dataDir: join(dir, 'data') });
  try {
    const [record] = store.listRuns();
    return store.listLogs(record!.id, taskId).map((l) => l.text);
  } finally {
    store.close();
  }
}

describe('SBOMs of images a run builds', () => {
  it('the engine makes, signs, attaches and stores the SBOM of an image a step built and reported', async () => {
    const file = writeWorkflow(
      dir,
      'builds',
      buildStep('build', 'built/app') + buildStep('broken', 'built/broken', '        exit 3\n'),
    );
    const io = shellIo(root, env());
    const code = await runCli(['run', file, '--runners', join(dir, 'runners.yaml')], io);
    expect(code, io.err()).toBe(1); // `broken` fails on purpose
    const digest = readFileSync(join(dir, 'build.digest'), 'utf8').trim();
    const logs = logsOf('build');
    expect(logs.join('\n')).toMatch(
      new RegExp(`sbom stored for ${registry.host}/built/app@${digest}: \\d+ components`),
    );
    // The tag form is refused: a tag can move before the engine reads it.
    expect(logs.join('\n')).toMatch(/\(image\): "reference" must name the pushed image by digest/);

    const query = await runCaptured(['sbom', 'query', '--component', 'semver', '--format', 'json'], dir, {
      ...env(),
      PATH: process.env.PATH ?? '',
    });
    expect(query.code, query.stderr).toBe(0);
    const items = (
      JSON.parse(query.stdout) as { items: { kind: string; subject: string; subjectDigest: string }[] }
    ).items;
    expect(items).toContainEqual(
      expect.objectContaining({
        kind: 'image',
        subject: `${registry.host}/built/app`,
        subjectDigest: digest,
      }),
    );
    const libc = await runCaptured(
      ['sbom', 'query', '--component', 'libc6', '--version', '>=2.36 <2.37'],
      dir,
      {
        ...env(),
        PATH: process.env.PATH ?? '',
      },
    );
    expect(libc.stdout).toContain(`${registry.host}/built/app`);

    // The referrer is signed with the receipts' key, about that digest (a reader trusts it).
    const attached = await fetchImageSbom(
      createRegistryClient(),
      parseImageReference(`${registry.host}/built/app@${digest}`),
      { publicKeys: [publicKeyPem], identities: [] },
    );
    expect(attached.digest).toBe(digest);
    expect(attached.sbom.components.map((c) => c.name)).toEqual(expect.arrayContaining(['semver', 'libc6']));

    // The step that failed after reporting its image: no SBOM stored for it.
    expect(items.some((i) => i.subject.endsWith('/built/broken'))).toBe(false);
    expect(logsOf('broken').join('\n')).not.toMatch(/sbom stored/);
  }, 300_000);
});
