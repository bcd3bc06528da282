/**
 * `maestro sig-link-receipts <run>`: links a run's signed receipts to the SIG claims its tasks
 * made. A task that made a claim says so with a `claimId` output (tasks/sig.export does); each of
 * its receipts (by the digest of its signed bundle), and the run's own receipt, is linked to that
 * claim with the claims contract (sig/'s `linkRunReceipts`, idempotent: a digest already linked
 * is kept once). Receipts exist only after the attempts they sign, so this runs after the run.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/index.ts';
import { linkRunReceipts, openClaimsClient, type RunReceipt } from '../../sig/index.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { openCliStore } from '../open-engine.ts';
import { dataDirOf } from './provenance-options.ts';

const EXAMPLES = `
Examples:
  $ MAESTRO_SECRET_SIG_INGEST_URL=http://127.0.0.1:8787 maestro sig-link-receipts r-0f3c...
  $ maestro sig-link-receipts r-0f3c... --sig-url https://sig.example.com --format json

SIG's URL is --sig-url, else MAESTRO_SECRET_SIG_INGEST_URL (the secret the tasks use); a bearer
token, if SIG wants one, is MAESTRO_SECRET_SIG_TOKEN. Exit 1 when the run made no claim.`;

export function registerSigLinkReceipts(program: Command, context: CliContext): void {
  program
    .command('sig-link-receipts')
    .description("Link a run's signed receipts to the SIG claims its tasks made (claimId outputs)")
    .argument('<run>', 'run id')
    .option('--sig-url <url>', 'SIG base URL (default: MAESTRO_SECRET_SIG_INGEST_URL)')
    .option('--data-dir <dir>', 'where runs are stored')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', EXAMPLES)
    .action(async (runId: string, o: { sigUrl?: string; dataDir?: string; format: string }) => {
      const { io } = context;
      const baseUrl = o.sigUrl ?? io.env.MAESTRO_SECRET_SIG_INGEST_URL;
      if (!baseUrl) throw new UsageError('pass --sig-url or set MAESTRO_SECRET_SIG_INGEST_URL');
      const token = io.env.MAESTRO_SECRET_SIG_TOKEN;
      const store = await openCliStore({ dataDir: dataDirOf(io, o.dataDir) }, io);
      try {
        await store.getRun(runId);
        const claimsByTask: Record<string, string> = {};
        for (const a of await store.listAttempts(runId))
          if (a.outcome === 'succeeded' && typeof a.outputs?.claimId === 'string')
            claimsByTask[a.taskId] = a.outputs.claimId;
        const records = await store.listReceipts(runId);
        const receipts: RunReceipt[] = [];
        for (const r of records) {
          // The run's own receipt attests every task: it goes with each claim.
          const tasks = r.taskId === '' ? Object.keys(claimsByTask) : [r.taskId];
          for (const taskId of tasks)
            receipts.push({
              runId,
              taskId,
              digest: r.digest,
              ...(r.taskId === '' ? { location: `maestro:run/${runId}` } : {}),
            });
        }
        if (Object.keys(claimsByTask).length === 0) {
          io.stderr(`run ${runId} made no SIG claim (no task has a claimId output)\n`);
          context.exitCode = ExitCode.inputErrors;
          return;
        }
        const client = await openClaimsClient({ baseUrl, ...(token ? { token } : {}) });
        const linked = await linkRunReceipts(client, claimsByTask, receipts);
        const summary = [...linked].map(([claimId, claim]) => ({ claimId, receipts: claim.receipts.length }));
        if (o.format === 'json') io.stdout(`${JSON.stringify({ runId, claims: summary })}\n`);
        else for (const s of summary) io.stdout(`claim ${s.claimId}: ${s.receipts} receipt(s) linked\n`);
      } finally {
        await store.close();
      }
    });
}
