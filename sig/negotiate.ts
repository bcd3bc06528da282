import { CONTRACT_VERSIONS, type ContractName, type ContractVersion } from './contract-documents.ts';
import { SigRequestError, SigVersionError } from './errors.ts';
import { sigRequest, type SigConnection } from './http.ts';

const FIELD: Record<ContractName, string> = {
  ingest: 'ingest',
  claims: 'claims',
  'runbook-trigger': 'runbookTrigger',
};

/**
 * Asks SIG which majors of a contract it speaks (GET /versions) and returns the highest one this
 * client knows too. A server without /versions (404) is taken to speak v1 only.
 */
export async function negotiateVersion(
  conn: SigConnection,
  contract: ContractName,
  ours: readonly ContractVersion[] = CONTRACT_VERSIONS,
): Promise<ContractVersion> {
  let theirs: number[];
  try {
    const { body } = await sigRequest(conn, 'GET', '/versions');
    theirs = ((body as { contracts?: Record<string, number[]> })?.contracts?.[FIELD[contract]] ?? []).filter(
      Number.isInteger,
    );
  } catch (error) {
    if (!(error instanceof SigRequestError && error.status === 404)) throw error;
    theirs = [1];
  }
  const common = ours.filter((v) => theirs.includes(v));
  if (common.length === 0) throw new SigVersionError(contract, ours, theirs);
  return Math.max(...common) as ContractVersion;
}
