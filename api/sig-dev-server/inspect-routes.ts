import type { FastifyInstance } from 'fastify';
import type { SigReceived } from './received.ts';

/**
 * `GET /_dev/received`: what the reference server kept, for tests and runbooks that run it as a
 * separate process (`maestro sig-dev-server`) and must read back what a run sent. It is in no
 * SIG contract (a real SIG has no such route), and the server holds nothing secret: only what
 * clients sent it. Records are listed by id, with the major and the way they came (batch key
 * or stream id).
 */
export function registerInspectRoutes(app: FastifyInstance, received: SigReceived): void {
  app.get('/_dev/received', async () => ({
    records: [...received.records.values()],
    batches: [...received.batches.values()].map((b) => ({
      version: b.version,
      idempotencyKey: b.idempotencyKey,
      answer: b.answer,
    })),
    streams: Object.fromEntries(received.streams),
    claims: [...received.claims.values()],
    triggers: received.triggers,
    violations: received.violations,
    identities: received.identities,
    refusedIdentities: received.refusedIdentities,
  }));
}
