// The public face of api/: the REST API server (`maestro server`), its store, tokens and OpenAPI document.
export { createApiServer, DEFAULT_BODY_LIMIT, OPENAPI_VERSION, type ApiServerOptions } from './server.ts';
export type { ApiStore, StoredToken, StoredWorkflow } from './api-store.ts';
export { openApiStore, type OpenApiStoreOptions } from './open-api-store.ts';
export { startWorker, type Worker, type WakeReason } from './worker.ts';
export type { ApiContext } from './api-context.ts';
export { createPlanLayouts, type PlanLayouts } from './plan-layout.ts';
export { buildOpenApi, openApiPath } from './openapi.ts';
export { ROUTES, type RouteSpec } from './route-table.ts';
export {
  SCOPES,
  type Scope,
  mintToken,
  hashToken,
  isWellFormedToken,
  parseScopes,
  parseExpiry,
} from './tokens.ts';
export { createToken, type CreateTokenOptions } from './create-token.ts';
export {
  readRunbooksFile,
  RUNBOOKS_FILE_VARIABLE,
  RunbooksFileError,
  type RunbookAllowList,
} from './runbooks-file.ts';
export { readTeamsFile, TEAMS_FILE_VARIABLE, TeamsFileError, type Teams } from './teams-file.ts';
export {
  createSigDevServer,
  SigReceived,
  type SigDevServer,
  type SigDevServerOptions,
} from './sig-dev-server/index.ts';
export type { SbomLookup, SbomMatch, StoredSbom } from './api-store.ts';
export { findSbomMatches } from './sbom-query.ts';
