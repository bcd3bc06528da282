/**
 * `maestro verify <bundle> [--artifact file]... [--key pub.pem]`: checks a receipt's Sigstore
 * bundle offline: signature, signer identity, and that each artifact is one of its subjects.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { ProvenanceError, verifyBundle, type VerifiedBundle } from '../../provenance/index.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { addTrustOptions, readInputFile, resolveTrust, type TrustFlags } from './provenance-options.ts';
import { repeatable } from '../repeatable.ts';

interface VerifyFlags extends TrustFlags {
  artifact: string[];
  format: string;
}

export function registerVerify(program: Command, context: CliContext): void {
  addTrustOptions(
    program
      .command('verify')
      .description('verify a receipt bundle (.sigstore.json) offline: signature, signer and artifact digests')
      .argument('<bundle>', 'a Sigstore bundle file')
      .option(
        '--artifact <file>',
        'a file that must be a subject of the receipt (repeatable)',
        repeatable,
        [],
      )
      .option('--format <format>', 'text or json', 'text'),
  ).action((bundlePath: string, flags: VerifyFlags) => runVerify(context, bundlePath, flags));
}

function runVerify(context: CliContext, bundlePath: string, flags: VerifyFlags): void {
  const { io } = context;
  let bundle: unknown;
  try {
    bundle = JSON.parse(readInputFile(io, bundlePath, 'bundle').toString('utf8'));
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new ProvenanceError('bundle_malformed', `${bundlePath} is not JSON`, { cause });
  }
  const trust = resolveTrust(io, flags)!;
  const artifacts = flags.artifact.map((name) => ({ name, data: readInputFile(io, name, 'artifact') }));
  let verified: VerifiedBundle;
  try {
    verified = verifyBundle(bundle, { ...trust, artifacts });
  } catch (error) {
    if (!(error instanceof ProvenanceError)) throw error;
    if (flags.format === 'json')
      io.stdout(`${JSON.stringify({ ok: false, reason: error.reason, message: error.message })}\n`);
    else io.stderr(`maestro: verification FAILED (${error.reason}): ${error.message}\n`);
    context.exitCode = ExitCode.inputErrors;
    return;
  }
  if (flags.format === 'json') {
    io.stdout(
      `${JSON.stringify({
        ok: true,
        digest: verified.payloadDigest,
        signer: verified.signer,
        trust: trust.source,
        subjects: verified.statement?.subject ?? [],
        artifacts: verified.artifacts,
        warnings: verified.warnings,
      })}\n`,
    );
    return;
  }
  const signer =
    verified.signer.kind === 'key'
      ? `key ${verified.signer.keyFingerprint}${verified.signer.development ? ' (development key)' : ''}`
      : `${verified.signer.subjectAlternativeName} issued by ${verified.signer.issuer}`;
  const lines = [
    `verified ${bundlePath}`,
    `  signer:    ${signer}`,
    `  statement: ${verified.payloadDigest}`,
  ];
  for (const subject of verified.statement?.subject ?? [])
    lines.push(`  subject:   ${subject.name} sha256:${subject.digest.sha256}`);
  for (const a of verified.artifacts) lines.push(`  artifact:  ${a.name} matches ${a.subject}`);
  for (const w of verified.warnings) lines.push(`warning: ${w}`);
  io.stdout(`${lines.join('\n')}\n`);
}
