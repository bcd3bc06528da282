// The public face of sig/: the SIG contracts (schemas/sig/) compiled for validation, and the
// clients for ingest (batch and stream), claims and provenance, and runbook triggers.
export {
  CONTRACTS,
  CONTRACT_VERSIONS,
  CURRENT_VERSION,
  contractDocuments,
  type ContractName,
  type ContractVersion,
} from './contract-documents.ts';
export { ContractRegistry, type ContractProblem, type Operation } from './contract-validator.ts';
export {
  SigRequestError,
  SigUnreachableError,
  SigVersionError,
  SigNotRepresentableError,
  SigStreamError,
} from './errors.ts';
export { sigRequest, DEFAULT_RETRY, type SigConnection, type RetryOptions } from './http.ts';
export { negotiateVersion } from './negotiate.ts';
export { recordForVersion, recordsForVersion, claimForVersion, receiptLinkForVersion } from './downgrade.ts';
export { ingestBatches, MAX_BATCH, type IngestBatchOptions, type IngestResult } from './ingest-batch.ts';
export { ingestStream, type StreamOptions, type StreamResult } from './ingest-stream.ts';
export { openClaimsClient, linkRunReceipts, type ClaimsClient, type RunReceipt } from './claims.ts';
export { triggerRunbook } from './runbook-trigger.ts';
export { ndjsonLines } from './ndjson-lines.ts';
