/**
 * Builds a release of Summit Maestro and signs where it came from. `.github/workflows/release.yml`
 * calls it; a developer can run it the same way (test/release-script.test.ts does):
 *
 *   node scripts/release.ts [--out release] [--image registry/repository [--build-arg K=V]...
 *                            [--build-volume src:dst[:O]]... [--insecure-registry host:port]...]
 *
 * Writes into --out (default release/, gitignored; never dist/, which `npm pack`'s prepack
 * deletes and rebuilds):
 *   summit-maestro-<v>.tgz                  the npm package (npm pack)
 *   summit-maestro-action-<v>.tgz           the GitHub Action: action.yml + action/dist, reproducible
 *   summit-maestro-<v>.cdx.json             CycloneDX SBOM of the package's production dependencies
 *   summit-maestro-<v>.provenance.sigstore.json
 *                                           SLSA v1 build provenance over the files above, signed by
 *                                           provenance/'s signer: keyless in GitHub Actions with
 *                                           `id-token: write`, else MAESTRO_SIGNING_KEY, else the
 *                                           development key (stated)
 *   summit-maestro-<v>.image.manifest.json  with --image: the image's manifest (its sha256 is the
 *   summit-maestro-<v>.image.cdx.json       image digest) and its SBOM (scripts/release-image.ts);
 *                                           the image is pushed, signed, and its SBOM and this
 *                                           provenance attached to its digest as OCI referrers
 *   SHA256SUMS
 * The script ends by checking its own work as a user would: `maestro verify` on the provenance
 * with every file, and `maestro image verify` on the image (the release key, or in Actions the
 * workflow's keyless identity). Check it yourself the same way:
 *   maestro verify <provenance> --artifact <file> (--key pub.pem | --certificate-identity ...)
 *   maestro image verify <registry/repository>@sha256:… (--key pub.pem | --certificate-identity ...)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  buildReleaseStatement,
  resolveSigner,
  SLSA_PROVENANCE_V1,
  signStatement,
  signingConfigFromEnv,
  withEmptyDsseKeyIds,
  writeTgz,
} from '../provenance/index.ts';
import { resolveDataDir } from '../runtime/index.ts';
import { buildReleaseImage, publishImageAttestations, type ImageOptions } from './release-image.ts';

const root = resolve(import.meta.dirname, '..');
const env = process.env;

interface ReleaseFile {
  name: string;
  path: string;
  sha256: string;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function run(command: string, args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync(command, args, {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'inherit'],
    maxBuffer: 64 << 20,
  });
}

/** `npm pack` (its prepack builds dist/ afresh): the package exactly as npm would publish it. */
function packPackage(out: string): string {
  const before = new Set(readdirSync(out));
  run('npm', ['pack', '--pack-destination', out, '--silent']);
  const made = readdirSync(out).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`npm pack wrote ${made.length} tarballs into ${out}`);
  return join(out, made[0]!);
}

/** action.yml and the committed bundle, under `action/`, byte-for-byte reproducible (mtime 0, uid 0). */
function packAction(out: string, version: string): string {
  const files = ['action/action.yml', 'action/README.md', 'action/dist/index.js'];
  const file = join(out, `summit-maestro-action-${version}.tgz`);
  writeFileSync(file, writeTgz(files.map((path) => ({ path, data: readFileSync(join(root, path)) }))));
  return file;
}

/**
 * CycloneDX JSON of the production dependency tree, by CycloneDX's own npm tool (pinned as a
 * devDependency, so a release downloads nothing at run time); it reads `npm ls`, i.e. what
 * package-lock.json installed. Reproducible: no timestamp or random serial number.
 */
function writeSbom(out: string, version: string): string {
  // Its package.json is not in its `exports`, so it is found where npm installed it.
  const pkg = join(root, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'package.json');
  const bin = (JSON.parse(readFileSync(pkg, 'utf8')) as { bin: Record<string, string> }).bin[
    'cyclonedx-npm'
  ]!;
  const file = join(out, `summit-maestro-${version}.cdx.json`);
  run(process.execPath, [
    join(dirname(pkg), bin),
    '--omit',
    'dev',
    '--output-format',
    'JSON',
    '--output-reproducible',
    '--output-file',
    file,
    join(root, 'package.json'),
  ]);
  return file;
}

/** Where the build ran: the GitHub workflow (its ref) in Actions, else this script on a developer machine. */
function builderId(): string {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_WORKFLOW_REF)
    return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_WORKFLOW_REF}`;
  return 'https://summit-maestro.dev/builders/release-script/v1';
}

function repositoryUrl(): string {
  if (env.GITHUB_REPOSITORY)
    return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}`;
  try {
    return run('git', ['remote', 'get-url', 'origin'], { quiet: true }).trim();
  } catch {
    return `file://${root}`;
  }
}

