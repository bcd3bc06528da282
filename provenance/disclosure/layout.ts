/** Where each kind of file lives inside a disclosure archive. One place, used by pack and verify. */
export const INDEX_MEDIA_TYPE = 'application/vnd.summit-maestro.disclosure.index.v1+json';
export const INDEX_FILE = 'index.json';
export const INDEX_BUNDLE_FILE = 'index.sigstore.json';
export const PLAN_FILE = 'run/plan.json';
export const MANIFEST_FILE = 'run/manifest.yaml';
export const RUN_RECEIPT_FILE = 'receipts/run.sigstore.json';
export const POLICY_DECISIONS_FILE = 'policy/decisions.jsonl';
export const APPROVAL_FILE = 'approval/attestation.sigstore.json';
export const PUBLIC_KEY_FILE = 'verification/public-key.pem';
export const TRUSTED_ROOT_FILE = 'verification/trusted-root.json';

export function attemptReceiptFile(taskId: string, attempt: number): string {
  return `receipts/${taskId}/${attempt}.sigstore.json`;
}
export function artifactFile(taskId: string, attempt: number, path: string): string {
  return `artifacts/${taskId}/${attempt}/${path}`;
}

/** `receipts/<task>/<n>.sigstore.json` → its task and attempt, or undefined. */
export function parseAttemptReceiptFile(path: string): { taskId: string; attempt: number } | undefined {
  const match = /^receipts\/(.+)\/(\d+)\.sigstore\.json$/.exec(path);
  return match ? { taskId: match[1]!, attempt: Number(match[2]) } : undefined;
}
/** `artifacts/<task>/<n>/<path>` → its parts, or undefined. */
export function parseArtifactFile(
  path: string,
): { taskId: string; attempt: number; path: string } | undefined {
  const match = /^artifacts\/([^/]+)\/(\d+)\/(.+)$/.exec(path);
  return match ? { taskId: match[1]!, attempt: Number(match[2]), path: match[3]! } : undefined;
}

export interface DisclosureIndexEntry {
  path: string;
  sha256: string;
  size: number;
}
export interface DisclosureIndex {
  mediaType: typeof INDEX_MEDIA_TYPE;
  runId: string;
  createdAt: string;
  signer: { kind: string; keyFingerprint?: string };
  files: DisclosureIndexEntry[];
}
