import type { SigClaims } from '../core/index.ts';
import type { ContractVersion } from './contract-documents.ts';
import { claimForVersion, receiptLinkForVersion } from './downgrade.ts';
import { sigRequest, type SigConnection } from './http.ts';
import { negotiateVersion } from './negotiate.ts';

export interface ClaimsClient {
  readonly version: ContractVersion;
  /** Registers a claim; the same idempotencyKey again returns the claim made the first time. */
  register(
    claim: SigClaims.ClaimRequest,
  ): Promise<{ claim: SigClaims.Claim; created: boolean; dropped: string[] }>;
  /** Links receipts by digest; a digest already linked is kept once. */
  link(claimId: string, receipts: readonly SigClaims.ReceiptLink[]): Promise<SigClaims.Claim>;
  get(claimId: string): Promise<SigClaims.Claim>;
}

/** The claims and provenance client, on the highest contract version both sides speak. */
export async function openClaimsClient(
  conn: SigConnection,
  version?: ContractVersion,
): Promise<ClaimsClient> {
  const v = version ?? (await negotiateVersion(conn, 'claims'));
  const get = async (claimId: string) =>
    (await sigRequest(conn, 'GET', `/v${v}/claims/${encodeURIComponent(claimId)}`)).body as SigClaims.Claim;
  return {
    version: v,
    async register(claim) {
      const down = claimForVersion(claim, v);
      const answer = await sigRequest(conn, 'POST', `/v${v}/claims`, down.value);
      return { claim: answer.body as SigClaims.Claim, created: answer.status === 201, dropped: down.dropped };
    },
    async link(claimId, receipts) {
      // The contract bounds one request to 100 links; more go in several, each idempotent.
      let claim: SigClaims.Claim | undefined;
      for (let i = 0; i < receipts.length; i += 100) {
        const body = { receipts: receipts.slice(i, i + 100).map((r) => receiptLinkForVersion(r, v)) };
        claim = (
          await sigRequest(conn, 'POST', `/v${v}/claims/${encodeURIComponent(claimId)}/receipts`, body)
        ).body as SigClaims.Claim;
      }
      return claim ?? get(claimId);
    },
    get,
  };
}

/** A run's receipt as the claims contract links it: the digest of its signed bundle. */
export interface RunReceipt {
  runId: string;
  taskId: string;
  /** sha256 of the receipt's bundle, hex or `sha256:`-prefixed. */
  digest: string;
  location?: string;
}

/** Links each receipt of a run to the claim its task made (the claim ids by task id). */
export async function linkRunReceipts(
  client: ClaimsClient,
  claimsByTask: Readonly<Record<string, string>>,
  receipts: readonly RunReceipt[],
): Promise<Map<string, SigClaims.Claim>> {
  const byClaim = new Map<string, SigClaims.ReceiptLink[]>();
  for (const r of receipts) {
    const claimId = claimsByTask[r.taskId];
    if (!claimId) continue;
    const digest = r.digest.startsWith('sha256:') ? r.digest : `sha256:${r.digest}`;
    const link: SigClaims.ReceiptLink = {
      digest,
      runId: r.runId,
      taskId: r.taskId,
      ...(r.location ? { location: r.location } : {}),
    };
    byClaim.set(claimId, [...(byClaim.get(claimId) ?? []), link]);
  }
  const linked = new Map<string, SigClaims.Claim>();
  for (const [claimId, links] of byClaim) linked.set(claimId, await client.link(claimId, links));
  return linked;
}
