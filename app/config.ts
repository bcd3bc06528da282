import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppConfigError } from './errors.ts';
import { DEFAULT_DELIVERY_RETENTION_DAYS } from './ingress/index.ts';
import { readCredentials } from './setup/index.ts';

/** Everything `maestro app` needs, read once from the environment by the surface. */
export interface AppConfig {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  port: number;
  host: string;
  webhookPath: string;
  /** REST base URL: https://api.github.com, or `<protocol>://<GHE_HOST>/api/v3`. */
  baseUrl: string;
  /** Milliseconds between coalesced run check-run updates. */
  runUpdateIntervalMs: number;
  /** The runner fork pull requests may use: `none` (default: fork code never runs) or `local`. */
  forkRunner: string;
  /** Days finished webhook deliveries (ids and body digests, the replay guard) are kept. */
  deliveryRetentionDays: number;
  /** Approvals a head-only workflow with secrets or privileged runners needs (default 1). */
  defaultApprovals: number;
  /** How long an approval and its attestation stay valid, in ms (default 7 days). */
  approvalTtlMs: number;
  /** A smee-style relay to pull webhooks from (WEBHOOK_PROXY_URL, development). */
  webhookProxyUrl?: string;
}

/** What `maestro app` needs before it is a GitHub App (no APP_ID): the manifest flow's settings. */
export interface SetupConfig {
  port: number;
  host: string;
  webhookPath: string;
  /** GitHub's web address, where the manifest is posted: https://github.com or the GHE host. */
  githubUrl: string;
  /** The REST API the manifest code is converted at. */
  baseUrl: string;
  /** Probot's GH_ORG: register the App under this organisation. */
  org?: string;
  webhookProxyUrl?: string;
}

/**
 * The environment over `<data-dir>/github-app.env` (what the manifest flow wrote; 0600, refused
 * when others can read it): a variable that is set wins over the file, as with probot's .env.
 */
export function withStoredCredentials(
  env: Record<string, string | undefined>,
  dataDir: string,
): Record<string, string | undefined> {
  const stored = readCredentials(dataDir);
  const merged: Record<string, string | undefined> = { ...stored };
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') merged[name] = value;
  return merged;
}

/** True when the App is not registered yet: `maestro app` then serves the setup flow. */
export function needsSetup(env: Record<string, string | undefined>): boolean {
  return (env.APP_ID ?? '') === '';
}

export function readSetupConfig(env: Record<string, string | undefined>): SetupConfig {
  const baseUrl = readBaseUrl(env);
  const proxy = readWebhookProxyUrl(env);
  return {
    port: readInteger(env, 'PORT', 3000),
    host: env.HOST ?? '0.0.0.0',
    webhookPath: env.WEBHOOK_PATH ?? DEFAULT_WEBHOOK_PATH,
    githubUrl: env.GHE_HOST ? baseUrl.slice(0, -'/api/v3'.length) : 'https://github.com',
    baseUrl,
    ...(env.GH_ORG ? { org: env.GH_ORG } : {}),
    ...(proxy ? { webhookProxyUrl: proxy } : {}),
  };
}

export const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

/**
 * Reads probot's variables (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT,
 * GHE_HOST, GHE_PROTOCOL, WEBHOOK_PATH, HOST) and Maestro's (MAESTRO_RUN_UPDATE_INTERVAL_MS,
 * MAESTRO_FORK_RUNNER, MAESTRO_DELIVERY_RETENTION_DAYS, MAESTRO_DEFAULT_APPROVALS,
 * MAESTRO_APPROVAL_TTL_HOURS; the data dir and secrets are the CLI's, shared with `maestro run`).
 * Each refusal names the variable to set.
 */
export function readAppConfig(env: Record<string, string | undefined>, cwd: string): AppConfig {
  const webhookSecret = env.WEBHOOK_SECRET ?? '';
  if (webhookSecret === '')
    throw new AppConfigError(
      'WEBHOOK_SECRET',
      'WEBHOOK_SECRET is not set: the app refuses to accept unsigned webhooks',
      { hint: 'set WEBHOOK_SECRET to the webhook secret configured in the GitHub App settings' },
    );
  const appId = env.APP_ID ?? '';
  readAppId(appId);
  return {
    appId,
    privateKey: readPrivateKey(env, cwd),
    webhookSecret,
    port: readInteger(env, 'PORT', 3000),
    host: env.HOST ?? '0.0.0.0',
    webhookPath: env.WEBHOOK_PATH ?? DEFAULT_WEBHOOK_PATH,
    baseUrl: readBaseUrl(env),
    runUpdateIntervalMs: readInteger(env, 'MAESTRO_RUN_UPDATE_INTERVAL_MS', 5000),
    forkRunner: readForkRunner(env.MAESTRO_FORK_RUNNER),
    deliveryRetentionDays: readRetentionDays(env),
    defaultApprovals: readPositive(env, 'MAESTRO_DEFAULT_APPROVALS', 1),
    approvalTtlMs: readPositive(env, 'MAESTRO_APPROVAL_TTL_HOURS', 168) * 60 * 60 * 1000,
    ...withProxy(readWebhookProxyUrl(env)),
  };
}

