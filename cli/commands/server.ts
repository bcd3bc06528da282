import type { Command } from 'commander';
import type { Logger } from 'pino';
import { resolve } from 'node:path';
import {
  createApiServer,
  createPlanLayouts,
  openApiStore,
  readTeamsFile,
  startWorker,
  TEAMS_FILE_VARIABLE,
  readRunbooksFile,
  RUNBOOKS_FILE_VARIABLE,
  type Worker,
} from '../../api/index.ts';
import { mountConsole } from '../../console/index.ts';
import { systemClock, UsageError } from '../../core/index.ts';
import { startApprovalSweeper } from '../../engine/index.ts';
import {
  openRuntime,
  runtimeConfigFromEnv,
  withExecutingConcurrency,
  type Runtime,
  type RuntimeConfig,
} from '../../runtime/index.ts';
import { appRuntimeOptions, serverLogger, untilSignal } from '../app-runtime-options.ts';
import type { CliContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { parseConcurrency } from '../config.ts';
import { wakeupsFrom } from './server-wakeups.ts';

const ROLES = ['api', 'worker', 'app'] as const;
type Role = (typeof ROLES)[number];

const HELP = `
Roles (--role, comma-separated, all by default):
  api      the REST API under /v1 (docs/server.md; GET /openapi.json describes it)
  worker   claims and executes runs from the store; any number of workers may share one
           PostgreSQL (or one SQLite data dir): a dead worker's runs are resumed by another
           after MAESTRO_LEASE_TTL (default 15s); --worker-runs or MAESTRO_WORKER_RUNS runs at
           once (default 32); on PostgreSQL woken at once by LISTEN/NOTIFY and polling every
           MAESTRO_WORKER_POLL_MS (default 250); MAESTRO_WAKEUPS=poll polls only (a pooler that cannot LISTEN)
  app      the GitHub App's webhook ingress, when APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are set
           (skipped with a log line otherwise); see \`maestro app --help\`

Configuration: the same as \`maestro run\` (MAESTRO_DATA_DIR, MAESTRO_RUNNERS_CONFIG,
MAESTRO_POLICY, MAESTRO_SIGNING_KEY, ... in docs/runtime.md). --public-url or
MAESTRO_PUBLIC_URL: where the console is reachable (attempt spans link to their task's page). Tokens: \`maestro tokens create\`.
Approvals through the API: MAESTRO_APPROVAL_SIGNING_KEY signs them; MAESTRO_TEAMS_FILE names the
YAML file of teams that a workflow's \`approvals.from: [team:…]\` means (docs/server.md).
Runbook triggers (POST /v1/runbooks/{namespace}/{name}/trigger, scope runbooks:trigger):
MAESTRO_RUNBOOKS_FILE names the YAML allow-list "namespaces: { ops: [rollback] }"; unset, none.

Examples:
  $ maestro server                                  # http://127.0.0.1:8080, every role
  $ maestro server --role api,worker --port 9000
  $ maestro tokens create --name ci --scope runs:write,workflows:write`;

function parseRoles(text: string): Set<Role> {
  const roles = text.split(',').map((r) => r.trim());
  for (const r of roles)
    if (!(ROLES as readonly string[]).includes(r))
      throw new UsageError(`--role ${r} is not one of ${ROLES.join(', ')}`);
  return new Set(roles as Role[]);
}

interface Opened {
  runtime: Runtime;
  webhook?: Parameters<typeof createApiServer>[0]['webhook'];
  /** The App sweeps approval timeouts itself (and executes its own runs a timeout sends back). */
  sweeps: boolean;
  close(): Promise<void>;
}

/**
 * One runtime either way: the App's (which opens it with the approval signer) or a plain one.
 * The App's runtime also for a worker without the app role when the App is configured: a worker
 * that claims an App run fetches its source with the installation's token and reports its check
 * run, which only the App's credentials can do (docs/server.md, "The App's role on several replicas").
 */
async function openServerRuntime(
  config: RuntimeConfig,
  roles: ReadonlySet<Role>,
  io: CliIo,
  logger: Logger,
): Promise<Opened> {
  const withApp = roles.has('app');
  if (io.env.APP_ID && (withApp || roles.has('worker'))) {
    // Loaded here: probot and octokit take most of a second to import.
    const { openAppRuntime, readAppConfig } = await import('../../app/index.ts');
    const app = readAppConfig(io.env, io.cwd);
    const appRuntime = await openAppRuntime({
      ...appRuntimeOptions(app, config, logger),
      ...(withApp ? {} : { webhooks: false }),
    });
    if (withApp) logger.info({ webhookPath: app.webhookPath }, 'app role: GitHub webhooks mounted');
    else logger.info('worker: the App is configured, so its runs claimed here report their check runs');
    return {
      runtime: appRuntime.runtime,
      ...(withApp ? { webhook: { path: app.webhookPath, ingress: appRuntime.app.ingress } } : {}),
      sweeps: true,
      close: () => appRuntime.close(),
    };
  }
  if (withApp) logger.info('app role skipped: APP_ID is not set (see `maestro app --help`)');
  // The approval signer too: POST /v1/runs/{id}/approvals signs with it.
  const runtime = await openRuntime(config, {
    logger,
    approvals: true,
    // SBOMs of images the runs build, stored where GET /v1/sbom reads.
    sbomStore: () => openApiStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }),
  });
  return { runtime, sweeps: false, close: () => runtime.close() };
}

/** MAESTRO_TEAMS_FILE, resolved and checked at start (a broken file fails here, not at the first approval). */
function teamsFileFrom(io: CliIo): string | undefined {
  const value = io.env[TEAMS_FILE_VARIABLE];
  if (!value) return undefined;
  const file = resolve(io.cwd, value);
  try {
    readTeamsFile(file);
  } catch (error) {
    const e = error as Error & { hint?: string };
    throw new UsageError(e.message, e.hint ? { hint: e.hint } : {});
  }
  return file;
}

