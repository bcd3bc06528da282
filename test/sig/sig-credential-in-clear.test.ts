/**
 * The attack: the SIG bearer (`${workload.identity}` or the secret SIG_TOKEN) sent over plain
 * http:// to a host beyond loopback, where anyone on the path reads it. The SIG reference server
 * listens on this machine's non-loopback address and records the Authorization it sees: against
 * the old clients it saw the bearer from every task and client below. Now every SIG client
 * refuses before a byte is sent (`credential_in_clear`); loopback http and a bearer-less request
 * still go.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';
import { runTask } from '../../sdk/index.ts';
import { ingestBatches, ingestStream, openClaimsClient, triggerRunbook } from '../../sig/index.ts';
import { sigExport } from '../../tasks/sig.export/index.ts';
import { sigIngest } from '../../tasks/sig.ingest/index.ts';

/** This machine's first non-loopback IPv4 address: a server there is "another host". */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

let remote: SigDevServer;
let local: SigDevServer;
let remoteUrl = '';
let localUrl = '';
const seen: Array<{ server: string; request: string; auth: string | undefined }> = [];
const watch = (server: SigDevServer, name: string) =>
  server.app.addHook(
    'onRequest',
    async (req) =>
      void seen.push({ server: name, request: `${req.method} ${req.url}`, auth: req.headers.authorization }),
  );

beforeAll(async () => {
  expect(lanAddress, 'this machine has no non-loopback address for the witness').toBeDefined();
  remote = createSigDevServer();
  local = createSigDevServer();
  watch(remote, 'remote');
  watch(local, 'local');
  remoteUrl = await remote.listen(0, lanAddress);
  localUrl = await local.listen();
});
afterAll(async () => {
  await Promise.all([remote?.close(), local?.close()]);
});
beforeEach(() => void (seen.length = 0));

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    kind: 'metric' as const,
    occurredAt: '2026-02-01T03:00:00Z',
    payload: { i },
  }));
const refusal = (host: string) =>
  new RegExp(
    `the bearer token would go to ${host.replace(/\./g, '\\.')} in clear over http://: use https://`,
  );

describe('the SIG bearer over plain http:// beyond loopback', () => {
  it('the attack: sig.ingest (batches and stream, identity or SIG_TOKEN) and sig.export refuse before sending', async () => {
    const runs = [
      await runTask(sigIngest, {
        endpoint: remoteUrl,
        identity: 'wl-token-batch',
        records: records(3),
        idempotencyKey: 'clear-0001',
      }),
      await runTask(sigIngest, {
        endpoint: remoteUrl,
        identity: 'wl-token-stream',
        mode: 'stream',
        version: 3,
        records: records(3),
        idempotencyKey: 'clear-0002',
      }),
      await runTask(
        sigIngest,
        { records: records(3), idempotencyKey: 'clear-0003', version: 3 },
        { secrets: { SIG_INGEST_URL: remoteUrl, SIG_TOKEN: 'secret-token-env' } },
      ),
      await runTask(sigExport, { requestId: 'req-clear', endpoint: remoteUrl, identity: 'wl-token-export' }),
    ];
    // Against the old clients the server saw every one of the four bearers.
    expect(seen.map((s) => s.auth).filter(Boolean)).toEqual([]);
    for (const run of runs) {
      expect(run.outcome).toBe('failed');
      expect(run.error).toMatchObject({ code: 'credential_in_clear', fault: 'user', retryable: false });
      expect(String((run.error as Error).message)).toMatch(refusal(lanAddress!));
    }
    expect(seen).toEqual([]);
  });

  it('the attack: every SIG client (batch, stream, claims, runbook trigger) refuses before sending', async () => {
    const conn = { baseUrl: remoteUrl, token: 'client-token', retry: { limit: 0 } };
    const sent = records(2).map((r) => ({ ...r, producer: { name: 'test' } }));
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['ingestBatches', () => ingestBatches(conn, sent, { idempotencyKey: 'clear-c1' })],
      ['ingestStream', () => ingestStream(conn, sent, { streamId: 'clear-c2', version: 3 })],
      [
        'claims',
        async () =>
          (await openClaimsClient(conn, 3)).register({
            idempotencyKey: 'clear-c3',
            subject: { name: 'x', digest: `sha256:${'b'.repeat(64)}` },
            kind: 'disclosure',
            statement: {},
          }),
      ],
      [
        'triggerRunbook',
        () =>
          triggerRunbook(
            conn,
            { namespace: 'ns', name: 'rb' },
            { correlationId: 'c-1', purpose: 'audit', authority: 'legal:ombuds', license: 'internal' },
          ),
      ],
    ];
    const outcomes = await Promise.allSettled(attempts.map(([, attempt]) => attempt()));
    expect(seen.map((s) => s.auth).filter(Boolean)).toEqual([]);
    for (const [i, outcome] of outcomes.entries())
      expect(outcome, attempts[i]![0]).toMatchObject({
        status: 'rejected',
        reason: { code: 'credential_in_clear', retryable: false },
      });
    expect(seen).toEqual([]);
  });

  it('without a bearer the same server is reached, and to loopback the bearer still goes', async () => {
    const bare = await runTask(sigIngest, {
      endpoint: remoteUrl,
      records: records(2),
      idempotencyKey: 'clear-0004',
    });
    expect(bare.outcome, String(bare.error)).toBe('succeeded');
    const loopback = await runTask(sigIngest, {
      endpoint: localUrl,
      identity: 'wl-token-local',
      records: records(2),
      idempotencyKey: 'clear-0005',
    });
    expect(loopback.outcome, String(loopback.error)).toBe('succeeded');
    expect(seen.filter((s) => s.server === 'remote').map((s) => s.auth)).toEqual(
      seen.filter((s) => s.server === 'remote').map(() => undefined),
    );
    expect(seen.filter((s) => s.server === 'remote').length).toBeGreaterThan(0);
    expect(new Set(seen.filter((s) => s.server === 'local').map((s) => s.auth))).toEqual(
      new Set(['Bearer wl-token-local']),
    );
  });
});