async function signProvenance(
  out: string,
  version: string,
  subjects: { name: string; sha256: string }[],
  startedOn: Date,
) {
  const statement = buildReleaseStatement({
    subjects,
    version,
    repository: repositoryUrl(),
    commit: run('git', ['rev-parse', 'HEAD']).trim(),
    ...(env.GITHUB_REF ? { ref: env.GITHUB_REF } : {}),
    dirty: run('git', ['status', '--porcelain', '--untracked-files=no']).trim() !== '',
    lockfileSha256: sha256(join(root, 'package-lock.json')),
    builderId: builderId(),
    invocationId: env.GITHUB_RUN_ID
      ? `${repositoryUrl()}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}`
      : randomUUID(),
    startedOn,
    finishedOn: new Date(),
    tools: { node: process.version, npm: run('npm', ['--version']).trim() },
  });
  const signer = await resolveSigner(signingConfigFromEnv(env, resolveDataDir(undefined, env, root)));
  const { bundle } = await signStatement(statement, signer);
  const file = join(out, `summit-maestro-${version}.provenance.sigstore.json`);
  const written = withEmptyDsseKeyIds(bundle);
  writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
  if (signer.warning) console.warn(`release: provenance ${signer.warning}`);
  return { file, bundle: written, signer };
}

/** `maestro verify` and `maestro image verify`, as a user runs them, against the signer's own trust. */
function verifyRelease(
  provenance: string,
  files: string[],
  signer: { kind: string; publicKeyPem?: string },
  image?: string,
): void {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-release-verify-'));
  try {
    let trust: string[];
    if (signer.kind === 'keyless')
      trust = [
        '--certificate-identity',
        builderId(),
        '--certificate-oidc-issuer',
        'https://token.actions.githubusercontent.com',
      ];
    else {
      writeFileSync(join(dir, 'release.pub.pem'), signer.publicKeyPem!);
      trust = ['--key', join(dir, 'release.pub.pem')];
    }
    const maestro = (args: string[]) =>
      execFileSync(process.execPath, [join(root, 'bin', 'maestro.ts'), ...args], {
        cwd: root,
        env,
        stdio: 'inherit',
      });
    maestro(['verify', provenance, ...files.flatMap((f) => ['--artifact', f]), ...trust]);
    if (image) maestro(['image', 'verify', image, ...trust, ...insecureFlags()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function argValues(name: string): string[] {
  const argv = process.argv.slice(2);
  return argv.flatMap((a, i) => (a === name && argv[i + 1] ? [argv[i + 1]!] : []));
}

const insecureFlags = () => argValues('--insecure-registry').flatMap((r) => ['--insecure-registry', r]);

function imageOptions(): ImageOptions | undefined {
  const [repository] = argValues('--image');
  if (!repository) return undefined;
  return {
    repository,
    buildArgs: argValues('--build-arg'),
    buildVolumes: argValues('--build-volume'),
    insecureRegistries: argValues('--insecure-registry'),
    ...(env.MAESTRO_REGISTRY_PASSWORD
      ? {
          credentials: {
            username: env.MAESTRO_REGISTRY_USERNAME ?? '',
            password: env.MAESTRO_REGISTRY_PASSWORD,
          },
        }
      : {}),
  };
}

async function main(): Promise<void> {
  const [outArg] = argValues('--out');
  const out = resolve(outArg ?? join(root, 'release'));
  const startedOn = new Date();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const pkg = packPackage(out);
  const options = imageOptions();
  const image = options ? await buildReleaseImage(root, out, version, pkg, options) : undefined;
  if (!image) console.warn('release: no --image given: the release has no container image');
  const paths = [pkg, packAction(out, version), writeSbom(out, version), ...(image?.files ?? [])];
  const files: ReleaseFile[] = paths.map((path) => ({ name: basename(path), path, sha256: sha256(path) }));
  // The image by its repository and digest too: what a verifier of the image looks up.
  const subjects = [
    ...files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    ...(image ? [{ name: image.pinned.split('@')[0]!, sha256: image.digest.slice(7) }] : []),
  ];
  const provenance = await signProvenance(out, version, subjects, startedOn);
  if (image) await publishImageAttestations(image, provenance.signer, provenance.bundle, SLSA_PROVENANCE_V1);
  const sums = [...files, { name: basename(provenance.file), sha256: sha256(provenance.file) }];
  writeFileSync(join(out, 'SHA256SUMS'), sums.map((f) => `${f.sha256}  ${f.name}\n`).join(''));
  verifyRelease(provenance.file, paths, provenance.signer, image?.pinned);
  for (const f of sums) console.log(`${f.sha256}  ${join(out, f.name)}`);
  if (image) console.log(`image: ${image.pinned}`);
}

await main();
