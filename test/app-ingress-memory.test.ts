import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandIn, type StandInSetup } from './github-standin/app-harness.ts';
import { spawnAppProcess } from './github-standin/app-process-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MiB = 1024 * 1024;
const DECLARED = 20 * MiB;
const SENT = 19 * MiB;
const BODIES = 6;

/** Resident set size of a process in bytes, from the kernel's own accounting. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Bytes the process has read through read(2)-like calls, sockets included. */
function bytesRead(pid: number): number {
  return Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
}

/** Opens a webhook POST declaring 20 MB, with a well-formed signature that is wrong, and sends 19 MB of it. */
async function unfinishedBody(port: number, index: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  socket.write(
    [
      'POST /api/github/webhooks HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${DECLARED}`,
      'X-GitHub-Event: push',
      `X-GitHub-Delivery: memory-${index}`,
      `X-Hub-Signature-256: sha256=${'ab'.repeat(32)}`,
      '',
      '',
    ].join('\r\n'),
  );
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < SENT; sent += chunk.length)
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  return socket;
}

describe('webhook ingress memory under unfinished, wrongly signed bodies', () => {
  let standIn: StandInSetup;
  let dataDir: string;
  let app: ChildProcess;
  let port: number;

  beforeAll(async () => {
    standIn = await startStandIn();
    dataDir = mkdtempSync(join(tmpdir(), 'maestro-ingress-memory-'));
    // Long enough that a loaded machine finishes sending before the deadline cuts bodies off.
    const started = await spawnAppProcess(standIn, dataDir, {
      app: { ingress: { bodyTimeoutMs: 300_000 } },
      waitMs: 60_000,
    });
    app = started.child;
    port = started.port ?? 0;
    expect(port, 'the app process started').toBeGreaterThan(0);
  });

  afterAll(async () => {
    app?.kill('SIGKILL');
    await standIn?.standin.stop();
    standIn?.repo.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('six unfinished 20 MB bodies grow the app process by at most a few MB, spooled 0600 and deleted when cut off', async () => {
    const pid = app.pid!;
    // Warm up the request path once so its code is loaded before the baseline.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const before = rss(pid);
    const readBefore = bytesRead(pid);
    const sockets = await Promise.all(Array.from({ length: BODIES }, (_, i) => unfinishedBody(port, i)));
    // The client's buffers drained; wait until the app itself has read all of it off its sockets.
    for (let i = 0; i < 1200 && bytesRead(pid) - readBefore < BODIES * SENT; i += 1) await sleep(50);
    expect(bytesRead(pid) - readBefore).toBeGreaterThanOrEqual(BODIES * SENT);
    const during = rss(pid);
    const growth = during - before;
    console.log(
      `app RSS before ${(before / MiB).toFixed(1)} MiB, with ${BODIES} bodies in flight ${(during / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB`,
    );
    // Below what one body sends (SENT, 19 MiB): a single body held in memory fails this. (8 MiB was measured
    // at 6.2–6.4 MiB of growth on a quiet machine and 9.2 MiB once in a full parallel suite, where
    // other processes' load delays the app's GC; that is allocator noise, not a buffered body.)
    expect(growth).toBeLessThan(16 * MiB);

    // The bytes went to private spool files under the data dir instead.
    const spool = join(dataDir, 'ingress-spool');
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    const files = readdirSync(spool);
    expect(files).toHaveLength(BODIES);
    for (const file of files) {
      const stat = statSync(join(spool, file));
      expect(stat.mode & 0o777).toBe(0o600);
      expect(stat.size).toBeGreaterThan(SENT - 2 * MiB);
    }

    for (const socket of sockets) socket.destroy();
    for (let i = 0; i < 200 && readdirSync(spool).length > 0; i += 1) await sleep(50);
    expect(readdirSync(spool)).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(existsSync(join(dataDir, 'github-app.sqlite'))).toBe(true);
  }, 120_000);
});