/** MAESTRO_RUNBOOKS_FILE, resolved and checked at start (a broken file fails here, not at the first trigger). */
function runbooksFileFrom(io: CliIo): string | undefined {
  const value = io.env[RUNBOOKS_FILE_VARIABLE];
  if (!value) return undefined;
  const file = resolve(io.cwd, value);
  try {
    readRunbooksFile(file);
  } catch (error) {
    const e = error as Error & { hint?: string };
    throw new UsageError(e.message, e.hint ? { hint: e.hint } : {});
  }
  return file;
}

/** MAESTRO_APPROVAL_TTL_HOURS (the App's variable): how long an approval through the API counts. */
function approvalTtlFrom(io: CliIo): number | undefined {
  const value = io.env.MAESTRO_APPROVAL_TTL_HOURS;
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,6}$/.test(value) || Number(value) === 0)
    throw new UsageError(
      `MAESTRO_APPROVAL_TTL_HOURS must be a whole number of hours above 0, got ${JSON.stringify(value)}`,
    );
  return Number(value) * 60 * 60 * 1000;
}

export function registerServer(program: Command, context: CliContext): void {
  program
    .command('server')
    .description('Run the control plane: the REST API, the worker and the GitHub App in one process')
    .option('--role <roles>', `comma-separated: ${ROLES.join(', ')}`, ROLES.join(','))
    .option('--port <port>', 'port to listen on', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'data directory (default MAESTRO_DATA_DIR or ~/.local/share/maestro)')
    .option('--secrets <file>', 'secrets file for runs (default <data-dir>/secrets.env)')
    .option('--policy <bundle>', 'policy bundle: default, off, or a bundle.tar.gz')
    .option('--runners <file>', 'runners config (default: MAESTRO_RUNNERS_CONFIG), see docs/runners.md')
    .option(
      '--concurrency <n>',
      'tasks this worker runs at once (default: MAESTRO_CONCURRENCY, else its run slots or the CPU count, whichever is more)',
    )
    .option('--worker-runs <n>', 'runs this worker executes at once (default: MAESTRO_WORKER_RUNS, else 32)')
    .option(
      '--public-url <url>',
      'where the console is reachable, for links in traces (default: MAESTRO_PUBLIC_URL)',
    )
    .option('--metrics-public', 'serve GET /metrics without a token (default: a token with metrics:read)')
    .addHelpText('after', HELP)
    .action(
      async (o: {
        role: string;
        port: string;
        host: string;
        dataDir?: string;
        secrets?: string;
        policy?: string;
        runners?: string;
        concurrency?: string;
        workerRuns?: string;
        publicUrl?: string;
        metricsPublic?: boolean;
      }) => {
        const { io } = context;
        const roles = parseRoles(o.role);
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--port ${o.port} is not a port`);
        const { role: _role, port: _port, host: _host, metricsPublic, concurrency, ...paths } = o;
        const parsed = parseConcurrency(concurrency);
        const flags = { ...paths, ...(parsed === undefined ? {} : { concurrency: parsed }) };
        const fromEnv = runtimeConfigFromEnv(io.env, { cwd: io.cwd, flags });
        // A worker executes the runs it claims, the App those it dispatches: both mostly wait.
        const config: RuntimeConfig =
          roles.has('worker') || roles.has('app') ? withExecutingConcurrency(fromEnv) : fromEnv;
        const teamsFile = teamsFileFrom(io);
        const runbooksFile = runbooksFileFrom(io);
        const approvalTtlMs = approvalTtlFrom(io);
        const logger = serverLogger(io);
        const opened = await openServerRuntime(config, roles, io, logger);
        // The same database as the runtime's store (MAESTRO_DATABASE_URL, or the data dir).
        const apiStore = await openApiStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
        const worker: Worker | undefined = roles.has('worker')
          ? startWorker(opened.runtime.engine, logger, {
              ...(config.workerRuns === undefined ? {} : { maxRuns: config.workerRuns }),
              ...wakeupsFrom(io),
              sweeps: false,
            })
          : undefined;
        // One approval sweeper per process whatever its roles (the App's, else this one), so a
        // deployment whose workers run elsewhere still times parked runs out; the sweep's lease
        // keeps it to one replica at a time.
        const sweeper = opened.sweeps
          ? undefined
          : startApprovalSweeper(() => opened.runtime.engine.sweepApprovals(), {
              logger,
              onSettled: () => worker?.wake(undefined, 'sweep'),
            });
        const server = await createApiServer({
          context: {
            runtime: opened.runtime,
            apiStore,
            clock: systemClock,
            logger,
            wake: (id) => worker?.wake(id),
            layouts: createPlanLayouts({ logger, store: apiStore }),
            ...(teamsFile ? { teamsFile } : {}),
            ...(runbooksFile ? { runbooksFile } : {}),
            ...(approvalTtlMs ? { approvalTtlMs } : {}),
          },
          api: roles.has('api'),
          metricsPublic: metricsPublic === true,
          ...(worker ? { worker } : {}),
          ...(opened.webhook ? { webhook: opened.webhook } : {}),
        });
        // The console (its pages and assets) with the API role: it uses only the API.
        if (roles.has('api')) await mountConsole(server, { logger });
        const url = await server.listen({ port, host: o.host });
        logger.info(
          { url, roles: [...roles], dataDir: config.dataDir, concurrency: config.concurrency },
          'maestro server listening',
        );
        await untilSignal();
        logger.info('shutting down: finishing runs in flight');
        await server.close();
        await sweeper?.close();
        await worker?.close();
        await opened.close();
        await apiStore.close();
      },
    );
}
