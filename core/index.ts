// The public face of core/: types generated from the schemas, diagnostics, errors, states and
// reasons, canonical digests, and the ports the engine and surfaces plug into.
export * from './diagnostics.ts';
export * from './errors.ts';
export * from './states.ts';
export * from './canonical.ts';
export * from './plan.ts';
export * from './manifest.ts';
export * from './ports/clock.ts';
export * from './ports/runner.ts';
export * from './ports/policy.ts';
export * from './ports/attestor.ts';
export * from './ports/source.ts';
export * from './ports/image-gate.ts';
export * from './ports/telemetry.ts';
export * from './catalog.ts';
export * from './private-files.ts';
export * from './loopback.ts';
// The REST API's request and response bodies (schemas/api/api.schema.json), as one namespace:
// several names (Diagnostic, Task) would clash with core's own types.
export type * as ApiBody from './generated/api.ts';
export * from './redact.ts';
// Today's SIG contracts (schemas/sig/<contract>/v3/), one namespace each.
export type * as SigIngest from './generated/sig-ingest.ts';
export type * as SigClaims from './generated/sig-claims.ts';
export type * as SigRunbookTrigger from './generated/sig-runbook-trigger.ts';
export * from './package-digest.ts';
