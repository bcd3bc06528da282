// consume: up to `count` messages through a consumer group, or until none arrives for `idleMs`.
// Offsets are committed by hand, only up to the last message taken (a message the broker
// delivered past `count` is not committed), and only after what was taken is durably reported:
// first the window taken (per partition, the first offset and the one after the last) is the
// task's checkpoint (`onTaken`, stored as it is emitted), then the commit. A retry of the task
// starts from that checkpoint: it seeks back to the window and takes exactly those messages again,
// so a failure after the commit (before the outputs were kept) loses nothing, and a failure before
// it reads the same records again: the outputs of a run are exactly what its group committed.
import type { Consumer, Kafka } from 'kafkajs';
import { TaskError } from '../../sdk/index.ts';

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

/** Per partition: the first offset taken and the offset after the last one (what is committed). */
export type Window = { partition: number; from: string; next: string }[];

export interface ConsumeOptions {
  topic: string;
  groupId: string;
  count: number;
  idleMs: number;
  fromBeginning: boolean;
  signal: AbortSignal;
  onMessage: () => void;
  /** The window taken, reported (checkpointed) before its offsets are committed. */
  onTaken: (window: Window) => void;
  /** A retry's checkpoint: take exactly this window again instead of what follows the commit. */
  replay?: Window;
}

export async function consume(kafka: Kafka, o: ConsumeOptions): Promise<Consumed> {
  const consumer = kafka.consumer({ groupId: o.groupId, allowAutoTopicCreation: false });
  const taken: ConsumedMessage[] = [];
  const seen = new Set<string>(); // partition:offset, so a re-seek never takes a message twice
  const window = new Map<number, { from: string; next: string }>();
  const replay = o.replay ? new Map(o.replay.map((w) => [w.partition, w])) : undefined;
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
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (replay) seekTo(consumer, o.topic, o.replay!);
      rearm();
    });
    await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (taken.length >= o.count && !replay) return;
        const wanted = replay?.get(partition);
        const offset = BigInt(message.offset);
        // Replaying: only the checkpointed window (a fetch before the seek may bring others).
        if (replay && (!wanted || offset < BigInt(wanted.from) || offset >= BigInt(wanted.next))) return;
        if (seen.has(`${partition}:${message.offset}`)) return;
        seen.add(`${partition}:${message.offset}`);
        taken.push(toConsumed(partition, message));
        const next = (offset + 1n).toString();
        window.set(partition, { from: window.get(partition)?.from ?? message.offset, next });
        o.onMessage();
        if (replay ? replayDone(replay, window) : taken.length >= o.count) finish();
        else rearm();
      },
    });
    // Until the group is joined, a longer wait: a broker's first rebalance can take seconds.
    if (!idle) idle = setTimeout(finish, Math.max(o.idleMs, 30_000));
    await finished;
    consumer.pause([{ topic: o.topic }]);
    o.signal.throwIfAborted();
    if (replay && !replayDone(replay, window))
      throw new TaskError(
        'kafka_replay_incomplete',
        `an earlier attempt took messages of ${o.topic} that are no longer all readable`,
        {
          hint: 'the topic’s retention removed them: the group’s offsets are unchanged; run again to read on',
        },
      );
    const taking: Window = [...(replay ?? window)].map(([partition, w]) => ({ partition, ...w }));
    if (taking.length > 0) {
      if (!replay) o.onTaken(taking);
      await consumer.commitOffsets(
        taking.map((w) => ({ topic: o.topic, partition: w.partition, offset: w.next })),
      );
    }
    taken.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    return { messages: taken, count: taken.length };
  } finally {
    clearTimeout(idle);
    o.signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}

function seekTo(consumer: Consumer, topic: string, replay: Window): void {
  for (const w of replay) consumer.seek({ topic, partition: w.partition, offset: w.from });
}

/** Every partition of the window read up to its last offset. */
function replayDone(replay: Map<number, { next: string }>, read: Map<number, { next: string }>): boolean {
  return [...replay].every(([partition, w]) => read.get(partition)?.next === w.next);
}

function toConsumed(
  partition: number,
  message: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> },
): ConsumedMessage {
  return {
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
  };
}
