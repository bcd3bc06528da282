// tasks/sig.ingest: records into SIG over its ingest contract (batch or stream), built on the
// task SDK with sig/'s clients: the contract major is negotiated, SIG's 429/503 answers are
// waited out (Retry-After), and every batch carries `<idempotencyKey>.<i>`, so a retry resends
// the very same bodies and SIG stores nothing twice. After each batch SIG stored, the task
// checkpoints `{ key, nextBatch, … }`: a retry of this task (the process killed mid-ingest)
// starts at the next batch, not at the first and not past one SIG never acknowledged.
// The endpoint and the bearer are secrets: from `${secrets.…}`/`${workload.identity}` in
// with: (redacted in stored inputs) or env: (SIG_INGEST_URL, SIG_TOKEN), never quoted in a log.
import { defineTask, runMain } from '../../sdk/index.ts';
import { ingestBatches, ingestStream, type ContractVersion } from '../../sig/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { sigConnection } from './connection.ts';
import { asTaskError } from './errors.ts';
import { readRecords } from './read-records.ts';
import { inputs as inputSpec, outputs as outputSpec } from './spec.ts';

interface Checkpoint {
  key: string;
  nextBatch: number;
  accepted: number;
  duplicates: number;
  replayed: number;
}

export const sigIngest = defineTask({
  name: 'sig.ingest',
  version: '1.0.0',
  description:
    'Sends records to SIG over its ingest contract (v1–v3, negotiated): bounded idempotent batches or a resumable stream; a retry resumes after the last batch SIG stored.',
  spec: { inputs: inputSpec, outputs: outputSpec },
  async execute(inputs, ctx) {
    const { conn, host } = sigConnection(inputs, ctx);
    const mode = inputs.mode ?? 'batch';
    // The host only, as in the log: the endpoint's URL is a secret.
    const attributes = { 'server.address': host, 'maestro.sig.mode': mode };
    return await inTaskSpan(ctx, `sig.ingest ${mode}`, { task: 'sig.ingest', attributes }, async (span) => {
      const records = await readRecords(inputs, ctx.workspace, ctx.artifactsDir);
      const pinned = inputs.version as ContractVersion | undefined;
      try {
        if (inputs.mode === 'stream') {
          const done = await ingestStream(conn, records, {
            streamId: inputs.idempotencyKey,
            ...(pinned ? { version: pinned } : {}),
          });
          ctx.emit.log(
            `sig.ingest: streamed ${records.length} record(s) to ${host} (v${done.version}, ${done.connections} connection(s))`,
          );
          // Offsets count from 0: committedOffset k means records 0..k are stored.
          span.setAttributes({
            'maestro.sig.version': done.version,
            'maestro.sig.accepted': done.committedOffset + 1,
          });
          return {
            version: done.version,
            accepted: done.committedOffset + 1,
            committedOffset: done.committedOffset,
            dropped: done.dropped.length,
          };
        }
        const earlier = resumable(ctx.state, inputs.idempotencyKey);
        if (earlier)
          ctx.emit.log(
            `sig.ingest: resuming at batch ${earlier.nextBatch} (an earlier attempt's checkpoint)`,
          );
        const totals = {
          accepted: earlier?.accepted ?? 0,
          duplicates: earlier?.duplicates ?? 0,
          replayed: earlier?.replayed ?? 0,
        };
        const result = await ingestBatches(conn, records, {
          idempotencyKey: inputs.idempotencyKey,
          ...(inputs.batchSize ? { batchSize: inputs.batchSize } : {}),
          ...(pinned ? { version: pinned } : {}),
          fromBatch: earlier?.nextBatch ?? 0,
          onBatch: (i, answer) => {
            totals.accepted += answer.accepted;
            totals.duplicates += answer.duplicates;
            if (answer.replayed) totals.replayed++;
            const checkpoint: Checkpoint = { key: inputs.idempotencyKey, nextBatch: i + 1, ...totals };
            ctx.emit.state(checkpoint);
            ctx.emit.progress({
              done: Math.min((i + 1) * (inputs.batchSize ?? 500), records.length),
              total: records.length,
            });
            ctx.heartbeat();
          },
        });
        for (const warning of result.warnings) ctx.emit.log(`sig.ingest: SIG warns: ${warning}`, 'warn');
        ctx.emit.metric('sig_ingest_records_accepted', result.accepted);
        span.setAttributes({
          'maestro.sig.version': result.version,
          'maestro.sig.accepted': result.accepted,
        });
        ctx.emit.log(
          `sig.ingest: ${result.batches} batch(es) to ${host} (v${result.version}): ${result.accepted} new, ${result.duplicates} duplicate(s), ${result.replayed} replayed`,
        );
        return {
          version: result.version,
          ...totals,
          batches: result.batches,
          resumedFromBatch: earlier?.nextBatch ?? 0,
          dropped: result.dropped.length,
        };
      } catch (error) {
        throw asTaskError(error, host);
      }
    });
  },
});

/** The checkpoint of an earlier attempt of this same ingest (same key), if any. */
function resumable(state: unknown, key: string): Checkpoint | undefined {
  const s = state as Partial<Checkpoint> | undefined;
  return s?.key === key && Number.isInteger(s.nextBatch) ? (s as Checkpoint) : undefined;
}

if (import.meta.main) await runMain(sigIngest, process.env);
