import type { Command } from 'commander';
import { Option } from 'commander';
import { RunState, UsageError } from '../../core/index.ts';
import type { RunRecord } from '../../engine/index.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { createLiveView } from '../live-view.ts';
import { openCliEngine, openCliStore } from '../open-engine.ts';
import { printCancel, printRunDetail, printRunList, printRunLogs } from '../format/runs-output.ts';
import { serverOption, remoteRuns } from './runs-remote.ts';

const EXAMPLES = `
Examples:
  $ maestro runs list --status failed --since 2026-11-01
  $ maestro runs show r-0f3c... --format json
  $ maestro runs logs r-0f3c... --task build
  $ maestro runs cancel r-0f3c...
  $ maestro runs retry r-0f3c...            # re-runs only the failed part, keeping history
  $ MAESTRO_TOKEN=mst_... maestro runs list --server https://maestro.example.com   # a server's runs`;

type Format = 'text' | 'json';
const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where runs are stored (default: MAESTRO_DATA_DIR)');

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} expects an ISO date or epoch milliseconds, got ${value}`);
  return ms;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function summary(run: RunRecord) {
  return {
    id: run.id,
    workflow: run.workflow,
    namespace: run.namespace,
    status: run.status,
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

export function registerRuns(program: Command, context: CliContext): void {
  const { io } = context;
  const runs = program
    .command('runs')
    .description('List, inspect, cancel and retry runs')
    .addHelpText('after', EXAMPLES);

  runs
    .command('list')
    .description('List runs, newest first')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .option('--status <status>', 'only runs in this status (comma-separated)')
    .option('--workflow <name>', 'only this workflow')
    .option('--namespace <ns>', 'only this namespace')
    .option('--since <time>', 'created at or after (ISO date or epoch ms)')
    .option('--until <time>', 'created at or before (ISO date or epoch ms)')
    .addOption(serverOption())
    .action(
      async (o: {
        format: Format;
        dataDir?: string;
        server?: string;
        status?: string;
        workflow?: string;
        namespace?: string;
        since?: string;
        until?: string;
      }) => {
        const statuses = o.status?.split(',').map((s) => s.trim());
        const known = Object.values(RunState) as string[];
        for (const s of statuses ?? [])
          if (!known.includes(s)) throw new UsageError(`--status ${s} is not one of ${known.join(', ')}`);
        const since = parseTime(o.since, '--since');
        const until = parseTime(o.until, '--until');
        if (o.server !== undefined) {
          const { since: _s, until: _u, ...rest } = o;
          return remoteRuns(o.server, o, io).list({
            ...rest,
            ...(since === undefined ? {} : { since }),
            ...(until === undefined ? {} : { until }),
          });
        }
        const store = await openCliStore(o, io);
        try {
          const filter: Parameters<typeof store.listRuns>[0] = {};
          if (statuses) filter.status = statuses as RunState[];
          if (o.workflow !== undefined) filter.workflow = o.workflow;
          if (o.namespace !== undefined) filter.namespace = o.namespace;
          if (since !== undefined) filter.since = since;
          if (until !== undefined) filter.until = until;
          printRunList(io, (await store.listRuns(filter)).map(summary), o.format);
        } finally {
          await store.close();
        }
      },
    );

  runs
    .command('show')
    .description("Show a run's tasks, attempts and outputs")
    .argument('<run>', 'run id')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(async (runId: string, o: { format: Format; dataDir?: string; server?: string }) => {
      if (o.server !== undefined) return remoteRuns(o.server, o, io).show(runId, o.format);
      const store = await openCliStore(o, io);
      try {
        const run = await store.getRun(runId);
        const attempts = await store.listAttempts(runId);
        const tasks = (await store.listTasks(runId)).map((t) => ({
          id: t.taskId,
          state: t.state,
          reason: t.reason,
          cacheKey: t.cacheKey,
          attempts: attempts
            .filter((a) => a.taskId === t.taskId)
            .map((a) => ({
              attempt: a.attempt,
              outcome: a.outcome ?? 'running',
              exitCode: a.exitCode,
              reason: a.reason,
              startedAt: iso(a.startedAt),
              finishedAt: iso(a.finishedAt),
              cacheHit: a.cacheHit,
              outputs: a.outputs,
            })),
        }));
        const detail = {
          ...summary(run),
          planDigest: run.planDigest,
          params: run.params,
          actor: run.actor,
          reason: run.reason,
          source: run.source,
          tasks,
        };
        printRunDetail(io, detail, o.format);
      } finally {
        await store.close();
      }
    });

  runs
    .command('logs')
    .description("Print a run's log lines (all tasks, or one)")
    .argument('<run>', 'run id')
    .option('--task <id>', 'only this task')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(
      async (runId: string, o: { format: Format; dataDir?: string; task?: string; server?: string }) => {
        if (o.server !== undefined) return remoteRuns(o.server, o, io).logs(runId, o.task, o.format);
        const store = await openCliStore(o, io);
        try {
          await store.getRun(runId);
          if (o.task !== undefined) await store.getTask(runId, o.task);
          printRunLogs(io, await store.listLogs(runId, o.task), o.format);
        } finally {
          await store.close();
        }
      },
    );

  runs
    .command('cancel')
    .description('Cancel a run (its running tasks are signalled, then killed after a grace period)')
    .argument('<run>', 'run id')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(async (runId: string, o: { format: Format; dataDir?: string; server?: string }) => {
      if (o.server !== undefined) return remoteRuns(o.server, o, io).cancel(runId, o.format);
      const cli = await openCliEngine(o, io);
      try {
        await cli.engine.cancel(runId, { by: `user:${io.env.USER ?? 'local'}` });
        const run = await cli.store.getRun(runId);
        printCancel(io, { ...summary(run), cancelRequestedBy: run.cancelRequestedBy }, o.format);
      } finally {
        await cli.close();
      }
    });

  runs
    .command('approve')
    .description("Approve a run waiting for approval, as the token's user (MAESTRO_TOKEN; server only)")
    .argument('<run>', 'run id')
    .addOption(formatOption())
    .addOption(serverOption())
    .addHelpText(
      'after',
      `
