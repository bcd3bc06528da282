// Test-only stand-in for the GitHub REST API (see README.md).
export {
  GitHubStandIn,
  type StandInCheckRun,
  type StandInPull,
  type StandInReview,
  type RecordedRequest,
} from './standin.ts';
export { TestRepository, git } from './git-repo.ts';
export { OpenApiCheck } from './openapi-check.ts';
export type { GitHttpRequestRecord } from './git-http.ts';
export { webhookExample, signedDelivery, type Delivery, type Payload } from './webhooks.ts';
