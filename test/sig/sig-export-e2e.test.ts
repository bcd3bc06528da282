/**
 * The delivery plan's own example (examples/sig-export: `uses: tasks/sig.export@1.0.0` with
 * `requestId`, `${secrets.SIG_INGEST_URL}` and `${workload.identity}`, under a policy with
 * purpose, authority and license) compiled and run by `maestro run` (local runner, sandboxed,
 * the default policy, signed receipts) against `maestro sig-dev-server` started as its own
 * process; what the server received is read back from it. The attack: the secret endpoint must
 * not reach any file of the data dir (stored inputs, logs, receipts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli-helpers.ts';
import { repoRoot } from '../helpers/action-step.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { filesHolding } from '../helpers/find-secret.ts';
import { freshKeyPairPem } from '../helpers/provenance-keys.ts';
import { createLocalKeySigner, createWorkloadIdentityIssuer } from '../../provenance/index.ts';

let server: ChildProcess;
let url: string;
// The receipts' key: it signs the run's workload identity, and the server is told its public half.
const keyDir = tempDir('maestro-sig-export-keys-');
const keys = freshKeyPairPem();
writeFileSync(join(keyDir, 'receipts.pem'), keys.privateKeyPem, { mode: 0o600 });
writeFileSync(join(keyDir, 'receipts.pub.pem'), keys.publicKeyPem);
beforeAll(async () => {
  const args = ['sig-dev-server', '--port', '0', '--workload-key', join(keyDir, 'receipts.pub.pem')];
  server = spawn(process.execPath, ['bin/maestro.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
  });
  let out = '';
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  while (!out.includes('\n')) await once(server.stdout!, 'data');
  url = out.split('\n')[0]!;
}, 60_000);
afterAll(async () => {
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await once(server, 'exit');
});

interface Received {
  records: Array<{ record: { id: string; payload: Record<string, unknown> } }>;
  claims: Array<{
    id: string;
    kind: string;
    statement: Record<string, unknown>;
    subject: { name: string };
    policy?: Record<string, string>;
  }>;
  violations: unknown[];
  identities: Array<{ claims: Record<string, unknown> }>;
  refusedIdentities: unknown[];
}

describe('the delivery plan example against maestro sig-dev-server', () => {
  it('maestro run exports the request: the disclosure claim and its event reach SIG; the secret URL is kept out of the data dir', async () => {
    const dir = tempDir('maestro-sig-export-');
    cpSync(join(repoRoot, 'examples', 'sig-export'), dir, { recursive: true });
    const dataDir = join(dir, 'data-dir');
    const run = await runCaptured(
      [
        'run',
        '.maestro/workflows/disclosure-export.yaml',
        '--data-dir',
        dataDir,
        '--param',
        'requestId=req-42',
      ],
      dir,
      {
        PATH: process.env.PATH,
        HOME: dir,
        MAESTRO_SECRET_SIG_INGEST_URL: url,
        MAESTRO_SIGNING_KEY: join(keyDir, 'receipts.pem'),
      },
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const received = (await (await fetch(`${url}/_dev/received`)).json()) as Received;
    expect(received.violations).toEqual([]);
    expect(received.claims).toHaveLength(1);
    const [claim] = received.claims;
    expect(claim).toMatchObject({
      kind: 'disclosure',
      subject: { name: 'request/req-42' },
      statement: { requestId: 'req-42' },
      // The workflow's spec.policy, passed by the engine (MAESTRO_POLICY_CONTEXT, ctx.policy): the example
      // does not repeat it in with:, and the claim still carries it.
      policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' },
    });
    expect(received.records.map((r) => r.record.id)).toEqual(['disclosure.exported.req-42']);
    expect(received.records[0]!.record.payload).toMatchObject({ claimId: claim!.id, requestId: 'req-42' });
    expect(filesHolding(dataDir, url), 'the secret SIG_INGEST_URL reached the data dir').toEqual([]);
    // SIG let the task in on its signed workload identity (the server verifies every request
    // against the receipts' public key), bound to this run, task, namespace and plan; the token,
    // a bearer credential, is redacted wherever the run is stored.
    const runIdOf = /run (r-[^ ]+) /.exec(run.stdout)![1]!;
    expect(received.refusedIdentities).toEqual([]);
    expect(received.identities.length).toBeGreaterThan(0);
    for (const { claims } of received.identities)
      expect(claims).toMatchObject({
        aud: 'sig',
        runId: runIdOf,
        task: 'export_bundle',
        namespace: 'legal',
        workflow: 'disclosure-export',
        planDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      });
    expect(filesHolding(dataDir, 'mwi1.'), 'a workload identity reached the data dir').toEqual([]);
    expect(filesHolding(dataDir, claim!.id).length).toBeGreaterThan(0); // the search sees outputs

    // The run's receipts, linked to the claim its task made, read back from SIG by claim id.
    // The operator's CLI is no workload: it presents MAESTRO_SECRET_SIG_TOKEN, here a token the
    // holder of the receipts' key signed for it.
    const operator = await createWorkloadIdentityIssuer({
      signer: createLocalKeySigner({ privateKeyPem: keys.privateKeyPem }),
    })!({
      runId: 'operator',
      task: 'sig-link-receipts',
      namespace: 'legal',
      workflow: 'cli',
      planDigest: '',
    });
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      MAESTRO_SECRET_SIG_INGEST_URL: url,
      MAESTRO_SECRET_SIG_TOKEN: operator,
    };
    const runId = /run (r-[^ ]+) /.exec(run.stdout)![1]!;
    const link = await runCaptured(
      ['sig-link-receipts', runId, '--data-dir', dataDir, '--format', 'json'],
      dir,
      env,
    );
    expect(link.code, link.stderr).toBe(0);
    const listed = await runCaptured(
      ['receipts', runId, '--data-dir', dataDir, '--format', 'json'],
      dir,
      env,
    );
    const receipts = (JSON.parse(listed.stdout) as { receipts: Array<{ taskId: string; digest: string }> })
      .receipts;
    const mine = receipts.filter((r) => r.taskId === 'export_bundle');
    expect(mine.length).toBeGreaterThan(0);
    const read = (await (
      await fetch(`${url}/v3/claims/${encodeURIComponent(claim!.id)}`, {
        headers: { authorization: `Bearer ${operator}` },
      })
    ).json()) as {
      receipts: Array<{ digest: string; runId: string; taskId: string }>;
    };
    for (const r of receipts)
      expect(read.receipts).toContainEqual(
        expect.objectContaining({
          runId,
          taskId: 'export_bundle',
          digest: expect.stringContaining(r.digest.replace(/^sha256:/, '')),
        }),
      );
    const again = await runCaptured(['sig-link-receipts', runId, '--data-dir', dataDir], dir, env);
    expect(again.code).toBe(0);
    const reread = (await (
      await fetch(`${url}/v3/claims/${encodeURIComponent(claim!.id)}`, {
        headers: { authorization: `Bearer ${operator}` },
      })
    ).json()) as {
      receipts: unknown[];
    };
    expect(reread.receipts).toHaveLength(read.receipts.length); // linking again adds nothing
  }, 180_000);
});
