// tasks/kafka in-process (runTask) against a real Apache Kafka broker in KRaft mode, run from
// Maven Central's jars on the machine's Java (test/setup/kafka-broker.ts, scripts/setup/kafka.sh):
// produce with headers and the idempotency key, consume through a consumer group that continues
// where it committed, SASL credentials from secrets (a wrong password refused, quoted nowhere),
// a retried produce that sends nothing again.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { startKafka, type KafkaBroker } from '../../test/setup/kafka-broker.ts';
import { kafka } from './index.ts';

let broker: KafkaBroker;
beforeAll(async () => {
  broker = await startKafka();
  const admin = new Kafka({ brokers: [broker.broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'orders', numPartitions: 1 },
      { topic: 'audit', numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
}, 180_000);
afterAll(async () => broker?.stop(), 60_000);

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
