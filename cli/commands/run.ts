import type { Command } from 'commander';
import { UsageError } from '../../core/index.ts';
import { compileOne } from '../compile-one.ts';
import { parseConcurrency, parseParams } from '../config.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import { createLiveView, type LiveView } from '../live-view.ts';
import { openCliEngine, type CliEngine } from '../open-engine.ts';
import { checkRunnerKind, withRunner } from '../runners-config.ts';
import { checkRepositoryTasksCommitted, isRemoteLocation, resolveRunSource } from '../../workspace/index.ts';
import { runOnServer } from './run-remote.ts';
import { serverOption } from './runs-remote.ts';
import { repeatable } from '../repeatable.ts';

const EXAMPLES = `
Examples:
  $ maestro run examples/quickstart/.maestro/workflows/hello.yaml
  $ maestro run deploy.yaml --param env=staging --concurrency 4
  $ maestro run hello.yaml --runner container --runners runners.yaml   # every task in a container
  $ maestro run --resume r-0f3c...          # continue a run whose process was killed
  $ maestro run ci.yaml --ref v1.2.0        # the tasks see the repository at tag v1.2.0
  $ maestro run ci.yaml --source https://github.com/acme/app.git --ref main
  $ MAESTRO_TOKEN=mst_... maestro run hello.yaml --server https://maestro.example.com   # on a server

Tasks start in a workspace holding the source: the git repository containing the manifest at
HEAD (its committed state; uncommitted changes are left out), or --source/--ref; outside a git
repository, the manifest's directory. MAESTRO_SOURCE_REPO and MAESTRO_SOURCE_SHA name it.

Exit codes: 0 the run succeeded, 1 it failed (or the manifest has errors), 2 usage, 3 internal.
The data dir is --data-dir, else MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro or ~/.local/share/maestro.
Secrets: MAESTRO_SECRET_<NAME> variables and the --secrets file (default <data-dir>/secrets.env).`;

interface RunOptions {
  param: string[];
  concurrency?: string;
  dataDir?: string;
  secrets?: string;
  resume?: string;
  policy?: string;
  runners?: string;
  runner?: string;
  source?: string;
  ref?: string;
  server?: string;
}

