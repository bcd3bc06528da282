/**
 * tasks/grpc and tasks/kafka through `maestro run` (local runner, sandboxed, the real policy,
 * signed receipts), each against a real peer started here: a @grpc/grpc-js server behind TLS with
 * a certificate of a throw-away CA (test/helpers/test-ca.ts) whose CA file is in the source, and
 * the real Kafka broker (test/setup/kafka-broker.ts). `place` calls the service with a bearer
 * token from a secret; `publish` produces its answer over SASL_SSL (SCRAM-SHA-512, the broker's
 * CA from a secret); `read` consumes it through a consumer group on the plaintext listener, which
 * commits it. The attack: neither the token nor the Kafka password appears in any file of the
 * data dir (logs, outputs, stored inputs, receipts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpcJs from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { makeTestCa, type TestCa } from './helpers/test-ca.ts';
import { startKafka, type KafkaBroker } from './setup/kafka-broker.ts';

const PROTO = `syntax = "proto3";
package demo.orders;
message PlaceOrder { string item = 1; }
message Placed { string id = 1; string item = 2; }
service Orders { rpc Place (PlaceOrder) returns (Placed); }
`;
const TOKEN = 'Bearer orders-token-5be1c0d2';

const workflow = (grpcUrl: string, tlsBroker: string, plainBroker: string) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: orders, namespace: demo }
spec:
  defaults: { runner: local, timeout: 120s }
  tasks:
    - id: place
      uses: tasks/grpc@1
      env: { GRPC_AUTH: "\${secrets.ORDERS_TOKEN}" }
      with:
        url: "${grpcUrl}"
        caFile: certs/ca.pem
        service: demo.orders.Orders
        method: Place
        protoFiles: [protos/orders.proto]
        request: { item: book }
        metadataSecrets: { authorization: GRPC_AUTH }
        idempotencyKey: "\${run.id}/place"
    - id: publish
      needs: [place]
      uses: tasks/kafka@1
      env:
        KAFKA_USERNAME: maestro
        KAFKA_PASSWORD: "\${secrets.KAFKA_PASSWORD}"
        KAFKA_CA: "\${secrets.KAFKA_CA}"
      with:
        operation: produce
        brokers: ["${tlsBroker}"]
        tls: true
        caSecret: KAFKA_CA
        sasl: scram-sha-512
        topic: orders
        messages: [{ key: placed, value: "\${tasks.place.outputs.response}" }]
        idempotencyKey: "\${run.id}/orders"
    - id: read
      needs: [publish]
      uses: tasks/kafka@1
      with: { operation: consume, brokers: ["${plainBroker}"], topic: orders, groupId: audit, count: 1, idleMs: 3000 }
`;

let ca: TestCa;
let server: grpcJs.Server;
let broker: KafkaBroker;
let dir: string;
const seenAuth: string[] = [];

beforeAll(async () => {
  dir = tempDir('maestro-grpc-kafka-e2e-');
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  mkdirSync(join(dir, 'protos'));
  mkdirSync(join(dir, 'certs'));
  writeFileSync(join(dir, 'protos', 'orders.proto'), PROTO);
  ca = makeTestCa();
  writeFileSync(join(dir, 'certs', 'ca.pem'), ca.caPem);
  server = new grpcJs.Server();
  const loaded = grpcJs.loadPackageDefinition(loadSync(join(dir, 'protos', 'orders.proto'))) as unknown as {
    demo: { orders: { Orders: { service: grpcJs.ServiceDefinition } } };
  };
  server.addService(loaded.demo.orders.Orders.service, {
    Place(call: grpcJs.ServerUnaryCall<{ item: string }, unknown>, done: grpcJs.sendUnaryData<unknown>) {
      seenAuth.push(String(call.metadata.get('authorization')[0] ?? ''));
      done(null, { id: 'order-1', item: call.request.item });
    },
  });
  const creds = grpcJs.ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(ca.certPem), private_key: Buffer.from(ca.keyPem) }],
    false,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  broker = await startKafka();
  const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  writeFileSync(
    join(dir, '.maestro', 'workflows', 'orders.yaml'),
    workflow(`https://127.0.0.1:${port}`, broker.tlsBroker, broker.broker),
  );
}, 180_000);
afterAll(async () => {
  server?.forceShutdown();
  ca?.remove();
  await broker?.stop();
}, 60_000);

describe('grpc and kafka in one run (maestro run, local runner, real peers)', () => {
  it('calls over TLS with a secret token, produces the answer over SASL_SSL, consumes it; no secret in the data dir', async () => {
    const dataDir = join(dir, 'data-dir');
    const run = await runCaptured(['run', '.maestro/workflows/orders.yaml', '--data-dir', dataDir], dir, {
      PATH: process.env.PATH,
      HOME: dir,
      MAESTRO_SECRET_ORDERS_TOKEN: TOKEN,
      MAESTRO_SECRET_KAFKA_PASSWORD: broker.password,
      MAESTRO_SECRET_KAFKA_CA: broker.caPem,
    });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(seenAuth).toEqual([TOKEN]);

    // The message is on the topic, and the group committed it (the consume's commit).
    const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect((await admin.fetchTopicOffsets('orders'))[0]?.high).toBe('1');
      const [group] = await admin.fetchOffsets({ groupId: 'audit', topics: ['orders'] });
      expect(group?.partitions[0]?.offset).toBe('1');
    } finally {
      await admin.disconnect();
    }
    // What the run kept holds the answer (an output) but neither secret.
    expect(filesHolding(dataDir, 'order-1').length).toBeGreaterThan(0);
    for (const secret of [TOKEN.slice('Bearer '.length), broker.password])
      expect(filesHolding(dataDir, secret), 'a secret reached the data dir').toEqual([]);
  }, 240_000);
});
