// Every SIG contract document, imported (not read from disk) so a bundle of sig/ carries them.
import versions from '../schemas/sig/versions.schema.json' with { type: 'json' };
import problem from '../schemas/sig/problem.schema.json' with { type: 'json' };
import ingest1 from '../schemas/sig/ingest/v1/ingest.schema.json' with { type: 'json' };
import ingest1Api from '../schemas/sig/ingest/v1/openapi.json' with { type: 'json' };
import ingest2 from '../schemas/sig/ingest/v2/ingest.schema.json' with { type: 'json' };
import ingest2Api from '../schemas/sig/ingest/v2/openapi.json' with { type: 'json' };
import ingest3 from '../schemas/sig/ingest/v3/ingest.schema.json' with { type: 'json' };
import ingest3Api from '../schemas/sig/ingest/v3/openapi.json' with { type: 'json' };
import claims1 from '../schemas/sig/claims/v1/claims.schema.json' with { type: 'json' };
import claims1Api from '../schemas/sig/claims/v1/openapi.json' with { type: 'json' };
import claims2 from '../schemas/sig/claims/v2/claims.schema.json' with { type: 'json' };
import claims2Api from '../schemas/sig/claims/v2/openapi.json' with { type: 'json' };
import claims3 from '../schemas/sig/claims/v3/claims.schema.json' with { type: 'json' };
import claims3Api from '../schemas/sig/claims/v3/openapi.json' with { type: 'json' };
import trigger1 from '../schemas/sig/runbook-trigger/v1/runbook-trigger.schema.json' with { type: 'json' };
import trigger1Api from '../schemas/sig/runbook-trigger/v1/openapi.json' with { type: 'json' };
import trigger2 from '../schemas/sig/runbook-trigger/v2/runbook-trigger.schema.json' with { type: 'json' };
import trigger2Api from '../schemas/sig/runbook-trigger/v2/openapi.json' with { type: 'json' };
import trigger3 from '../schemas/sig/runbook-trigger/v3/runbook-trigger.schema.json' with { type: 'json' };
import trigger3Api from '../schemas/sig/runbook-trigger/v3/openapi.json' with { type: 'json' };

export const CONTRACTS = ['ingest', 'claims', 'runbook-trigger'] as const;
export type ContractName = (typeof CONTRACTS)[number];
export type ContractVersion = 1 | 2 | 3;
/** The majors this build knows, oldest first; the last is today's. */
export const CONTRACT_VERSIONS: readonly ContractVersion[] = [1, 2, 3];
export const CURRENT_VERSION: ContractVersion = 3;

export interface ContractDocuments {
  /** The OpenAPI 3.1 document. */
  openapi: Record<string, unknown>;
  /** The payload schema (JSON Schema 2020-12) the OpenAPI document refers to. */
  payloads: { $id: string } & Record<string, unknown>;
}

const DOCUMENTS: Record<ContractName, Record<ContractVersion, ContractDocuments>> = {
  ingest: {
    1: { openapi: ingest1Api, payloads: ingest1 },
    2: { openapi: ingest2Api, payloads: ingest2 },
    3: { openapi: ingest3Api, payloads: ingest3 },
  },
  claims: {
    1: { openapi: claims1Api, payloads: claims1 },
    2: { openapi: claims2Api, payloads: claims2 },
    3: { openapi: claims3Api, payloads: claims3 },
  },
  'runbook-trigger': {
    1: { openapi: trigger1Api, payloads: trigger1 },
    2: { openapi: trigger2Api, payloads: trigger2 },
    3: { openapi: trigger3Api, payloads: trigger3 },
  },
};

/** The schemas every contract shares (GET /versions, the problem answer). */
export const SHARED_SCHEMAS: ReadonlyArray<{ $id: string } & Record<string, unknown>> = [versions, problem];

export function contractDocuments(name: ContractName, version: ContractVersion): ContractDocuments {
  return DOCUMENTS[name][version];
}

/** Where a contract's OpenAPI document sits, as a URL its relative `$ref`s resolve against. */
export function openApiBase(name: ContractName, version: ContractVersion): string {
  return `https://maestro.dev/schemas/sig/${name}/v${version}/openapi.json`;
}