export function registerRun(program: Command, context: CliContext): void {
  program
    .command('run')
    .description('Run a workflow end to end on this machine, with a live view of its tasks')
    .argument('[manifest]', 'the workflow manifest to run')
    .option('--param <key=value>', 'a workflow parameter (repeatable)', repeatable, [])
    .option('--concurrency <n>', 'tasks running at once (default: CPU count)')
    .option('--data-dir <dir>', 'where runs are stored (default: MAESTRO_DATA_DIR or a per-user directory)')
    .option('--secrets <file>', 'a NAME=value secrets file for local development')
    .option(
      '--policy <bundle>',
      'policy bundle: default, off, or a bundle.tar.gz (default: MAESTRO_POLICY or default)',
    )
    .option(
      '--runners <file>',
      'runners config (YAML/JSON; default: MAESTRO_RUNNERS_CONFIG), see docs/runners.md',
    )
    .option('--runner <kind>', 'run every task on this runner: local, container or kubernetes')
    .option(
      '--source <dir|url>',
      "the code the tasks run on: a directory or an https:// clone URL (default: the manifest's git repository)",
    )
    .option('--ref <rev>', 'the branch, tag or commit of the source (default: HEAD, the committed state)')
    .option('--resume <run>', 'resume a run that was interrupted (its manifest is not needed)')
    .addOption(serverOption())
    .addHelpText('after', EXAMPLES)
    .action(async (manifest: string | undefined, options: RunOptions) => {
      const { io } = context;
      if (options.server !== undefined) {
        const { server, ...rest } = options;
        context.exitCode = await runOnServer(server, manifest, rest, io);
        return;
      }
      if (manifest === undefined && options.resume === undefined)
        throw new UsageError('pass a manifest to run, or --resume <run>');
      if (manifest !== undefined && options.resume !== undefined)
        throw new UsageError('pass either a manifest or --resume <run>, not both');
      const concurrency = parseConcurrency(options.concurrency);
      let plan;
      if (manifest !== undefined) {
        // Repository tasks are read from the source the run will use (a local --source folder too).
        // A remote --source is not read before the run: its repository tasks do not resolve (MS4008).
        const local =
          options.source === undefined
            ? {}
            : isRemoteLocation(options.source)
              ? { noRepository: true }
              : { source: options.source };
        plan = await compileOne(manifest, io, undefined, local);
        if (!plan) {
          context.exitCode = ExitCode.inputErrors;
          return;
        }
      }
      const cli = await openCliEngine(
        {
          ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
          ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
          ...(concurrency === undefined ? {} : { concurrency }),
          ...(options.policy === undefined ? {} : { policy: options.policy }),
          ...(options.runners === undefined ? {} : { runners: options.runners }),
        },
        io,
      );
      try {
        if (options.runner !== undefined) {
          checkRunnerKind(options.runner, cli.runnerKinds);
          if (plan) plan = withRunner(plan, options.runner);
          else throw new UsageError('--runner applies to a new run; a resumed run keeps its runners');
        }
        if (!plan && (options.source !== undefined || options.ref !== undefined))
          throw new UsageError('--source and --ref apply to a new run; a resumed run keeps its source');
        let runId = options.resume!;
        if (plan) {
          const resolved = await resolveRunSource({
            manifestPath: manifest!,
            dataDir: cli.dataDir,
            cwd: io.cwd,
            baseEnv: { PATH: io.env.PATH, HOME: io.env.HOME },
            ...(options.source === undefined ? {} : { source: options.source }),
            ...(options.ref === undefined ? {} : { ref: options.ref }),
          });
          io.stderr(`${resolved.note}\n`);
          await checkRepositoryTasksCommitted(plan, resolved.source, {
            PATH: io.env.PATH,
            HOME: io.env.HOME,
          });
          runId = await cli.engine.submit(plan, {
            params: parseParams(options.param),
            trigger: 'cli',
            actor: `user:${io.env.USER ?? 'local'}`,
            source: resolved.source,
            // The operator runs their own checkout: trusted (network on, unless a task narrows it).
            trust: 'trusted',
          });
        }
        const submitted = plan !== undefined;
        // The engine reads the run's plan from the store: neither this copy nor the run record's
        // below is held for as long as the run lasts (10,000 tasks: 15 MB of the live heap;
        // bench/run/RESULTS.md).
        plan = undefined;
        const view = await openLiveView(cli.store, runId, submitted, io);
        const unsubscribe = cli.engine.subscribe((event) => view.onEvent(event));
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const final = await cli.engine.execute(runId, {
            signal: abort.signal,
            abortedBy: `user:${io.env.USER ?? 'local'} (SIGINT)`,
          });
          view.close();
          io.stdout(`run ${runId} ${final.status}\n`);
          context.exitCode = final.status === 'succeeded' ? ExitCode.ok : ExitCode.inputErrors;
        } finally {
          unsubscribe();
          process.removeListener('SIGINT', onSigint);
        }
      } finally {
        await cli.close();
      }
    });
}

/** The run's header line and its live view. The run record read for them (its plan: one object per
 * task) is not kept beyond this call, so it does not stay in memory for the whole run. */
async function openLiveView(
  store: CliEngine['store'],
  runId: string,
  submitted: boolean,
  io: CliContext['io'],
): Promise<LiveView> {
  const run = await store.getRun(runId);
  io.stdout(`${submitted ? 'run' : 'resuming run'} ${runId} (${run.namespace}/${run.workflow})\n`);
  return createLiveView(
    io,
    run.plan.tasks.map((t) => t.id),
  );
}
