/**
 * Three reference tasks in one workflow through `maestro run` (local runner, sandboxed, the real
 * policy, signed receipts), each against a real server started here: blob puts a file of the
 * source into gofakes3 (S3 over HTTP), nats publishes its digest to a JetStream stream of
 * Debian's nats-server (deduplicated by msgId), notify posts to a Slack-compatible webhook
 * receiver. Each holds a secret passed in env:: the S3 secret key, the NATS password and the
 * webhook URL's token. The attack: none of them may appear in any file of the data dir (logs,
 * outputs, stored inputs, receipts).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { startNats, type NatsServer } from './setup/nats-server.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';

const REPORT = 'region,total\nnorth,12\nsouth,30\n';
const HOOK_TOKEN = 'T0001/B0001/hooktoken9d3f1a7c';
const workflow = (s3: string, nats: string) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: publish-report, namespace: demo }
spec:
  defaults: { runner: local, timeout: 60s }
  tasks:
    - id: upload
      uses: tasks/blob@1
      env:
        AWS_ACCESS_KEY_ID: "\${secrets.S3_KEY}"
        AWS_SECRET_ACCESS_KEY: "\${secrets.S3_SECRET}"
      with: { operation: put, bucket: reports, key: daily/report.csv, file: data/report.csv, endpoint: "${s3}" }
    - id: publish
      needs: [upload]
      uses: tasks/nats@1
      env: { NATS_USER: maestro, NATS_PASSWORD: "\${secrets.NATS_PASSWORD}" }
      with:
        operation: jetstream-publish
        servers: ["${nats}"]
        subject: reports.daily
        json: { key: daily/report.csv, sha256: "\${tasks.upload.outputs.sha256}" }
        msgId: "\${run.id}/report"
    - id: announce
      needs: [publish]
      uses: tasks/notify@1
      env: { SLACK_WEBHOOK_URL: "\${secrets.SLACK_WEBHOOK_URL}" }
      with: { text: "report \${tasks.upload.outputs.sha256} is message \${tasks.publish.outputs.seq}", idempotencyKey: "\${run.id}/announce" }
`;

let s3: S3Server;
let nats: NatsServer;
let peer: NatsConnection;
let dir: string;
let hookUrl: string;
const posted: unknown[] = [];
const receiver = createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    if (req.url !== `/services/${HOOK_TOKEN}`) return void res.writeHead(404).end('no_service');
    posted.push(JSON.parse(text));
    res.writeHead(200).end('ok');
  });
});

beforeAll(async () => {
  [s3, nats] = await Promise.all([startS3Server('reports'), startNats()]);
  peer = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
  await (await jetstreamManager(peer)).streams.add({ name: 'REPORTS', subjects: ['reports.>'] });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/${HOOK_TOKEN}`;
  dir = tempDir('maestro-reference-e2e-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'report.csv'), REPORT);
  writeFileSync(join(dir, '.maestro', 'workflows', 'publish.yaml'), workflow(s3.endpoint, nats.url));
}, 60_000);
afterAll(async () => {
  await peer?.close();
  await Promise.all([s3?.stop(), nats?.stop(), new Promise((r) => receiver.close(r))]);
});

describe('blob, nats and notify in one run (maestro run, local runner, real servers)', () => {
  it('uploads, publishes the digest once, announces it; no secret in any file of the data dir', async () => {
    const dataDir = join(dir, 'data-dir');
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      MAESTRO_SECRET_S3_KEY: s3.credentials.accessKeyId,
      MAESTRO_SECRET_S3_SECRET: s3.credentials.secretAccessKey,
      MAESTRO_SECRET_NATS_PASSWORD: nats.password,
      MAESTRO_SECRET_SLACK_WEBHOOK_URL: hookUrl,
    };
    const run = await runCaptured(
      ['run', '.maestro/workflows/publish.yaml', '--data-dir', dataDir],
      dir,
      env,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const sha256 = createHash('sha256').update(REPORT).digest('hex');

    const object = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: 'reports', Key: 'daily/report.csv' }));
    expect(await object.Body!.transformToString()).toBe(REPORT);
    const stored = await (await jetstreamManager(peer)).streams.getMessage('REPORTS', { seq: 1 });
    expect(stored!.json()).toEqual({ key: 'daily/report.csv', sha256 });
    expect(posted).toEqual([{ text: `report ${sha256} is message 1` }]);

    // The search does see what the run kept: the digest (an output) is in the store's files.
    expect(filesHolding(dataDir, sha256).length).toBeGreaterThan(0);
    for (const secret of [s3.credentials.secretAccessKey, nats.password, HOOK_TOKEN])
      expect(filesHolding(dataDir, secret), 'a secret reached the data dir').toEqual([]);
  }, 120_000);
});
