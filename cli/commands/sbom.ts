/**
 * `maestro sbom`: CycloneDX SBOMs of releases and images (docs/supply-chain.md).
 *   generate <image> [--attach]   an image's SBOM from its files (Podman), signed onto its digest
 *   add --image <ref> | add <file> --release <v> --provenance <bundle>   verify, then store
 *   query --component <name> [--version <range>]   which releases and images contain it
 *   diff <a> <b>                  added, removed and changed components
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { findSbomMatches } from '../../api/index.ts';
import { UsageError } from '../../core/index.ts';
import {
  ImageError,
  ProvenanceError,
  SbomError,
  attachImageSbom,
  buildImageSbom,
  diffSboms,
  parseImageReference,
  parseSbom,
  readImageFiles,
  resolveSigner,
  signingConfigFromEnv,
} from '../../provenance/index.ts';
import { cliRegistryClient } from './registry-client.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { addTrustOptions, dataDirOf, readInputFile, type TrustFlags } from './provenance-options.ts';
import { openSbomStore, storedSbom, verifiedImageSbom, verifiedReleaseSbom } from './sbom-store.ts';
import { repeatable } from '../repeatable.ts';

const EXAMPLES = `
Examples:
  $ maestro sbom generate registry.example/team/app:1.4 --attach     # signed referrer of its digest
  $ maestro sbom add --image registry.example/team/app:1.4 --key images.pub.pem
  $ maestro sbom add release/summit-maestro-0.2.0.cdx.json --release 0.2.0 \\
      --provenance release/summit-maestro-0.2.0.provenance.sigstore.json --key release.pub.pem
  $ maestro sbom query --component semver --version '<7.5.2'
  $ maestro sbom diff release:0.1.0 release:0.2.0`;

interface GenerateFlags {
  attach?: boolean;
  output?: string;
  signingKey?: string;
  insecureRegistry: string[];
  dataDir?: string;
}

export function registerSbom(program: Command, context: CliContext): void {
  const sbom = program
    .command('sbom')
    .description('make, store, query and compare CycloneDX SBOMs of releases and images')
    .addHelpText('after', EXAMPLES);
  sbom
    .command('generate')
    .description(
      "write an image's CycloneDX SBOM (OS and npm packages); --attach signs it onto the image's digest",
    )
    .argument('<image>', 'an image Podman has (registry/repository:tag for --attach)')
    .option('-o, --output <file>', 'write it here (default: stdout)')
    .option('--attach', 'sign it and store it as an OCI 1.1 referrer of the digest in its registry')
    .option('--signing-key <private.pem>', 'ECDSA P-256 key (default $MAESTRO_SIGNING_KEY, keyless in CI)')
    .option(
      '--insecure-registry <host:port>',
      'reach this registry over plain HTTP (repeatable)',
      repeatable,
      [],
    )
    .option('--data-dir <dir>', 'Maestro data directory (for the development key)')
    .action((image: string, flags: GenerateFlags) => runGenerate(context, image, flags));
  addTrustOptions(
    sbom
      .command('add')
      .description(
        'verify an SBOM (signed image referrer, or a file the release provenance names) and store it',
      )
      .argument('[file]', 'a release SBOM (CycloneDX JSON), with --release and --provenance')
      .option('--image <ref>', "store the signed SBOM attached to this image's digest")
      .option('--release <version>', 'the release the file is the SBOM of')
      .option('--provenance <bundle>', "the release's signed provenance (.sigstore.json)")
      .option(
        '--insecure-registry <host:port>',
        'reach this registry over plain HTTP (repeatable)',
        repeatable,
        [],
      )
      .option('--format <format>', 'text or json', 'text'),
  ).action((file: string | undefined, flags: AddFlags) => runAdd(context, file, flags));
  sbom
    .command('query')
    .description('which stored releases and images contain a component (in a semver range)')
    .requiredOption('--component <name>', 'name, or group/name (@sigstore/sign)')
    .option('--version <range>', "a semver range: '^7.5', '>=2.0.0 <3'")
    .option('--format <format>', 'text or json', 'text')
    .option('--data-dir <dir>', 'the server’s data directory (default: MAESTRO_DATA_DIR)')
    .action((flags: QueryFlags) => runQuery(context, flags));
  sbom
    .command('diff')
    .description('components added, removed and changed from <a> to <b>')
    .argument('<a>', 'a CycloneDX JSON file, release:<version>, <image>@sha256:… or an SBOM digest')
    .argument('<b>', 'the same')
    .option('--format <format>', 'text or json', 'text')
    .option('--data-dir <dir>', 'the server’s data directory (default: MAESTRO_DATA_DIR)')
    .action((a: string, b: string, flags: { format: string; dataDir?: string }) =>
      runDiff(context, a, b, flags),
    );
}

async function runGenerate(context: CliContext, image: string, flags: GenerateFlags): Promise<void> {
  const { io } = context;
  const files = await readImageFiles(image);
  if (!flags.attach) {
    // Not pushed: Podman's image id (the config digest) stands for the manifest digest it lacks.
    const id = execFileSync('podman', ['image', 'inspect', '--format', '{{.Id}}', image], {
      encoding: 'utf8',
    });
    const text = await buildImageSbom({ name: image, digest: `sha256:${id.trim()}` }, files);
    return write(context, flags.output, text);
  }
  const ref = parseImageReference(image);
  const client = cliRegistryClient(io, flags.insecureRegistry);
  const { digest } = await client.resolve(ref);
  const text = await buildImageSbom({ name: `${ref.registry}/${ref.repository}`, digest }, files);
  const dataDir = dataDirOf(io, flags.dataDir);
  const signer = await resolveSigner(
    flags.signingKey
      ? { dataDir, keyPath: resolve(io.cwd, flags.signingKey) }
      : signingConfigFromEnv(io.env, dataDir),
  );
  const attached = await attachImageSbom(client, { ...ref, digest }, text, signer);
  if (flags.output) write(context, flags.output, text);
  io.stderr(`attached the SBOM to ${attached.image}\n  referrer: ${attached.referrer}\n`);
  if (signer.warning) io.stderr(`warning: ${signer.warning}\n`);
}

function write(context: CliContext, output: string | undefined, text: string): void {
  if (output) writeFileSync(resolve(context.io.cwd, output), text);
  else context.io.stdout(text);
}

interface AddFlags extends TrustFlags {
  image?: string;
  release?: string;
  provenance?: string;
  insecureRegistry: string[];
  format: string;
}

async function runAdd(context: CliContext, file: string | undefined, flags: AddFlags): Promise<void> {
  const { io } = context;
  if (Boolean(flags.image) === Boolean(file))
    throw new UsageError(
      'give either --image <ref> or a release SBOM file (with --release and --provenance)',
    );
  if (file && (!flags.release || !flags.provenance))
    throw new UsageError(
      'a release SBOM needs --release <version> and --provenance <bundle>: only a signed release is stored',
    );
  let verified;
  try {
    verified = flags.image
      ? await verifiedImageSbom(io, flags.image, flags)
      : verifiedReleaseSbom(io, file!, flags.release!, flags.provenance!, flags);
  } catch (error) {
    if (!(error instanceof ImageError || error instanceof ProvenanceError || error instanceof SbomError))
      throw error;
    // Nothing is stored: the store is not even opened before the SBOM verified.
    if (flags.format === 'json')
      io.stdout(`${JSON.stringify({ ok: false, reason: error.reason, message: error.message })}\n`);
    else io.stderr(`maestro: SBOM verification FAILED (${error.reason}): ${error.message}\n`);
    context.exitCode = ExitCode.inputErrors;
    return;
  }
  const store = await openSbomStore(io, flags.dataDir);
  try {
    const { created } = await store.putSbom(verified.stored, verified.parsed.components);
    const { document: _document, ...summary } = verified.stored;
    if (flags.format === 'json')
      io.stdout(
        `${JSON.stringify({ ok: true, created, ...summary, components: verified.parsed.components.length })}\n`,
      );
    else
      io.stdout(
        `${created ? 'stored' : 'already stored'} the SBOM of ${summary.subject}${summary.version ? ` ${summary.version}` : ''} (${summary.subjectDigest})\n` +
          `  ${verified.parsed.components.length} components, verified against ${verified.signer}\n`,
      );
  } finally {
    await store.close();
  }
}

interface QueryFlags {
  component: string;
  version?: string;
  format: string;
  dataDir?: string;
}

async function runQuery(context: CliContext, flags: QueryFlags): Promise<void> {
  const { io } = context;
  const store = await openSbomStore(io, flags.dataDir);
  try {
    const items = await findSbomMatches(store, flags.component, flags.version);
    if (flags.format === 'json') return io.stdout(`${JSON.stringify({ items }, null, 2)}\n`);
    if (items.length === 0) return io.stdout(`no stored release or image contains ${flags.component}\n`);
    for (const m of items) {
      const what = m.kind === 'release' ? `release ${m.version}` : `image ${m.subject}@${m.subjectDigest}`;
      io.stdout(
        `${what}\t${m.component.group ? `${m.component.group}/` : ''}${m.component.name} ${m.component.version}\n`,
      );
    }
  } finally {
    await store.close();
  }
}

async function runDiff(
  context: CliContext,
  a: string,
  b: string,
  flags: { format: string; dataDir?: string },
) {
  const { io } = context;
  const isFile = (x: string) => existsSync(resolve(io.cwd, x));
  const store = isFile(a) && isFile(b) ? undefined : await openSbomStore(io, flags.dataDir);
  try {
    const load = async (x: string) =>
      isFile(x) ? parseSbom(readInputFile(io, x, 'SBOM'), x) : storedSbom(store!, x);
    const diff = diffSboms((await load(a)).components, (await load(b)).components);
    if (flags.format === 'json') return io.stdout(`${JSON.stringify(diff, null, 2)}\n`);
    const name = (c: { name: string; group?: string }) => (c.group ? `${c.group}/${c.name}` : c.name);
    for (const c of diff.added) io.stdout(`+ ${name(c)} ${c.version}\n`);
    for (const c of diff.removed) io.stdout(`- ${name(c)} ${c.version}\n`);
    for (const c of diff.changed) io.stdout(`~ ${c.name} ${c.from} -> ${c.to}\n`);
    io.stdout(`${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed\n`);
  } finally {
    await store?.close();
  }
}
