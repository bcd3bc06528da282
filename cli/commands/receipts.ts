/**
 * `maestro receipts <run> [--format json] [-o dir]`: lists a run's signed receipts (one per
 * attempt, one per run), checks each against the trusted key, and exports the bundles.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportReceipts } from '../../engine/index.ts';
import { DEV_KEY_WARNING } from '../../provenance/index.ts';
import type { CliContext } from '../context.ts';
import { openCliStore } from '../open-engine.ts';
import { ExitCode } from '../exit-codes.ts';
import { addTrustOptions, dataDirOf, resolveTrust, type TrustFlags } from './provenance-options.ts';
import { viewReceipt } from './receipt-view.ts';

interface ReceiptsFlags extends TrustFlags {
  format: string;
  output?: string;
}

export function registerReceipts(program: Command, context: CliContext): void {
  addTrustOptions(
    program
      .command('receipts')
      .description("list a run's signed provenance receipts, and export them with -o")
      .argument('<run>', 'run id')
      .option('--format <format>', 'text or json', 'text')
      .option('-o, --output <dir>', 'write each receipt bundle to <dir>'),
  ).action((runId: string, flags: ReceiptsFlags) => listReceipts(context, runId, flags));
}

async function listReceipts(context: CliContext, runId: string, flags: ReceiptsFlags): Promise<void> {
  const { io } = context;
  const store = await openCliStore({ dataDir: dataDirOf(io, flags.dataDir) }, io);
  try {
    await store.getRun(runId);
    const records = await store.listReceipts(runId);
    const trust = tryTrust(context, flags);
    const views = records.map((record) => viewReceipt(record, trust));
    if (flags.output) await exportReceipts(store, runId, resolve(io.cwd, flags.output));
    const development = views.some((v) => v.development);
    if (flags.format === 'json') {
      io.stdout(
        `${JSON.stringify({
          runId,
          receipts: views.map(({ statement: _s, ...rest }) => rest),
          ...(development ? { warning: DEV_KEY_WARNING } : {}),
        })}\n`,
      );
    } else {
      if (views.length === 0) io.stdout(`run ${runId} has no receipts\n`);
      for (const v of views) {
        const what = v.kind === 'run' ? 'run' : `${v.taskId}#${v.attempt}`;
        io.stdout(`${what.padEnd(28)} ${v.status.padEnd(10)} ${v.digest}  ${v.verification}\n`);
      }
      if (flags.output) io.stdout(`exported ${records.length} receipt(s) to ${flags.output}\n`);
      if (development) io.stdout(`warning: receipts ${DEV_KEY_WARNING}\n`);
    }
    if (views.some((v) => v.verification !== 'ok' && v.verification !== 'unchecked'))
      context.exitCode = ExitCode.inputErrors;
  } finally {
    await store.close();
  }
}

/** Verification is best-effort when listing: no key configured means "unchecked", not an error. */
function tryTrust(context: CliContext, flags: ReceiptsFlags) {
  try {
    return resolveTrust(context.io, flags);
  } catch {
    return undefined;
  }
}
