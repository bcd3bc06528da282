import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { systemClock, systemRandom, type SigIngest } from '../core/index.ts';
import type { ContractVersion } from './contract-documents.ts';
import { recordsForVersion } from './downgrade.ts';
import { SigStreamError } from './errors.ts';
import { bearerHeader, DEFAULT_RETRY, type SigConnection } from './http.ts';
import { ndjsonLines } from './ndjson-lines.ts';
import { negotiateVersion } from './negotiate.ts';

export interface StreamOptions {
  /** Chosen once per stream and kept across reconnects: SIG resumes it at its nextOffset. */
  streamId: string;
  version?: ContractVersion;
}

export interface StreamResult {
  version: ContractVersion;
  /** Every record up to this offset is stored. */
  committedOffset: number;
  /** Connections opened (1 when nothing broke). */
  connections: number;
  /** The most records ever sent and not yet acknowledged: never above SIG's window. */
  maxInFlight: number;
  dropped: string[];
}

type Reply = SigIngest.StreamReady | SigIngest.StreamAck | SigIngest.StreamError;

/**
 * Sends records over one long-lived HTTP request (NDJSON frames up, NDJSON replies down on the
 * same connection). At most `window` records are in flight beyond the last ack (SIG sets the
 * window in its ready and ack lines: back-pressure), and a socket's own back-pressure (`write`
 * returning false) is waited out. When the connection breaks, it reconnects with backoff under
 * the same streamId and resends from SIG's nextOffset; records before it are never sent twice,
 * and SIG acknowledges a resent offset without storing it again.
 */
export async function ingestStream(
  conn: SigConnection,
  records: readonly SigIngest.Record[],
  options: StreamOptions,
): Promise<StreamResult> {
  const version = options.version ?? (await negotiateVersion(conn, 'ingest'));
  const { value: lines, dropped } = recordsForVersion(records, version);
  const retry = { ...DEFAULT_RETRY, ...conn.retry };
  const state: StreamResult = { version, committedOffset: -1, connections: 0, maxInFlight: 0, dropped };
  for (let failures = 0; ;) {
    state.connections++;
    try {
      await streamOnce(conn, version, options.streamId, lines, state);
      return state;
    } catch (error) {
      if (!(error instanceof SigStreamError) || !error.retryable || ++failures > retry.limit) throw error;
      const ceiling = Math.min(retry.maxMs, retry.initialMs * 2 ** (failures - 1));
      await (conn.clock ?? systemClock).sleep(
        Math.floor((conn.random ?? systemRandom)() * ceiling),
        conn.signal,
      );
    }
  }
}

async function streamOnce(
  conn: SigConnection,
  version: ContractVersion,
  streamId: string,
  records: readonly SigIngest.Record[],
  state: StreamResult,
): Promise<void> {
  const url = new URL(`/v${version}/ingest/streams/${encodeURIComponent(streamId)}`, conn.baseUrl);
  const authorization = bearerHeader(conn, url);
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: 'POST',
    // A connection of its own, closed with the stream: a pooled keep-alive socket would outlive it.
    agent: false,
    headers: {
      'content-type': 'application/x-ndjson',
      ...authorization,
    },
    ...(conn.signal ? { signal: conn.signal } : {}),
  });
  const broken = (error: unknown) =>
    new SigStreamError(
      'sig_stream_broken',
      `the SIG stream ${streamId} broke off: ${(error as Error)?.message ?? error}`,
      {
        retryable: true,
        cause: error,
      },
    );
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', (error) => reject(broken(error)));
  });
  // Frames are small and each waits for an ack: without this, Nagle's algorithm holds them back.
  request.setNoDelay(true);
  await write(request, { type: 'open', schemaVersion: version });
  const incoming = await response;
  if (incoming.statusCode !== 200) throw await refusal(incoming);
  const replies = ndjsonLines(incoming);
  const next = async (): Promise<SigIngest.StreamReady | SigIngest.StreamAck> => {
    const line = await replies.next().catch((error: unknown) => Promise.reject(broken(error)));
    if (line.done) throw broken(new Error('the server closed the stream'));
    const reply = JSON.parse(line.value) as Reply;
    if (reply.type === 'error') {
      request.destroy();
      throw new SigStreamError(reply.code, `SIG refused the stream ${streamId}: ${reply.detail}`, {
        retryable: false,
      });
    }
    return reply;
  };
  const ready = await next();
  let window = ready.window;
  let acked = (ready as SigIngest.StreamReady).nextOffset - 1;
  state.committedOffset = acked;
  let sent = acked;
  while (acked < records.length - 1) {
    while (sent < records.length - 1 && sent - acked < window) {
      sent++;
      await write(request, { type: 'record', offset: sent, record: records[sent] });
      state.maxInFlight = Math.max(state.maxInFlight, sent - acked);
    }
    const reply = await next();
    if (reply.type === 'ack') {
      acked = Math.max(acked, reply.offset);
      state.committedOffset = acked;
      window = reply.window;
    }
  }
  request.end();
  incoming.resume();
}

/** Writes one frame, waiting for the socket to drain when its buffer is full. */
function write(request: ClientRequest, frame: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = request.write(`${JSON.stringify(frame)}\n`, (error) => (error ? reject(error) : undefined));
    if (ok) resolve();
    else request.once('drain', resolve);
  });
}

async function refusal(incoming: IncomingMessage): Promise<SigStreamError> {
  let text = '';
  for await (const chunk of incoming) text += chunk;
  const problem = (() => {
    try {
      return JSON.parse(text) as { code?: string; detail?: string };
    } catch {
      return {};
    }
  })();
  const status = incoming.statusCode ?? 0;
  return new SigStreamError(
    problem.code ?? `http_${status}`,
    `SIG refused the stream (${status}): ${problem.detail ?? text}`,
    {
      retryable: status === 429 || status >= 500,
    },
  );
}
