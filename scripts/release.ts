/**
 * Builds a release of Summit Maestro and signs where it came from. `.github/workflows/release.yml`
 * calls it; a developer can run it the same way (test/release-script.test.ts does):
 *
 *   node scripts/release.ts [--out release]
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
 *   SHA256SUMS
 * Check it: maestro verify <provenance> --artifact <file> (--key pub.pem | --certificate-identity ...).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  buildReleaseStatement,
  resolveSigner,
  signStatement,
  signingConfigFromEnv,
  withEmptyDsseKeyIds,
  writeTgz,
} from '../provenance/index.ts';
import { resolveDataDir } from '../runtime/index.ts';

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

/**
 * The container image and its signature (the supply-chain issue) are built and added to the
 * release here: return their files (e.g. an OCI archive) so they become subjects of the same
 * provenance and lines of SHA256SUMS.
 */
function releaseImage(_out: string, _version: string): string[] {
  return [];
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
  files: ReleaseFile[],
  startedOn: Date,
): Promise<string> {
  const statement = buildReleaseStatement({
    subjects: files.map((f) => ({ name: f.name, sha256: f.sha256 })),
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
  writeFileSync(file, `${JSON.stringify(withEmptyDsseKeyIds(bundle), null, 2)}\n`);
  if (signer.warning) console.warn(`release: provenance ${signer.warning}`);
  return file;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--out');
  const out = resolve(at >= 0 && argv[at + 1] ? argv[at + 1]! : join(root, 'release'));
  const startedOn = new Date();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const paths = [
    packPackage(out),
    packAction(out, version),
    writeSbom(out, version),
    ...releaseImage(out, version),
  ];
  const files = paths.map((path) => ({ name: basename(path), path, sha256: sha256(path) }));
  const provenance = await signProvenance(out, version, files, startedOn);
  const sums = [...files, { name: basename(provenance), sha256: sha256(provenance) }];
  writeFileSync(join(out, 'SHA256SUMS'), sums.map((f) => `${f.sha256}  ${f.name}\n`).join(''));
  for (const f of sums) console.log(`${f.sha256}  ${join(out, f.name)}`);
}

await main();
