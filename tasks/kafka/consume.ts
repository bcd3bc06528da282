// consume: up to `count` messages through a consumer group, or until none arrives for `idleMs`.
// Offsets are committed by hand, after the messages are taken and only up to the last one
// taken: a message the broker delivered past `count` is not committed, so the group's next run
// starts exactly after what this run output (at least once: a task that fails after the commit
// has still lost nothing, one that fails before it reads the same messages again).
import type { Kafka } from 'kafkajs';

export interface Consumed {
  messages: ConsumedMessage[];
  count: number;
}

export type ConsumedMessage = {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
};

export interface ConsumeOptions {
  topic: string;
  groupId: string;
  count: number;
  idleMs: number;
  fromBeginning: boolean;
  signal: AbortSignal;
  onMessage: () => void;
}

export async function consume(kafka: Kafka, o: ConsumeOptions): Promise<Consumed> {
  const consumer = kafka.consumer({ groupId: o.groupId, allowAutoTopicCreation: false });
  const taken: ConsumedMessage[] = [];
  const next = new Map<number, string>(); // partition → the offset to commit (last taken + 1)
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let idle: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(finish, o.idleMs);
  };
  const onAbort = () => finish();
  o.signal.addEventListener('abort', onAbort, { once: true });
  await consumer.connect();
  try {
    // Joining the group (a rebalance) takes time of its own: the idle clock starts once joined.
    consumer.on(consumer.events.GROUP_JOIN, rearm);
    await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (taken.length >= o.count) return;
        taken.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [
              k,
              Buffer.isBuffer(v) ? v.toString('utf8') : String(v),
            ]),
          ),
        });
        next.set(partition, (BigInt(message.offset) + 1n).toString());
        o.onMessage();
        if (taken.length >= o.count) finish();
        else rearm();
      },
    });
    // Until the group is joined, a longer wait: a broker's first rebalance can take seconds.
    if (!idle) idle = setTimeout(finish, Math.max(o.idleMs, 30_000));
    await finished;
    consumer.pause([{ topic: o.topic }]);
    o.signal.throwIfAborted();
    if (next.size > 0)
      await consumer.commitOffsets(
        [...next].map(([partition, offset]) => ({ topic: o.topic, partition, offset })),
      );
    return { messages: taken, count: taken.length };
  } finally {
    clearTimeout(idle);
    o.signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}
