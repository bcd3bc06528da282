import Fastify, { type FastifyInstance } from 'fastify';
import { ContractRegistry, type ContractName, type ContractVersion } from '../../sig/index.ts';
import { sendProblem, type RouteContext, type SigFaults } from './route-context.ts';
import { SigReceived } from './received.ts';
import { registerIngestRoutes } from './ingest-routes.ts';
import { registerClaimsRoutes } from './claims-routes.ts';
import { registerTriggerRoutes } from './trigger-routes.ts';
import { registerInspectRoutes } from './inspect-routes.ts';

export interface SigDevServerOptions {
  /** The majors served per contract; default all three (a v1-only or v2 server for N-2 tests). */
  versions?: Partial<Record<ContractName, ContractVersion[]>>;
  /** Records a stream client may have in flight (the window in ready and ack lines). */
  streamWindow?: number;
  /** Shared with other servers (a restarted one keeps what the first received). */
  received?: SigReceived;
  registry?: ContractRegistry;
  /** Fastify's logger option; off by default (tests read `received`, not logs). */
  logger?: boolean;
}

export type { SigFaults };

export interface SigDevServer {
  readonly app: FastifyInstance;
  readonly received: SigReceived;
  readonly faults: SigFaults;
  /** Listens on 127.0.0.1 (port 0: a free one) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The SIG reference server (`maestro sig-dev-server`): every version of every SIG contract, for
 * tests, demos and the runbooks. Every request is checked against its contract (method, path and
 * its parameters, content type, body; stream lines one by one) before a handler sees it; one that
 * breaks the contract is a 400 `contract_violation` listing each field, and is recorded.
 */
export function createSigDevServer(options: SigDevServerOptions = {}): SigDevServer {
  const registry = options.registry ?? new ContractRegistry();
  const received = options.received ?? new SigReceived();
  const faults = createFaults();
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 8 * 1024 * 1024 });
  // A stream's body is read line by line by its handler, never buffered whole.
  app.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));
  const versions: Record<ContractName, ContractVersion[]> = {
    ingest: options.versions?.ingest ?? [1, 2, 3],
    claims: options.versions?.claims ?? [1, 2, 3],
    'runbook-trigger': options.versions?.['runbook-trigger'] ?? [1, 2, 3],
  };
  const ctx: RouteContext = { registry, received, faults, streamWindow: options.streamWindow ?? 64 };
  app.addHook('onRequest', async (request, reply) => {
    const injected = faults.consumeFailure();
    if (!injected) return;
    if (injected.retryAfter !== undefined) void reply.header('retry-after', String(injected.retryAfter));
    return sendProblem(reply, injected.status, 'injected_fault', 'a failure the test asked for');
  });
  app.get('/versions', async () => ({
    contracts: {
      ingest: versions.ingest,
      claims: versions.claims,
      runbookTrigger: versions['runbook-trigger'],
    },
  }));
  for (const v of versions.ingest) registerIngestRoutes(app, ctx, v);
  for (const v of versions.claims) registerClaimsRoutes(app, ctx, v);
  registerTriggerRoutes(app, ctx, versions['runbook-trigger']);
  registerInspectRoutes(app, received);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      404,
      'not_found',
      `${request.method} ${request.url.split('?')[0]} is in no contract this server speaks`,
    ),
  );
  return {
    app,
    received,
    faults,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      if (!address || typeof address === 'string')
        throw new Error('the SIG reference server has no TCP address');
      return `http://${host}:${address.port}`;
    },
    close: () => app.close(),
  };
}

function createFaults(): SigFaults &
  RouteContext['faults'] & { consumeFailure(): { status: number; retryAfter?: number } | undefined } {
  const failures: Array<{ status: number; retryAfter?: number }> = [];
  let cut: number | undefined;
  let loss = false;
  return {
    ackDelayMs: 0,
    failNext(count, status, retryAfter) {
      for (let i = 0; i < count; i++)
        failures.push({ status, ...(retryAfter === undefined ? {} : { retryAfter }) });
    },
    loseNextAnswer: () => void (loss = true),
    cutStreamAfter: (records) => void (cut = records),
    consumeFailure: () => failures.shift(),
    consumeCut: () => [cut, (cut = undefined)][0],
    consumeLoss: () => [loss, (loss = false)][0] as boolean,
  };
}
