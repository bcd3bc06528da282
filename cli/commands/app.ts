import type { Command } from 'commander';
import pino from 'pino';
import { baseEnvFrom } from '../../runners/index.ts';
import { resolveApprovalSigner, resolveSigner, signingConfigFromEnv } from '../../provenance/index.ts';
import { loadSecrets, resolveDataDir } from '../config.ts';
import type { CliContext } from '../context.ts';

const HELP = `
Configuration (environment, as probot reads it):
  APP_ID                      the GitHub App id (required)
  PRIVATE_KEY | PRIVATE_KEY_PATH  the app's private key, PEM or base64 / a .pem file (required)
  WEBHOOK_SECRET              the webhook secret (required: unsigned webhooks are refused)
  PORT, HOST                  where to listen (default 3000, 0.0.0.0)
  WEBHOOK_PATH                default /api/github/webhooks
  GHE_HOST, GHE_PROTOCOL      a GitHub Enterprise Server host (API at <protocol>://<host>/api/v3)
  MAESTRO_DATA_DIR            stores, signing key and secrets.env (or --data-dir)
  MAESTRO_RUN_UPDATE_INTERVAL_MS  at most one run check-run update per interval (default 5000)
  MAESTRO_FORK_RUNNER         none (default) or local: where fork pull-request code may run
  MAESTRO_DELIVERY_RETENTION_DAYS  days finished deliveries are kept to recognise replays (default 30)
  LOG_LEVEL                   default info

Endpoints: POST /api/github/webhooks, GET /healthz, GET /readyz. See docs/github-app.md.`;

export function registerApp(program: Command, context: CliContext): void {
  program
    .command('app')
    .description('Run the GitHub App: compile on push, approval gates, dispatch, check runs')
    .option('--data-dir <dir>', 'data directory (default MAESTRO_DATA_DIR or ~/.local/share/maestro)')
    .option('--secrets <file>', 'secrets file for trusted runs (default <data-dir>/secrets.env)')
    .addHelpText('after', HELP)
    .action(async (options: { dataDir?: string; secrets?: string }) => {
      // Loaded here, not at the top: probot and octokit take most of a second to import, and no
      // other command needs them.
      const { openAppRuntime, readAppConfig } = await import('../../app/index.ts');
      const { io } = context;
      const config = readAppConfig(io.env, io.cwd);
      const dataDir = resolveDataDir(options.dataDir, io);
      const logger = pino({ level: io.env.LOG_LEVEL ?? 'info' });
      const runtime = await openAppRuntime({
        appId: config.appId,
        privateKey: config.privateKey,
        webhookSecret: config.webhookSecret,
        webhookPath: config.webhookPath,
        baseUrl: config.baseUrl,
        dataDir,
        secrets: loadSecrets(options.secrets, dataDir, io),
        baseEnv: baseEnvFrom(io.env),
        forkRunner: config.forkRunner,
        runUpdateIntervalMs: config.runUpdateIntervalMs,
        ingressLimits: { retentionDays: config.deliveryRetentionDays },
        defaultApprovals: config.defaultApprovals,
        approvalTtlMs: config.approvalTtlMs,
        logger,
        // MAESTRO_SIGNING_KEY signs receipts, MAESTRO_APPROVAL_SIGNING_KEY approval attestations;
        // each falls back to its own development key in <data-dir>/keys/.
        signer: await resolveSigner(signingConfigFromEnv(io.env, dataDir)),
        approvalSigner: await resolveApprovalSigner(signingConfigFromEnv(io.env, dataDir)),
      });
      const port = await runtime.app.listen(config.port, config.host);
      logger.info(
        { port, webhookPath: config.webhookPath, baseUrl: config.baseUrl, dataDir },
        'maestro app listening',
      );
      if (runtime.signer.warning) logger.warn(runtime.signer.warning);
      if (runtime.approvalSigner.warning) logger.warn(`approvals: ${runtime.approvalSigner.warning}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      logger.info('shutting down: finishing accepted deliveries');
      await runtime.close();
    });
}
