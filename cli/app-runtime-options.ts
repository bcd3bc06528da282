/**
 * What `maestro app` and the app role of `maestro server` both need to start the GitHub App:
 * its runtime options from its configuration, a logger, and a wait for the stop signal. One copy,
 * so the two commands cannot drift in what they pass the App.
 */
import pino, { type Logger } from 'pino';
import type { AppConfig, AppRuntimeOptions } from '../app/index.ts';
import type { RuntimeConfig } from '../runtime/index.ts';
import type { CliIo } from './io.ts';

/** The App's runtime options from readAppConfig's result and the runtime configuration. */
export function appRuntimeOptions(app: AppConfig, runtime: RuntimeConfig, logger: Logger): AppRuntimeOptions {
  return {
    appId: app.appId,
    privateKey: app.privateKey,
    webhookSecret: app.webhookSecret,
    webhookPath: app.webhookPath,
    baseUrl: app.baseUrl,
    runtime,
    forkRunner: app.forkRunner,
    runUpdateIntervalMs: app.runUpdateIntervalMs,
    ingressLimits: { retentionDays: app.deliveryRetentionDays },
    defaultApprovals: app.defaultApprovals,
    approvalTtlMs: app.approvalTtlMs,
    logger,
  };
}

/** The long-running commands' logger: LOG_LEVEL (as probot reads it), default info. */
export function serverLogger(io: CliIo): Logger {
  return pino({ level: io.env.LOG_LEVEL ?? 'info' });
}

/** Resolves on the first SIGINT or SIGTERM: a long-running command then closes what it opened. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
