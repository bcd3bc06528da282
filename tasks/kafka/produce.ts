// produce: the messages with an idempotent producer (the broker drops a resend of a batch the
// producer retried within its session), acknowledged by all in-sync replicas (acks -1).
import { Partitioners, type Kafka, type Message } from 'kafkajs';

export interface OutMessage {
  key?: string;
  value?: string;
  json?: unknown;
  headers?: Readonly<Record<string, string>>;
  partition?: number;
}

export interface Produced {
  produced: number;
  offsets: { partition: number; baseOffset: string }[];
}

export async function produce(
  kafka: Kafka,
  topic: string,
  messages: readonly OutMessage[],
  idempotencyKey: string | undefined,
): Promise<Produced> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const records = await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => toMessage(m, idempotencyKey)),
    });
    return {
      produced: messages.length,
      offsets: records.map((r) => ({ partition: r.partition, baseOffset: String(r.baseOffset) })),
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

function toMessage(m: OutMessage, idempotencyKey: string | undefined): Message {
  const headers = { ...m.headers, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) };
  return {
    ...(m.key !== undefined ? { key: m.key } : {}),
    value: Object.hasOwn(m, 'json') ? JSON.stringify(m.json) : (m.value ?? null),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(m.partition !== undefined ? { partition: m.partition } : {}),
  };
}