/**
 * The App's numeric id from APP_ID (or github-app.env), checked wherever the App starts (the CLI
 * and createMaestroApp, which servers and tests call directly): `Number('abc')` is NaN, which
 * probot would carry into every JWT and the App's own-comment check, failing far from the cause.
 */
export function readAppId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw))
    throw new AppConfigError(
      'APP_ID',
      `APP_ID must be the numeric GitHub App id, got ${JSON.stringify(raw)}`,
      {
        hint: 'copy the App ID from the app settings page (General → About)',
      },
    );
  return Number(raw);
}

function withProxy(url: string | undefined): { webhookProxyUrl?: string } {
  return url ? { webhookProxyUrl: url } : {};
}

function readWebhookProxyUrl(env: Record<string, string | undefined>): string | undefined {
  const raw = env.WEBHOOK_PROXY_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!URL.canParse(raw) || !['http:', 'https:'].includes(new URL(raw).protocol))
    throw new AppConfigError(
      'WEBHOOK_PROXY_URL',
      `WEBHOOK_PROXY_URL must be an http(s) URL, got ${JSON.stringify(raw)}`,
      {
        hint: 'create a channel at https://smee.io and use its URL, or unset WEBHOOK_PROXY_URL',
      },
    );
  return raw;
}

function readPrivateKey(env: Record<string, string | undefined>, cwd: string): string {
  if (env.PRIVATE_KEY) {
    const text = env.PRIVATE_KEY.includes('-----BEGIN')
      ? env.PRIVATE_KEY
      : Buffer.from(env.PRIVATE_KEY, 'base64').toString('utf8');
    if (!text.includes('PRIVATE KEY-----'))
      throw new AppConfigError('PRIVATE_KEY', 'PRIVATE_KEY is neither a PEM private key nor base64 of one');
    return text.replaceAll('\\n', '\n');
  }
  if (env.PRIVATE_KEY_PATH) {
    try {
      return readFileSync(resolve(cwd, env.PRIVATE_KEY_PATH), 'utf8');
    } catch (cause) {
      throw new AppConfigError(
        'PRIVATE_KEY_PATH',
        `PRIVATE_KEY_PATH ${JSON.stringify(env.PRIVATE_KEY_PATH)} cannot be read: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  throw new AppConfigError('PRIVATE_KEY', 'neither PRIVATE_KEY nor PRIVATE_KEY_PATH is set', {
    hint: 'download a private key from the app settings page and set PRIVATE_KEY_PATH to its file',
  });
}

function readBaseUrl(env: Record<string, string | undefined>): string {
  if (!env.GHE_HOST) return 'https://api.github.com';
  const protocol = env.GHE_PROTOCOL ?? 'https';
  if (protocol !== 'https' && protocol !== 'http')
    throw new AppConfigError(
      'GHE_PROTOCOL',
      `GHE_PROTOCOL must be https or http, got ${JSON.stringify(protocol)}`,
    );
  return `${protocol}://${env.GHE_HOST}/api/v3`;
}

function readInteger(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw))
    throw new AppConfigError(name, `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** At least a day: a replayed body is recognised only while its digest is kept. */
function readRetentionDays(env: Record<string, string | undefined>): number {
  const days = readInteger(env, 'MAESTRO_DELIVERY_RETENTION_DAYS', DEFAULT_DELIVERY_RETENTION_DAYS);
  if (days < 1)
    throw new AppConfigError(
      'MAESTRO_DELIVERY_RETENTION_DAYS',
      'MAESTRO_DELIVERY_RETENTION_DAYS must be at least 1: deliveries are recognised as replays only while kept',
      { hint: `leave it unset for the default of ${DEFAULT_DELIVERY_RETENTION_DAYS} days` },
    );
  return days;
}

/** A gate setting: 0 would switch the gate off, so it is refused (fail closed). */
function readPositive(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = readInteger(env, name, fallback);
  if (value < 1)
    throw new AppConfigError(name, `${name} must be at least 1, got ${value}`, {
      hint: 'the approval gate cannot be switched off by configuration',
    });
  return value;
}

function readForkRunner(raw: string | undefined): string {
  const value = raw ?? 'none';
  if (value !== 'none' && value !== 'local')
    throw new AppConfigError(
      'MAESTRO_FORK_RUNNER',
      `MAESTRO_FORK_RUNNER must be none or local, got ${JSON.stringify(value)}`,
      {
        hint: 'fork code runs without secrets; use local only on a machine dedicated to untrusted code',
      },
    );
  return value;
}
