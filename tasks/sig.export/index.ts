// tasks/sig.export: the export of a disclosure request to SIG, built on the task SDK with sig/'s
// clients. It registers a `disclosure` claim about the exported subject (a bundle file by its
// sha256, or the request itself) with the policy the run was checked under (`ctx.policy`, which
// the engine passes from the workflow's spec.policy), records a
// `disclosure.exported` event, and links the receipts it is given to the claim. Every step is
// idempotent (the claim's key `sig-export.<requestId>`, the event's id and batch key derive from
// it) and checkpointed: a retry of this task skips the steps SIG already answered.
// The endpoint and the bearer come from `${secrets.SIG_INGEST_URL}` / `${workload.identity}` in
// with: (redacted where inputs are stored) or env: (SIG_INGEST_URL, SIG_TOKEN); the bearer is
// never written into the claim or a log.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { defineTask, runMain, TaskError, workspaceFile, type TaskPolicy } from '../../sdk/index.ts';
import { ingestBatches, openClaimsClient, type ContractVersion, type RunReceipt } from '../../sig/index.ts';
import { sigConnection } from '../sig.ingest/connection.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { asTaskError } from '../sig.ingest/errors.ts';
import { inputs as inputSpec, outputs as outputSpec } from './spec.ts';

interface Checkpoint {
  key: string;
  claimId?: string;
  /** The claim's createdAt: the event's time, so every attempt sends the very same event. */
  at?: string;
  created?: boolean;
  version?: number;
  recorded?: boolean;
}

export const sigExport = defineTask({
  name: 'sig.export',
  version: '1.0.0',
  description:
    'Exports a disclosure request to SIG: a disclosure claim about the exported bundle (by sha256) under the given policy, an export event, and receipts linked to the claim; idempotent per request, resumed from its checkpoint.',
  spec: { inputs: inputSpec, outputs: outputSpec },
  async execute(inputs, ctx) {
    const { conn, host } = sigConnection(inputs, ctx);
    const attributes = { 'server.address': host };
    return await inTaskSpan(ctx, 'sig.export', { task: 'sig.export', attributes }, async (span) => {
      const policy = claimPolicy(inputs.policy, ctx.policy);
      const key = inputs.idempotencyKey ?? `sig-export.${inputs.requestId}`.slice(0, 100);
      const subject = await subjectOf(inputs, ctx.workspace, ctx.artifactsDir);
      const earlier = ctx.state as Partial<Checkpoint> | undefined;
      const done: Checkpoint = earlier?.key === key ? { ...earlier, key } : { key };
      const pinned = inputs.version as ContractVersion | undefined;
      try {
        const claims = await openClaimsClient(conn, pinned);
        if (done.claimId === undefined) {
          const registered = await claims.register({
            idempotencyKey: key,
            subject,
            kind: 'disclosure',
            statement: { requestId: inputs.requestId, exporter: 'maestro/sig.export@1.0.0' },
            ...(policy ? { policy } : {}),
          });
          Object.assign(done, {
            claimId: registered.claim.id,
            at: registered.claim.createdAt,
            created: registered.created,
            version: claims.version,
          });
          for (const field of registered.dropped)
            ctx.emit.log(`sig.export: left out for a v${claims.version} SIG: ${field}`, 'warn');
          ctx.emit.state(done);
        } else ctx.emit.log(`sig.export: claim ${done.claimId} was registered by an earlier attempt`);
        const claimId = done.claimId as string;
        if (!done.recorded) {
          await ingestBatches(
            conn,
            [exportEvent(inputs.requestId, claimId, subject.digest, done.at ?? new Date(0).toISOString())],
            {
              idempotencyKey: `${key}.event`,
              ...(pinned ? { version: pinned } : {}),
            },
          );
          done.recorded = true;
          ctx.emit.state(done);
        }
        const receipts = (inputs.receipts ?? []) as RunReceipt[];
        if (receipts.length > 0) await claims.link(claimId, receipts.map(linkOf));
        ctx.emit.log(
          `sig.export: request ${inputs.requestId} exported to ${host} as claim ${claimId} (${receipts.length} receipt(s) linked)`,
        );
        span.setAttributes({
          'maestro.sig.created': done.created === true,
          'maestro.sig.linked': receipts.length,
        });
        return {
          claimId,
          digest: subject.digest,
          created: done.created === true,
          version: done.version ?? claims.version,
          linked: receipts.length,
        };
      } catch (error) {
        throw asTaskError(error, host);
      }
    });
  },
});

