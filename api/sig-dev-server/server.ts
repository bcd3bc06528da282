import Fastify, { type FastifyInstance } from 'fastify';
import { verifyWorkloadIdentity } from '../../provenance/index.ts';
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
  /**
   * Require a Maestro workload identity (`${workload.identity}`) as the bearer of every contract
   * request, verified against these published keys (GET /v1/keys, or the receipts' public key)
   * for this audience; a missing, forged, expired or other-audience token is a 401.
   */
  workloadIdentity?: { publicKeysPem: string[]; audience: string; now?: () => number };
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
  if (options.workloadIdentity) requireWorkloadIdentity(app, received, options.workloadIdentity);
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

/** Every request but the test-only `/_dev/` routes carries a valid workload identity. */
function requireWorkloadIdentity(
  app: FastifyInstance,
  received: SigReceived,
  check: NonNullable<SigDevServerOptions['workloadIdentity']>,
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/_dev/')) return;
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    const verdict = token
      ? verifyWorkloadIdentity(token, {
          publicKeysPem: check.publicKeysPem,
          audience: check.audience,
          ...(check.now ? { now: check.now() } : {}),
        })
      : ({ ok: false, reason: 'no bearer workload identity' } as const);
    if (verdict.ok) {
      received.identities.push({ method: request.method, url: request.url, claims: verdict.claims });
      return;
    }
    received.refusedIdentities.push({ method: request.method, url: request.url, reason: verdict.reason });
    void reply.header('www-authenticate', 'Bearer error="invalid_token"');
    return sendProblem(
      reply,
      401,
      'workload_identity_refused',
      `workload identity refused: ${verdict.reason}`,
    );
  });
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
