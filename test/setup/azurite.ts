/**
 * Starts a real Azurite blob service for one test file (the npm devDependency's `azurite-blob`),
 * on a free port of 127.0.0.1, in memory, with an account of the caller's own random key, so
 * Shared Key and SAS signatures are checked. `stop()` ends it (and waits until it has).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../helpers/free-port.ts';

export interface Azurite {
  account: string;
  /** The account key (base64), a secret. */
  key: string;
  /** http://127.0.0.1:<port>/<account>: the account's blob service URL. */
  endpoint: string;
  stop(): Promise<void>;
}

export async function startAzurite(account = 'maestrotest'): Promise<Azurite> {
  const key = randomBytes(32).toString('base64');
  const port = await freePort();
  const bin = new URL('../../node_modules/.bin/azurite-blob', import.meta.url).pathname;
  const child = spawn(
    bin,
    ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--skipApiVersionCheck'],
    { env: { ...process.env, AZURITE_ACCOUNTS: `${account}:${key}` }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('successfully listens')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`azurite exited ${code} before it listened`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    account,
    key,
    endpoint: `http://127.0.0.1:${port}/${account}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // In memory, nothing to flush; on SIGTERM it waits for idle keep-alive sockets (a minute).
      child.kill('SIGKILL');
      await exited;
    },
  };
}
