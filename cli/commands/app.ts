import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type * as AppIndex from '../../app/index.ts';
import { runtimeConfigFromEnv, withExecutingConcurrency } from '../../runtime/index.ts';
import { appRuntimeOptions, serverLogger, untilSignal } from '../app-runtime-options.ts';
import { resolveDataDir } from '../config.ts';
import type { CliContext } from '../context.ts';

const HELP = `
Configuration (environment, as probot reads it; set variables win over <data-dir>/github-app.env):
  APP_ID                      the GitHub App id; without it (and without github-app.env) the app
                              serves probot's setup page on /probot and registers itself from
                              app.yml through GitHub's manifest flow (GH_ORG: for an organisation)
  PRIVATE_KEY | PRIVATE_KEY_PATH  the app's private key, PEM or base64 / a .pem file (required)
  WEBHOOK_SECRET              the webhook secret (required: unsigned webhooks are refused)
  PORT, HOST                  where to listen (default 3000, 0.0.0.0)
  WEBHOOK_PATH                default /api/github/webhooks
  GHE_HOST, GHE_PROTOCOL      a GitHub Enterprise Server host (API at <protocol>://<host>/api/v3)
  MAESTRO_DATA_DIR            stores, signing key and secrets.env (or --data-dir)
  MAESTRO_RUNNERS_CONFIG, MAESTRO_POLICY, MAESTRO_SIGNING_KEY, MAESTRO_DURABILITY, ...
                              the same runtime configuration as \`maestro run\` (docs/runtime.md):
                              a manifest's runner, policy and signing key are the same from a push
  MAESTRO_RUN_UPDATE_INTERVAL_MS  at most one run check-run update per interval (default 5000)
  MAESTRO_FORK_RUNNER         none (default) or local: where fork pull-request code may run
  MAESTRO_DELIVERY_RETENTION_DAYS  days finished deliveries are kept to recognise replays (default 30)
  WEBHOOK_PROXY_URL           development: pull webhooks from a smee-style relay (https://smee.io)
  LOG_LEVEL                   default info

Endpoints: POST /api/github/webhooks, GET /healthz, GET /readyz. See docs/github-app.md.`;

export function registerApp(program: Command, context: CliContext): void {
  program
    .command('app')
    .description('Run the GitHub App: compile on push, approval gates, dispatch, check runs')
    .option('--data-dir <dir>', 'data directory (default MAESTRO_DATA_DIR or ~/.local/share/maestro)')
    .option('--secrets <file>', 'secrets file for trusted runs (default <data-dir>/secrets.env)')
    .option(
      '--policy <bundle>',
      'policy bundle: default, off, or a bundle.tar.gz (default: MAESTRO_POLICY or default)',
    )
    .option('--runners <file>', 'runners config (default: MAESTRO_RUNNERS_CONFIG), see docs/runners.md')
    .addHelpText('after', HELP)
    .action(async (options: { dataDir?: string; secrets?: string; policy?: string; runners?: string }) => {
      // Loaded here, not at the top: probot and octokit take most of a second to import, and no
      // other command needs them.
      const app = await import('../../app/index.ts');
      const { io } = context;
      const logger = serverLogger(io);
      const setupDataDir = resolveDataDir(options.dataDir, io);
      mkdirSync(setupDataDir, { recursive: true, mode: 0o700 });
      const env = app.withStoredCredentials(io.env, setupDataDir);
      if (app.needsSetup(env)) return serveSetup(app, env, setupDataDir, io.cwd, logger);
      const config = app.readAppConfig(env, io.cwd);
      // The same reading of the environment as `maestro run`, so a push runs where the CLI would;
      // the slots of a process that executes runs and mostly waits on them, as a worker's.
      const runtimeConfig = withExecutingConcurrency(
        runtimeConfigFromEnv(io.env, { cwd: io.cwd, flags: options }),
      );
      const dataDir = runtimeConfig.dataDir;
      const runtime = await app.openAppRuntime({
        ...appRuntimeOptions(config, runtimeConfig, logger),
        // triggers.schedule fires in the long-running process (docs/github-app.md, "Schedules").
        schedules: {},
      });
      const port = await runtime.app.listen(config.port, config.host);
      logger.info(
        {
          port,
          webhookPath: config.webhookPath,
          baseUrl: config.baseUrl,
          dataDir,
          concurrency: runtimeConfig.concurrency,
        },
        'maestro app listening',
      );
      if (runtime.signer?.warning) logger.warn(runtime.signer.warning);
      if (runtime.approvalSigner.warning) logger.warn(`approvals: ${runtime.approvalSigner.warning}`);
      const proxy = config.webhookProxyUrl
        ? await app.startWebhookProxy({
            url: config.webhookProxyUrl,
            port,
            webhookPath: config.webhookPath,
            logger,
          })
        : undefined;
      await untilSignal();
      logger.info('shutting down: finishing accepted deliveries');
      await proxy?.stop();
      await runtime.close();
    });
}

type AppModule = typeof AppIndex;

/** Not a GitHub App yet: serve probot's setup flow until stopped (the next start uses the App). */
async function serveSetup(
  app: AppModule,
  env: Record<string, string | undefined>,
  dataDir: string,
  cwd: string,
  logger: Logger,
): Promise<void> {
  const setup = app.readSetupConfig(env);
  const appYmlPath = app.findAppYml(cwd);
  const server = app.createSetupServer({
    dataDir,
    appYmlPath,
    webhookPath: setup.webhookPath,
    githubUrl: setup.githubUrl,
    apiBaseUrl: setup.baseUrl,
    logger,
    ...(setup.org ? { org: setup.org } : {}),
    ...(setup.webhookProxyUrl ? { webhookProxyUrl: setup.webhookProxyUrl } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(setup.port, setup.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : setup.port;
  logger.warn(
    { port, appYml: appYmlPath, credentials: `${dataDir}/${app.CREDENTIALS_FILE}` },
    `APP_ID is not set: setup mode. Open http://localhost:${port}/probot to register the GitHub App, then restart`,
  );
  await untilSignal();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
