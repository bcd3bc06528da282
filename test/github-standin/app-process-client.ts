/**
 * The App as a separate process (app-process.ts), for tests that kill it: start it on the stand-in
 * with a data dir and wait for its port, and post it a signed push the way GitHub would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pointAtStandIn, pushPayload, SECRET, type StandInSetup } from './app-harness.ts';
import { signedDelivery } from './webhooks.ts';

const root = join(import.meta.dirname, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AppProcess {
  child: ChildProcess;
  /** The port it listens on; undefined when it did not start in time. */
  port: number | undefined;
}

/**
 * Spawns the App on the stand-in and waits (up to `waitMs`) for its "listening <port>" line.
 * `app` adds to the runtime options app-process.ts reads; `env` to its environment.
 */
export async function spawnAppProcess(
  standIn: StandInSetup,
  dataDir: string,
  options: { app?: Record<string, unknown>; env?: Record<string, string>; waitMs?: number } = {},
): Promise<AppProcess> {
  const child = spawn(node, [join(root, 'test/github-standin/app-process.ts')], {
    env: {
      ...process.env,
      ...options.env,
      MAESTRO_TEST_APP: JSON.stringify({
        appId: standIn.appId,
        privateKeyPem: standIn.privateKeyPem,
        baseUrl: standIn.baseUrl,
        dataDir,
        ...options.app,
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  while (!/listening \d+/.test(out) && Date.now() < deadline && child.exitCode === null) await sleep(50);
  const port = /listening (\d+)/.exec(out)?.[1];
  return { child, port: port === undefined ? undefined : Number(port) };
}

/** Posts a signed push of `sha` to main, by carol, and returns the App's HTTP status. */
export async function postSignedPush(port: number, standIn: StandInSetup, sha: string): Promise<number> {
  const delivery = signedDelivery(
    SECRET,
    'push',
    pointAtStandIn(
      pushPayload({ ref: 'refs/heads/main', before: '0'.repeat(40), after: sha, pusher: 'carol' }),
      standIn.standin,
    ),
    randomUUID(),
  );
  const response = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
    method: 'POST',
    body: delivery.body,
    headers: delivery.headers,
  });
  return response.status;
}
