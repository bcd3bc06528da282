/**
 * `maestro run <manifest> --server <url>`: the manifest is posted to the server (compiled and
 * stored there; its diagnostics print as they do locally), a run of it is started, and it is
 * followed with the same live view and the same last line and exit code as a local run. Ctrl-C
 * asks the server to cancel the run, as it cancels a local one. From a git checkout the
 * manifest carries its source (repo and commit: cli/server-source.ts, which refuses a dirty one).
 */
import { UsageError, type ApiBody } from '../../core/index.ts';
import { findManifests } from '../../workspace/index.ts';
import { compileOne } from '../compile-one.ts';
import { parseParams } from '../config.ts';
import { ExitCode } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import { createLiveView } from '../live-view.ts';
import { openServerClient } from '../server-client.ts';
import { serverCompiler } from '../server-compile.ts';
import { followRemoteRun } from '../server-follow.ts';
import { serverSourceOf } from '../server-source.ts';
import { refuseLocalFlags } from './runs-remote.ts';

const LOCAL_FLAGS = {
  resume: '--resume',
  dataDir: '--data-dir',
  secrets: '--secrets',
  concurrency: '--concurrency',
  policy: '--policy',
  runners: '--runners',
  runner: '--runner',
  source: '--source',
  ref: '--ref',
};

export async function runOnServer(
  server: string,
  manifest: string | undefined,
  options: Record<string, unknown> & { param: string[] },
  io: CliIo,
): Promise<ExitCode> {
  refuseLocalFlags(options, LOCAL_FLAGS);
  if (manifest === undefined) throw new UsageError('pass a manifest to run on the server');
  const params = parseParams(options.param);
  // Before anything is posted: a dirty checkout or an unpushed commit is refused here.
  const found = await serverSourceOf(manifest, io);
  const client = openServerClient(server, io);
  const compile = await serverCompiler(client, findManifests([manifest], { cwd: io.cwd }), {
    dryRun: false,
    source: found?.source,
  });
  const plan = await compileOne(manifest, io, compile);
  if (!plan) return ExitCode.inputErrors;
  if (found) io.stderr(`${found.note}\n`);
  const accepted = await client.request<ApiBody.RunAccepted>('POST', '/v1/runs', {
    json: { workflow: plan.digest, params } satisfies ApiBody.RunCreate,
  });
  const runId = accepted.id;
  io.stdout(`run ${runId} (${plan.workflow.namespace}/${plan.workflow.name})\n`);
  // A gated workflow's run waits; say so, and what releases it, rather than look stuck.
  if (accepted.status === 'waiting_for_approval')
    io.stderr(
      `maestro: run ${runId} is waiting for approval (${plan.approvals?.required ?? 1} needed): ` +
        `each approver sends POST /v1/runs/${runId}/approvals with their own approvals:write token; Ctrl-C cancels it\n`,
    );
  const view = createLiveView(
    io,
    plan.tasks.map((t) => t.id),
  );
  const onSigint = () =>
    void client
      .request('POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`)
      .catch((error: Error) => io.stderr(`maestro: the cancel was not sent: ${error.message}\n`));
  process.once('SIGINT', onSigint);
  try {
    const final = await followRemoteRun(client, runId, view);
    view.close();
    io.stdout(`run ${runId} ${final.run.status}\n`);
    return final.run.status === 'succeeded' ? ExitCode.ok : ExitCode.inputErrors;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
