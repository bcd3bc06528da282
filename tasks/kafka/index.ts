// tasks/kafka: produce messages to a Kafka topic (an idempotent producer, acks from all in-sync
// replicas) or consume N of them (or until idle) through a consumer group whose committed offsets
// are where its next run continues, built on the task SDK with kafkajs. Credentials are secrets
// in env: (KAFKA_USERNAME, KAFKA_PASSWORD, with `sasl`), never inputs. A produce is at most once
// per run: the acknowledgement is checkpointed, so a retry of the task (killed after the send)
// produces nothing again; `idempotencyKey` also goes out as each message's header for consumers
// that deduplicate across runs. A consume checkpoints the window it took before it commits, and a
// retry takes that window again (consume.ts). SASL without TLS only to loopback brokers
// (client.ts). Its spec is task.json's, checked equal by kafka.test.ts.
import { SpanKind } from '@opentelemetry/api';
import { defineTask, runMain, type ValidationIssue } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { checkClientInputs, kafkaClient, kafkaError, type KafkaClient } from './client.ts';
import { consume, type Window } from './consume.ts';
import { produce, type Produced } from './produce.ts';
import { kafkaSpec } from './spec.ts';

export const kafka = defineTask({
  name: 'kafka',
  version: '1.0.0',
  description:
    'Produces messages to a Kafka topic (idempotent producer, acknowledged by all in-sync replicas; at most once per run) or consumes N messages (or until idle) through a consumer group, committing exactly what it output.',
  spec: kafkaSpec,
  validate(inputs) {
    const errors: ValidationIssue[] = checkClientInputs(inputs);
    const producing = inputs.operation === 'produce';
    if (producing && !inputs.messages) errors.push({ path: '/messages', message: 'produce needs messages' });
    if (!producing && !inputs.groupId) errors.push({ path: '/groupId', message: 'consume needs groupId' });
    for (const [i, m] of (inputs.messages ?? []).entries())
      if (m.value !== undefined && Object.hasOwn(m, 'json'))
        errors.push({ path: `/messages/${i}/json`, message: 'give value or json, not both' });
    const only = producing ? ['groupId', 'count', 'idleMs', 'fromBeginning'] : ['messages', 'idempotencyKey'];
    for (const name of only)
      if ((inputs as Record<string, unknown>)[name] !== undefined)
        errors.push({ path: `/${name}`, message: `${inputs.operation} does not take ${name}` });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    const producing = inputs.operation === 'produce';
    const earlier = ctx.state as (Produced & { consumed?: Window }) | undefined;
    if (producing && typeof earlier?.produced === 'number') {
      ctx.emit.log('kafka: an earlier attempt of this task produced the messages; not producing them again');
      return { ...earlier, replayed: true };
    }
    let client: KafkaClient | undefined;
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': producing ? 'send' : 'receive',
      'messaging.destination.name': inputs.topic,
      ...(inputs.groupId ? { 'messaging.consumer.group.name': inputs.groupId } : {}),
    };
    return await inTaskSpan(
      ctx,
      `${producing ? 'send' : 'receive'} ${inputs.topic}`,
      { task: 'kafka', kind: producing ? SpanKind.PRODUCER : SpanKind.CONSUMER, attributes },
      async (span) => {
        try {
          client = kafkaClient(inputs, ctx);
          if (producing) {
            const done = await produce(
              client.kafka,
              inputs.topic,
              inputs.messages ?? [],
              inputs.idempotencyKey,
            );
            ctx.emit.state(done);
            span.setAttribute('messaging.batch.message_count', done.produced);
            ctx.emit.log(`kafka: ${done.produced} message(s) acknowledged on ${inputs.topic}`);
            return { ...done, replayed: false };
          }
          if (earlier?.consumed)
            ctx.emit.log('kafka: an earlier attempt took messages it may not have output; taking them again');
          const read = await consume(client.kafka, {
            topic: inputs.topic,
            groupId: inputs.groupId as string,
            count: inputs.count ?? 100,
            idleMs: inputs.idleMs ?? 5000,
            fromBeginning: inputs.fromBeginning ?? true,
            signal: ctx.signal,
            onMessage: () => ctx.heartbeat(),
            onTaken: (window) => ctx.emit.state({ consumed: window }),
            ...(earlier?.consumed ? { replay: earlier.consumed } : {}),
          });
          span.setAttribute('messaging.batch.message_count', read.count);
          ctx.emit.metric('messages', read.count);
          ctx.emit.log(
            `kafka: read ${read.count} message(s) from ${inputs.topic} as ${inputs.groupId}; offsets committed`,
          );
          return { messages: read.messages, count: read.count };
        } catch (error) {
          throw kafkaError(
            error,
            client,
            inputs.brokers,
            producing ? `producing to ${inputs.topic}` : `consuming ${inputs.topic}`,
          );
        }
      },
    );
  },
});

if (import.meta.main) await runMain(kafka, process.env);
