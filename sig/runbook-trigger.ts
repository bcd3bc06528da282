import type { SigRunbookTrigger } from '../core/index.ts';
import type { ContractVersion } from './contract-documents.ts';
import { sigRequest, type SigConnection } from './http.ts';

/**
 * SIG's side of the runbook trigger (POST /v1/runbooks/{namespace}/{name}/trigger on
 * `maestro server`): what SIG, or a test standing in for it, calls. The body says its
 * contractVersion; for an older Maestro, v3's correlationId travels as requestId.
 */
export async function triggerRunbook(
  conn: SigConnection,
  runbook: { namespace: string; name: string },
  request: Omit<SigRunbookTrigger.TriggerRequest, 'contractVersion'>,
  version: ContractVersion = 3,
): Promise<SigRunbookTrigger.TriggerResult> {
  let body: Record<string, unknown> = { contractVersion: version, ...request };
  if (version < 3) {
    const { correlationId, ...rest } = body;
    body = { ...rest, requestId: rest.requestId ?? correlationId };
  }
  if (version < 2) delete body.reason;
  const path = `/v1/runbooks/${encodeURIComponent(runbook.namespace)}/${encodeURIComponent(runbook.name)}/trigger`;
  return (await sigRequest(conn, 'POST', path, body)).body as SigRunbookTrigger.TriggerResult;
}
