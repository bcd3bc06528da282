import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { digestOf, type SigIngest } from '../../core/index.ts';
import { ndjsonLines, type ContractProblem, type ContractVersion } from '../../sig/index.ts';
import { checkContract, rejectContract, sendProblem, type RouteContext } from './route-context.ts';

/** POST /vN/ingest/batches and POST /vN/ingest/streams/{streamId}. */
export function registerIngestRoutes(app: FastifyInstance, ctx: RouteContext, version: ContractVersion) {
  app.post(`/v${version}/ingest/batches`, (request, reply) => ingestBatch(ctx, version, request, reply));
  app.post(`/v${version}/ingest/streams/:streamId`, (request, reply) =>
    ingestStream(ctx, version, request, reply),
  );
}

/** Records checked against the record schema of the version they say they follow. */
function recordProblems(
  ctx: RouteContext,
  schemaVersion: number,
  records: unknown[],
  pointer: (i: number) => string,
) {
  const ref = ctx.registry.payloadRef('ingest', schemaVersion as ContractVersion, 'Record');
  return records.flatMap((record, i) => ctx.registry.check(ref, record, pointer(i)));
}

async function ingestBatch(
  ctx: RouteContext,
  version: ContractVersion,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!checkContract(ctx, 'ingest', version, request, reply, request.body)) return reply;
  const batch = request.body as SigIngest.Batch;
  const problems = recordProblems(ctx, batch.schemaVersion, batch.records, (i) => `/body/records/${i}`);
  if (problems.length > 0) return (rejectContract(ctx, request, reply, problems), reply);
  const bodyDigest = digestOf(batch);
  const earlier = ctx.received.batches.get(batch.idempotencyKey);
  if (earlier && earlier.bodyDigest !== bodyDigest)
    return sendProblem(
      reply,
      409,
      'idempotency_key_reused',
      `idempotencyKey ${batch.idempotencyKey} was used for other records`,
    );
  if (earlier) return reply.code(202).send({ ...earlier.answer, replayed: true });
  let accepted = 0;
  for (const record of batch.records)
    if (ctx.received.addRecord(record, batch.schemaVersion, `batch:${batch.idempotencyKey}`)) accepted++;
  const answer: SigIngest.BatchResult = {
    batchId: `b-${bodyDigest.slice(0, 16)}`,
    accepted,
    duplicates: batch.records.length - accepted,
    replayed: false,
    ...(version >= 3 ? { warnings: deprecatedUse(batch.records) } : {}),
  };
  ctx.received.batches.set(batch.idempotencyKey, {
    version,
    idempotencyKey: batch.idempotencyKey,
    bodyDigest,
    answer,
  });
  // A lost answer: stored, but the client never hears it (its retry must not store twice).
  if (ctx.faults.consumeLoss()) return (request.raw.socket.destroy(), reply);
  return reply.code(202).send(answer);
}

function deprecatedUse(records: SigIngest.Record[]): string[] {
  return records.some((r) => r.source !== undefined)
    ? ['records[].source is deprecated: use producer.name']
    : [];
}

async function ingestStream(
  ctx: RouteContext,
  version: ContractVersion,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const body = request.body as Readable;
  // A client that goes away mid-stream is the loop's end, not an uncaught 'aborted' error.
  body.on('error', () => {});
  const lines = ndjsonLines(body);
  const first = await lines.next();
  const open = first.done ? undefined : parseLine(first.value);
  const matched = checkContract(ctx, 'ingest', version, request, reply, open);
  if (!matched) return reply;
  if ((open as { type?: string }).type !== 'open')
    return sendProblem(reply, 400, 'stream_not_opened', 'the first line of a stream must be an open frame');
  const schemaVersion = (open as SigIngest.StreamOpen).schemaVersion;
  const streamId = matched.params.streamId!;
  const stream = ctx.received.streams.get(streamId) ?? { nextOffset: 0, version };
  ctx.received.streams.set(streamId, stream);
  reply.hijack();
  const raw = reply.raw;
  raw.socket?.setNoDelay(true);
  raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const send = (line: SigIngest.StreamReply) => raw.write(`${JSON.stringify(line)}\n`);
  send({ type: 'ready', nextOffset: stream.nextOffset, window: ctx.streamWindow });
  const frameRef = matched.operation.bodies.get('application/x-ndjson')!;
  const cut = ctx.faults.consumeCut();
  let stored = 0;
  try {
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      const frame = parseLine(line);
      const isRecord = (frame as { type?: unknown })?.type === 'record';
      // A record frame is checked against its own branch, so the pointers name the record's fields.
      const ref = isRecord ? ctx.registry.payloadRef('ingest', version, 'StreamRecord') : frameRef;
      const problems: ContractProblem[] = ctx.registry.check(ref, frame, '/frame');
      if (problems.length === 0 && !isRecord)
        problems.push({ pointer: '/frame/type', message: 'must be record after the open frame' });
      const { offset, record } = frame as SigIngest.StreamRecord;
      if (problems.length === 0)
        problems.push(...recordProblems(ctx, schemaVersion, [record], () => '/frame/record'));
      if (problems.length > 0) {
        ctx.received.violations.push({ method: 'POST', url: request.url, problems });
        return void send({
          type: 'error',
          code: 'contract_violation',
          detail: problems.map((p) => `${p.pointer}: ${p.message}`).join('; '),
        });
      }
      if (offset > stream.nextOffset)
        return void send({
          type: 'error',
          code: 'offset_gap',
          detail: `expected offset ${stream.nextOffset}, got ${offset}`,
          offset,
        });
      // A resent offset (after a reconnect) is acknowledged again and not stored twice.
      if (offset === stream.nextOffset) {
        ctx.received.addRecord(record, schemaVersion, `stream:${streamId}@${offset}`);
        stream.nextOffset++;
        stored++;
      }
      if (ctx.faults.ackDelayMs > 0) await sleep(ctx.faults.ackDelayMs);
      if (cut !== undefined && stored >= cut) return void request.raw.socket.destroy();
      send({ type: 'ack', offset, window: ctx.streamWindow });
    }
  } finally {
    raw.end();
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}
