/**
 * Starts a real, private NATS server for one test file: Debian's nats-server
 * (scripts/setup/system-packages.sh) on a free port of 127.0.0.1, JetStream on with its store in
 * a temporary directory, and a user with a random password, so a client without it is refused.
 * `stop()` ends it and removes the directory. Fails loudly (never skips) when it is missing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

const BINARY = '/usr/sbin/nats-server';
const SETUP_HINT = 'run `bash scripts/setup/system-packages.sh` (installs nats-server)';

export interface NatsServer {
  /** nats://127.0.0.1:<port> (no credentials in it) */
  url: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export async function startNats(): Promise<NatsServer> {
  if (!existsSync(BINARY)) throw new Error(`nats-server is not installed at ${BINARY}: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-nats-'));
  const port = await freePort();
  const user = 'maestro';
  const password = randomBytes(18).toString('base64url');
  const child = spawn(
    BINARY,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '--user', user, '--pass', password],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes('Server is ready')) {
        child.stderr!.off('data', onData);
        child.stderr!.resume();
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`nats-server exited (${code}) before it was ready: ${log}`)),
    );
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    user,
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
