/**
 * `maestro image sign <ref>` and `maestro image verify <ref> [--key|--certificate-identity …]`:
 * image signatures as OCI 1.1 referrers holding Sigstore bundles, the layout cosign writes and
 * reads with `--new-bundle-format` (docs/supply-chain.md). Signing uses the receipts' signer
 * (MAESTRO_SIGNING_KEY, keyless in CI, else the development key); loopback registries and those in
 * --insecure-registry are reached over plain HTTP.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  ImageError,
  ProvenanceError,
  parseImageReference,
  resolveSigner,
  signImage,
  signingConfigFromEnv,
  verifyImage,
} from '../../provenance/index.ts';
import { cliRegistryClient } from './registry-client.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { addTrustOptions, dataDirOf, resolveTrust, type TrustFlags } from './provenance-options.ts';
import { repeatable } from '../repeatable.ts';

interface ImageFlags extends TrustFlags {
  insecureRegistry: string[];
  signingKey?: string;
  format: string;
}

export function registerImage(program: Command, context: CliContext): void {
  const image = program.command('image').description('sign and verify container images in an OCI registry');
  image
    .command('sign')
    .description("sign an image's manifest digest and store the Sigstore bundle as its OCI 1.1 referrer")
    .argument('<ref>', 'registry/repository:tag or registry/repository@sha256:…')
    .option('--signing-key <private.pem>', 'ECDSA P-256 key (default $MAESTRO_SIGNING_KEY, keyless in CI)')
    .option(
      '--insecure-registry <host:port>',
      'reach this registry over plain HTTP (repeatable)',
      repeatable,
      [],
    )
    .option('--data-dir <dir>', 'Maestro data directory (for the development key)')
    .option('--format <format>', 'text or json', 'text')
    .action((ref: string, flags: ImageFlags) => runSign(context, ref, flags));
  addTrustOptions(
    image
      .command('verify')
      .description('verify that a trusted signer signed the image (the digest its tag names now)')
      .argument('<ref>', 'registry/repository:tag or registry/repository@sha256:…')
      .option(
        '--insecure-registry <host:port>',
        'reach this registry over plain HTTP (repeatable)',
        repeatable,
        [],
      )
      .option('--format <format>', 'text or json', 'text'),
  ).action((ref: string, flags: ImageFlags) => runVerify(context, ref, flags));
}

async function runSign(context: CliContext, text: string, flags: ImageFlags): Promise<void> {
  const { io } = context;
  const dataDir = dataDirOf(io, flags.dataDir);
  const signer = await resolveSigner(
    flags.signingKey
      ? { dataDir, keyPath: resolve(io.cwd, flags.signingKey) }
      : signingConfigFromEnv(io.env, dataDir),
  );
  const client = cliRegistryClient(io, flags.insecureRegistry);
  const signed = await signImage(client, parseImageReference(text), signer);
  if (flags.format === 'json') io.stdout(`${JSON.stringify({ ok: true, ...signed, signer: signer.kind })}\n`);
  else {
    io.stdout(`signed ${signed.image}\n  referrer: ${signed.referrer}\n`);
    if (signer.warning) io.stderr(`warning: ${signer.warning}\n`);
  }
}

async function runVerify(context: CliContext, text: string, flags: ImageFlags): Promise<void> {
  const { io } = context;
  const trust = resolveTrust(io, flags)!;
  const client = cliRegistryClient(io, flags.insecureRegistry);
  try {
    const verified = await verifyImage(client, parseImageReference(text), {
      publicKeys: trust.publicKey ? [trust.publicKey] : [],
      identities: trust.trustedIdentity ? [trust.trustedIdentity] : [],
    });
    const signer =
      verified.signer.kind === 'key'
        ? `key ${verified.signer.keyFingerprint}`
        : `${verified.signer.subjectAlternativeName} issued by ${verified.signer.issuer}`;
    if (flags.format === 'json')
      io.stdout(
        `${JSON.stringify({ ok: true, image: verified.image, digest: verified.digest, signer: verified.signer, referrer: verified.referrer })}\n`,
      );
    else io.stdout(`verified ${verified.image}\n  signer:   ${signer}\n  referrer: ${verified.referrer}\n`);
  } catch (error) {
    if (!(error instanceof ImageError || error instanceof ProvenanceError)) throw error;
    if (flags.format === 'json')
      io.stdout(`${JSON.stringify({ ok: false, reason: error.reason, message: error.message })}\n`);
    else io.stderr(`maestro: image verification FAILED (${error.reason}): ${error.message}\n`);
    context.exitCode = ExitCode.inputErrors;
  }
}