type ClaimPolicy = { purpose: string; authority: string; license: string };

/**
 * The policy the claim carries: the run's own (ctx.policy, the workflow's `spec.policy` that the
 * engine checked every task under), not a copy in `with:` that could claim another purpose.
 * `with.policy` counts only outside the engine, or where it says the same as the run's.
 */
function claimPolicy(given: ClaimPolicy | undefined, run: TaskPolicy | undefined): ClaimPolicy | undefined {
  const fields = ['purpose', 'authority', 'license'] as const;
  if (given && run) {
    const differs = fields.filter((f) => run[f] !== undefined && run[f] !== given[f]);
    if (differs.length > 0)
      throw new TaskError(
        'sig_export_policy_mismatch',
        `/policy: says another ${differs.join(', ')} than the run's policy (${differs.map((f) => `${f}=${run[f]}`).join(', ')})`,
        { hint: "leave `policy` out of with: — the claim carries the workflow's spec.policy" },
      );
  }
  if (run && fields.every((f) => typeof run[f] === 'string' && run[f] !== ''))
    return { purpose: run.purpose!, authority: run.authority!, license: run.license! };
  return given;
}

async function subjectOf(
  inputs: { requestId: string; file?: string; subjectName?: string },
  workspace: string,
  artifactsDir: string | undefined,
): Promise<{ name: string; digest: string }> {
  if (inputs.file === undefined)
    return {
      name: inputs.subjectName ?? `request/${inputs.requestId}`,
      digest: `sha256:${createHash('sha256').update(`maestro-disclosure-request\0${inputs.requestId}`).digest('hex')}`,
    };
  const path = inputs.file.startsWith('artifacts:')
    ? workspaceFile(artifactsRoot(artifactsDir), inputs.file.slice('artifacts:'.length), '/file')
    : workspaceFile(workspace, inputs.file, '/file');
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new TaskError(
      'sig_export_file_missing',
      `/file: ${inputs.file} cannot be read (${error.code ?? error.message})`,
      {
        hint: 'name a file the workspace holds, or an artifact of a task this one needs',
      },
    );
  });
  return {
    name: inputs.subjectName ?? basename(path),
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
  };
}

function artifactsRoot(dir: string | undefined): string {
  if (dir) return dir;
  throw new TaskError('sig_export_file_missing', '/file names an artifact, and this task receives none', {
    hint: 'add the producing task to needs: and declare the file in its artifacts:',
  });
}

function exportEvent(requestId: string, claimId: string, digest: string, at: string) {
  return {
    id: `disclosure.exported.${requestId}`.slice(0, 128),
    kind: 'event' as const,
    occurredAt: at,
    producer: { name: 'maestro/sig.export' },
    labels: {
      request: requestId
        .toLowerCase()
        .replace(/[^a-z0-9_.-]/g, '-')
        .slice(0, 200),
    },
    payload: { type: 'disclosure.exported', requestId, claimId, digest },
  };
}

function linkOf(r: RunReceipt) {
  return {
    runId: r.runId,
    taskId: r.taskId,
    digest: r.digest.startsWith('sha256:') ? r.digest : `sha256:${r.digest}`,
    ...(r.location ? { location: r.location } : {}),
  };
}

if (import.meta.main) await runMain(sigExport, process.env);