Approvals are given to a server (docs/server.md#approvals): the token needs approvals:write and a
--user, and must not be the run's starter's.

Example:
  $ MAESTRO_TOKEN=mst_… maestro runs approve r-1234 --server http://127.0.0.1:8080`,
    )
    .action(async (runId: string, o: { format: Format; server?: string }) => {
      if (o.server === undefined)
        throw new UsageError(
          'maestro runs approve needs --server <url>: approvals are given through the API',
        );
      await remoteRuns(o.server, o, io).approve(runId, o.format);
    });

  runs
    .command('retry')
    .description('Re-run only the failed, cancelled or skipped-by-failure tasks of a finished run')
    .argument('<run>', 'run id')
    .addOption(formatOption())
    .addOption(dataDirOption())
    .option('--secrets <file>', 'a NAME=value secrets file for local development')
    .addOption(serverOption())
    .action(
      async (runId: string, o: { format: Format; dataDir?: string; secrets?: string; server?: string }) => {
        if (o.server !== undefined) {
          context.exitCode = await remoteRuns(o.server, o, io).retry(runId, o.format);
          return;
        }
        const cli = await openCliEngine(o, io);
        try {
          const run = await cli.engine.retry(runId, { by: `user:${io.env.USER ?? 'local'}` });
          const view =
            o.format === 'text'
              ? createLiveView(
                  io,
                  run.plan.tasks.map((t) => t.id),
                )
              : undefined;
          const off = cli.engine.subscribe((e) => view?.onEvent(e));
          const final = await cli.engine.execute(runId);
          off();
          view?.close();
          if (o.format === 'json') io.stdout(JSON.stringify(summary(final)) + '\n');
          else io.stdout(`run ${runId} ${final.status}\n`);
          context.exitCode = final.status === 'succeeded' ? ExitCode.ok : ExitCode.inputErrors;
        } finally {
          await cli.close();
        }
      },
    );
}
