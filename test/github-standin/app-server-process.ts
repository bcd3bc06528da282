/**
 * A real `maestro server` process with the GitHub App configured against the stand-in (APP_ID,
 * its private key, the webhook secret, GHE_HOST pointing at the stand-in's API), with the roles
 * given: for tests of deployments whose roles run in separate replicas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait-for.ts';
import { SECRET, type StandInSetup } from './app-harness.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');

export interface AppServer {
  child: ChildProcess;
  url: string;
  dataDir: string;
  output(): string;
  /** SIGTERM, and the exit code once it has exited. */
  stop(): Promise<number | null>;
}

export async function startAppServer(
  setup: StandInSetup,
  roles: string,
  env: Record<string, string> = {},
): Promise<AppServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `maestro-${roles.replace(/,/g, '-')}-`));
  const keyPath = join(dataDir, 'app.pem');
  writeFileSync(keyPath, setup.privateKeyPem, { mode: 0o600 });
  const child = spawn(node, ['bin/maestro.ts', 'server', '--port', '0', '--role', roles], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      LANG: 'C.UTF-8',
      LOG_LEVEL: 'info',
      MAESTRO_DATA_DIR: dataDir,
      APP_ID: setup.appId,
      PRIVATE_KEY_PATH: keyPath,
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: new URL(setup.baseUrl).host,
      GHE_PROTOCOL: 'http',
      MAESTRO_RUN_UPDATE_INTERVAL_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = await waitFor(
    `maestro server --role ${roles} to listen`,
    () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1],
    { timeoutMs: 60_000, explain: () => output },
  );
  return {
    child,
    url,
    dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
