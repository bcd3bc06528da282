/**
 * `maestro disclose <run> -o bundle.tgz`: packs a run's evidence under a signed index.
 * `maestro disclose verify bundle.tgz`: verifies such an archive offline, in memory.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock, UsageError } from '../../core/index.ts';
import { gatherDisclosure } from '../../engine/index.ts';
import {
  ProvenanceError,
  bundledTrustedRoot,
  packDisclosure,
  resolveSigner,
  signingConfigFromEnv,
  verifyDisclosure,
  type DisclosureReport,
} from '../../provenance/index.ts';
import type { CliContext } from '../context.ts';
import { openCliStore } from '../open-engine.ts';
import { ExitCode } from '../exit-codes.ts';
import {
  addTrustOptions,
  dataDirOf,
  readInputFile,
  resolveTrust,
  type TrustFlags,
} from './provenance-options.ts';

type VerifyFlags = TrustFlags & { format: string; allowUnpinned?: boolean; approvalKey?: string };

interface DiscloseFlags {
  output?: string;
  dataDir?: string;
  signingKey?: string;
  manifest?: string;
  decisions?: string;
  approval?: string;
  trustedRoot?: string;
}

export function registerDisclose(program: Command, context: CliContext): void {
  const disclose = program
    .command('disclose')
    .description("pack a run's artifacts, receipts, plan, policy decisions and approval under a signed index")
    .argument('<run>', 'run id')
    .option('-o, --output <file>', 'the archive to write (.tgz)')
    .option(
      '--data-dir <dir>',
      'Maestro data directory (default $MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro)',
    )
    .option('--signing-key <pem>', 'ECDSA P-256 private key (default $MAESTRO_SIGNING_KEY, else the dev key)')
    .option('--manifest <file>', 'the workflow manifest to include')
    .option(
      '--decisions <file>',
      "exported policy decision log (JSON Lines; default: this run's entries of the data dir's store (maestro.db))",
    )
    .option('--approval <file>', "the run's approval attestation (Sigstore bundle)")
    .option('--trusted-root <file>', 'Sigstore trusted_root.json to include for keyless receipts')
    .action((runId: string, flags: DiscloseFlags) => runDisclose(context, runId, flags));
  addTrustOptions(
    disclose
      .command('verify')
      .description('verify a disclosure archive offline; exit 1 with a named reason on any problem')
      .argument('<archive>', 'a .tgz made by `maestro disclose`')
      .option('--format <format>', 'text or json', 'text')
      .option(
        '--approval-key <public.pem>',
        "the App's approval-attestation public key, when approvals are not signed by the receipts' signer",
      )
      .option(
        '--allow-unpinned',
        "with no --key or certificate identity, accept the archive's own key (proves consistency, not origin)",
      ),
    // `disclose` itself has --trusted-root and --data-dir, and commander hands a flag given after
    // `verify` to the parent when both declare it: merge, so `disclose verify --trusted-root` counts.
  ).action((archive: string, _flags: VerifyFlags, command: Command) =>
    runDiscloseVerify(context, archive, command.optsWithGlobals<VerifyFlags>()),
  );
}

async function runDisclose(context: CliContext, runId: string, flags: DiscloseFlags): Promise<void> {
  const { io } = context;
  if (!flags.output) throw new UsageError('disclose needs -o <bundle.tgz>');
  const dataDir = dataDirOf(io, flags.dataDir);
  const config = signingConfigFromEnv(io.env, dataDir);
  const signer = await resolveSigner(
    flags.signingKey ? { dataDir, keyPath: resolve(io.cwd, flags.signingKey) } : config,
  );
  const readJson = (path: string | undefined, what: string) =>
    path === undefined ? undefined : (JSON.parse(readInputFile(io, path, what).toString('utf8')) as unknown);
  // The store every command reads (MAESTRO_DATABASE_URL, MAESTRO_DURABILITY), not SQLite regardless.
  const store = await openCliStore({ dataDir }, io);
  let archive: Buffer;
  try {
    const input = await gatherDisclosure(store, runId, {
      dataDir,
      databaseUrl: io.env.MAESTRO_DATABASE_URL,
      now: systemClock.now(),
      ...(flags.manifest ? { manifest: readInputFile(io, flags.manifest, 'manifest').toString('utf8') } : {}),
      ...(flags.decisions ? { decisions: readInputFile(io, flags.decisions, 'decision log') } : {}),
      ...(flags.approval ? { approval: readJson(flags.approval, 'approval attestation') } : {}),
      // Keyless receipts travel with the trust root they verify against (offline verification).
      ...(flags.trustedRoot
        ? { trustedRoot: readJson(flags.trustedRoot, 'trusted root') }
        : signer.kind === 'keyless'
          ? { trustedRoot: bundledTrustedRoot() }
          : {}),
    });
    archive = await packDisclosure(input, signer);
    io.stdout(
      `wrote ${flags.output}: run ${runId}, ${input.attemptReceipts.length + (input.runReceipt ? 1 : 0)} receipt(s), ` +
        `${input.artifacts.length} artifact(s), signed by ${signer.keyFingerprint ?? 'keyless identity'}\n`,
    );
  } finally {
    await store.close();
  }
  writeFileSync(resolve(io.cwd, flags.output), archive);
  if (signer.warning) io.stdout(`warning: index and receipts ${signer.warning}\n`);
}

async function runDiscloseVerify(
  context: CliContext,
  archivePath: string,
  flags: VerifyFlags,
): Promise<void> {
  const { io } = context;
  const bytes = readInputFile(io, archivePath, 'archive');
  const trust = resolveTrust(io, flags, { optional: true });
  let report: DisclosureReport;
  try {
    report = await verifyDisclosure(bytes, {
      ...trust,
      allowUnpinned: flags.allowUnpinned === true,
      ...(flags.approvalKey
        ? { approvalPublicKey: readInputFile(io, flags.approvalKey, 'approval public key').toString('utf8') }
        : {}),
    });
  } catch (error) {
    if (!(error instanceof ProvenanceError)) throw error;
    if (flags.format === 'json')
      io.stdout(`${JSON.stringify({ ok: false, reason: error.reason, message: error.message })}\n`);
    else io.stderr(`maestro: disclosure REJECTED (${error.reason}): ${error.message}\n`);
    context.exitCode = ExitCode.inputErrors;
    return;
  }
  if (flags.format === 'json') {
    io.stdout(`${JSON.stringify({ ok: true, ...report })}\n`);
    return;
  }
  const signer =
    report.signer.kind === 'key'
      ? `key ${report.signer.keyFingerprint}${report.signer.development ? ' (development key)' : ''}`
      : `${report.signer.subjectAlternativeName} issued by ${report.signer.issuer}`;
  const root =
    report.trustRoot === 'sigstore-public-good'
      ? '\n  trust root: Sigstore public-good (shipped with sigstore-js)'
      : report.trustRoot === 'given'
        ? `\n  trust root: ${flags.trustedRoot}`
        : '';
  const approval =
    report.approval === 'approval-key'
      ? `\n  approval: verified with ${flags.approvalKey}`
      : report.approval === 'signer'
        ? "\n  approval: verified with the receipts' signer"
        : '';
  io.stdout(
    `verified ${archivePath}: run ${report.runId}, ${report.files} file(s), ${report.receipts} receipt(s), ` +
      `${report.artifacts} artifact(s)\n  signer: ${signer} (${report.trust === 'pinned' ? 'pinned' : "unpinned: the archive's own key"})${root}${approval}\n`,
  );
  for (const warning of report.warnings) io.stdout(`warning: ${warning}\n`);
}
