// tasks/kafka in-process (runTask) against a real Apache Kafka broker in KRaft mode, run from
// Maven Central's jars on the machine's Java (test/setup/kafka-broker.ts, scripts/setup/kafka.sh):
// produce with headers and the idempotency key, consume through a consumer group that continues
// where it committed, SASL credentials from secrets (a wrong password refused, quoted nowhere),
// a retried produce that sends nothing again; TLS with the broker's private CA (PLAIN and SCRAM),
// SASL never in clear beyond loopback (a listener advertised at this machine's non-loopback
// address is the attacker's broker), and a commit that follows the checkpoint (a failure just
// after it, injected at kafkajs's commitOffsets, loses no record).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { runTask } from '../../sdk/index.ts';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { startKafka, type KafkaBroker } from '../../test/setup/kafka-broker.ts';
import { kafka } from './index.ts';

let broker: KafkaBroker;
const spans = recordTaskSpans();
beforeAll(async () => {
  broker = await startKafka();
  const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'orders', numPartitions: 1 },
      { topic: 'audit', numPartitions: 1 },
      { topic: 'ledger', numPartitions: 1 },
      { topic: 'spans', numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
}, 180_000);
afterAll(async () => broker?.stop(), 60_000);
const workspace = mkdtempSync(join(tmpdir(), 'kafka-task-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));
const credentials = () => ({ KAFKA_USERNAME: broker.user, KAFKA_PASSWORD: broker.password });

const produce = (topic: string, messages: unknown[], extra: Record<string, unknown> = {}, state?: unknown) =>
  runTask(
    kafka,
    { operation: 'produce', brokers: [broker.broker], topic, messages, ...extra },
    state === undefined ? {} : { state },
  );
const consume = (groupId: string, extra: Record<string, unknown> = {}) =>
  runTask(kafka, {
    operation: 'consume',
    brokers: [broker.broker],
    topic: 'orders',
    groupId,
    idleMs: 1500,
    ...extra,
  });

describe('tasks/kafka against a real Kafka broker (KRaft)', () => {
  it('produces keyed JSON and text messages with headers; the acknowledgement is checkpointed', async () => {
    const result = await produce(
      'orders',
      [
        { key: 'o-1', json: { id: 1, total: '9.99' }, headers: { source: 'maestro' } },
        { key: 'o-2', value: 'second' },
        { key: 'o-3', value: 'third' },
      ],
      { idempotencyKey: 'run-5/orders' },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toMatchObject({
      produced: 3,
      offsets: [{ partition: 0, baseOffset: '0' }],
      replayed: false,
    });
    expect(result.states).toEqual([{ produced: 3, offsets: [{ partition: 0, baseOffset: '0' }] }]);
  }, 60_000);

  it('a consumer group takes count messages, commits only those, and its next run continues after them', async () => {
    const first = await consume('etl', { count: 2 });
    expect(first.outcome, String(first.error)).toBe('succeeded');
    expect(first.outputs.messages).toEqual([
      {
        partition: 0,
        offset: '0',
        key: 'o-1',
        value: '{"id":1,"total":"9.99"}',
        headers: { source: 'maestro', 'idempotency-key': 'run-5/orders' },
      },
      {
        partition: 0,
        offset: '1',
        key: 'o-2',
        value: 'second',
        headers: { 'idempotency-key': 'run-5/orders' },
      },
    ]);
    expect(first.heartbeats).toBe(2);
    const second = await consume('etl');
    expect(second.outputs).toMatchObject({ count: 1, messages: [{ offset: '2', value: 'third' }] });
    const third = await consume('etl'); // nothing new: ends after idleMs with none
    expect(third.outputs).toEqual({ messages: [], count: 0 });
    // Another group has its own offsets: it reads everything from the start.
    expect((await consume('reporting')).outputs.count).toBe(3);
  }, 120_000);

  it('a retry of a produce that was acknowledged sends nothing again', async () => {
    const retry = await produce(
      'audit',
      [{ value: 'x' }],
      {},
      { produced: 1, offsets: [{ partition: 0, baseOffset: '7' }] },
    );
    expect(retry.outputs).toMatchObject({ produced: 1, replayed: true });
    const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('audit');
    await admin.disconnect();
    expect(offsets[0]?.high).toBe('0'); // nothing was written
  }, 60_000);

  it('SASL credentials come from secrets; a wrong password is refused and quoted nowhere', async () => {
    const inputs = {
      operation: 'produce',
      brokers: [broker.saslBroker],
      topic: 'audit',
      messages: [{ value: 'a' }],
      sasl: 'plain',
    };
    const ok = await runTask(kafka, inputs, {
      secrets: { KAFKA_USERNAME: broker.user, KAFKA_PASSWORD: broker.password },
    });
    expect(ok.outcome, String(ok.error)).toBe('succeeded');
    const wrong = `${broker.password}-not-it`;
    const refused = await runTask(kafka, inputs, {
      secrets: { KAFKA_USERNAME: broker.user, KAFKA_PASSWORD: wrong },
    });
    expect(refused.error).toMatchObject({ code: 'kafka_auth_failed', retryable: false, fault: 'user' });
    expect(
      JSON.stringify([refused, String(refused.error), (refused.error as { hint?: string }).hint]),
    ).not.toContain(wrong);
    const missing = await runTask(kafka, inputs);
    expect(missing.error).toMatchObject({ code: 'secret_missing' });
  }, 120_000);

  it('the attack: SASL without TLS to a broker beyond loopback is refused, named or advertised, before the password is sent', async () => {
    const produceTo = (brokers: string[]) =>
      runTask(
        kafka,
        { operation: 'produce', brokers, topic: 'audit', messages: [{ value: 'leak' }], sasl: 'plain' },
        { secrets: credentials() },
      );
    const named = ['kafka.example:9092', ...(broker.lanAddress ? [`${broker.lanAddress}:9092`] : [])];
    for (const b of named) {
      const refused = await produceTo([b]);
      expect(refused.outcome, b).toBe('invalid');
      expect(refused.errors).toEqual([
        {
          path: '/sasl',
          message: `without tls, SASL would send the credentials to ${b.split(':')[0]} in clear: set tls: true (SASL without TLS only to a loopback broker)`,
        },
      ]);
    }
    // A bootstrap broker on loopback whose metadata sends the client to another host.
    expect(broker.lanBootstrap, 'this machine has no non-loopback address to advertise').toBeDefined();
    const before = await highOffset('audit');
    const advertised = await produceTo([broker.lanBootstrap!]);
    expect(advertised.error).toMatchObject({ code: 'kafka_insecure', retryable: false, fault: 'user' });
    expect((advertised.error as Error).message).toContain(
      `the cluster named ${broker.lanAddress} as a broker`,
    );
    expect(await highOffset('audit')).toBe(before); // nothing was produced through it
    expect(JSON.stringify([advertised, String(advertised.error)])).not.toContain(broker.password);
  }, 120_000);

  it('TLS with the broker’s private CA (from a secret or the workspace) by PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; other roots refuse it', async () => {
    writeFileSync(join(workspace, 'kafka-ca.pem'), broker.caPem);
    writeFileSync(join(workspace, 'other-ca.pem'), broker.otherCaPem);
    const over = (extra: Record<string, unknown>, secrets: Record<string, string> = {}) =>
      runTask(
        kafka,
        {
          operation: 'produce',
          brokers: [broker.tlsBroker],
          topic: 'audit',
          messages: [{ value: 'over tls' }],
          tls: true,
          timeoutMs: 5000,
          ...extra,
        },
        { workspace, secrets: { ...credentials(), KAFKA_CA: broker.caPem, ...secrets } },
      );
    for (const sasl of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      const ok = await over({ sasl, caSecret: 'KAFKA_CA' });
      expect(ok.outcome, `${sasl}: ${String(ok.error)}`).toBe('succeeded');
    }
    expect((await over({ sasl: 'scram-sha-512', caFile: 'kafka-ca.pem' })).outcome).toBe('succeeded');
    const wrong = await over({ sasl: 'scram-sha-256', caSecret: 'KAFKA_CA' }, { KAFKA_PASSWORD: 'not-it' });
    expect(wrong.error).toMatchObject({ code: 'kafka_auth_failed' });
    for (const roots of [{}, { caFile: 'other-ca.pem' }]) {
      const refused = await over({ sasl: 'plain', ...roots });
      expect(refused.error, JSON.stringify(roots)).toMatchObject({ code: 'kafka_failed' });
    }
    const plain = await runTask(kafka, {
      operation: 'produce',
      brokers: [broker.broker],
      topic: 'audit',
      messages: [{ value: 'x' }],
      caFile: 'kafka-ca.pem',
    });
    expect(plain.errors).toEqual([{ path: '/caFile', message: 'is for TLS: set tls: true' }]);
  }, 180_000);

  it('the commit follows the checkpoint: a failure just after it, or just before it, outputs the same records on the retry', async () => {
    expect(
      (
        await produce(
          'ledger',
          ['a', 'b', 'c', 'd', 'e', 'f'].map((value) => ({ value })),
        )
      ).outcome,
    ).toBe('succeeded');
    const ledger = (groupId: string, state?: unknown) =>
      runTask(
        kafka,
        { operation: 'consume', brokers: [broker.broker], topic: 'ledger', groupId, count: 2, idleMs: 1500 },
        state === undefined ? {} : { state },
      );
    const values = (r: { outputs: Record<string, unknown> }) =>
      (r.outputs.messages as { value: string }[] | undefined)?.map((m) => m.value);
    for (const when of ['after', 'before'] as const) {
      const group = `books-${when}`;
      const failing = failCommit(when);
      const first = await ledger(group);
      failing.mockRestore();
      expect(first.outcome, when).toBe('failed'); // the process died around the commit
      expect(first.states).toEqual([{ consumed: [{ partition: 0, from: '0', next: '2' }] }]);
      const retry = await ledger(group, first.states.at(-1));
      expect(retry.outcome, String(retry.error)).toBe('succeeded');
      expect(values(retry), when).toEqual(['a', 'b']); // not c, d: nothing was lost
      // The retry committed them: the group's next run reads on.
      expect(values(await ledger(group)), when).toEqual(['c', 'd']);
    }
  }, 180_000);

  it('credentials in brokers are refused by the spec; each operation takes its own inputs', async () => {
    const inUrl = await runTask(kafka, {
      operation: 'consume',
      brokers: ['user:pw@127.0.0.1:9092'],
      topic: 'orders',
      groupId: 'g',
    });
    expect(inUrl.errors.map((e) => e.path)).toEqual(['/brokers/0']);
    expect(
      (await runTask(kafka, { operation: 'consume', brokers: ['h:1'], topic: 'orders', messages: [{}] }))
        .errors,
    ).toEqual([
      { path: '/groupId', message: 'consume needs groupId' },
      { path: '/messages', message: 'consume does not take messages' },
    ]);
  });

  it('a produce is a PRODUCER span with the messaging conventions, a child of the attempt’s TRACEPARENT', async () => {
    spans.take();
    const result = await runTask(
      kafka,
      {
        operation: 'produce',
        brokers: [broker.broker],
        topic: 'spans',
        messages: [{ value: 'a' }, { value: 'b' }],
      },
      { secrets: { TRACEPARENT } },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'kafka');
    expect([span.name, span.kind, span.status.code]).toEqual([
      'send spans',
      SpanKind.PRODUCER,
      SpanStatusCode.OK,
    ]);
    expect(span.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'spans',
      'messaging.batch.message_count': 2,
    });
  }, 60_000);

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(kafka.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(kafka.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      kafka.name,
      kafka.version,
      kafka.description,
    ]);
  });
});

async function highOffset(topic: string): Promise<string | undefined> {
  const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic))[0]?.high;
  } finally {
    await admin.disconnect();
  }
}

/** The process dying around a commit: kafkajs's commitOffsets throws just after (or before) committing. */
function failCommit(when: 'after' | 'before') {
  const real = Kafka.prototype.consumer;
  return vi.spyOn(Kafka.prototype, 'consumer').mockImplementation(function (this: Kafka, config) {
    const consumer: Consumer = real.call(this, config);
    const commit = consumer.commitOffsets.bind(consumer);
    consumer.commitOffsets = async (offsets) => {
      if (when === 'after') await commit(offsets);
      throw new Error(`killed ${when} the commit`);
    };
    return consumer;
  });
}
