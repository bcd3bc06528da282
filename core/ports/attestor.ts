/**
 * The provenance seam: after every task attempt (succeeded, failed or cancelled) and every run,
 * the engine hands the evidence it recorded to an Attestor, which returns a signed receipt the
 * engine stores. The control plane writes every field; a task only contributes its outputs.
 */
import type { AttemptImage } from './image-gate.ts';
import type { AttemptIsolation } from './runner.ts';
import type { RunSource } from './source.ts';
export interface DigestedFile {
  /** Path relative to the attempt's artifacts directory, with `/` separators. */
  path: string;
  digest: string;
  size: number;
}

export interface AttemptEvidence {
  runId: string;
  taskId: string;
  attempt: number;
  attemptId: string;
  planDigest: string;
  workflow: { name: string; namespace: string };
  params: Record<string, unknown>;
  /** The task's definition digest and code digest (image or task package digest, when known). */
  definitionDigest: string;
  codeDigest?: string;
  runner: string;
  /** Resolved inputs by name (env names, `with` keys, argv) mapped to their sha256 digest. */
  inputDigests: Record<string, string>;
  outputs: Record<string, string>;
  artifacts: DigestedFile[];
  /** The final state of this attempt: succeeded, failed, cancelled, timed_out, cached. */
  status: string;
  exitCode: number | null;
  startedAt: number;
  finishedAt: number;
  cache: { hit: boolean; key?: string };
  /** `off` when policy was turned off on purpose (`policy: off`): the receipt says so. */
  policy: { decisionIds: string[]; bundleDigest?: string; off?: true };
  approvalDigest?: string;
  /** The repository and commit the attempt's workspace held. */
  source?: RunSource;
  /** What the attempt ran in (sandbox and network), when its runner said. */
  isolation?: AttemptIsolation;
  /** The image the attempt ran (or was refused), by digest, when an image policy checked it. */
  image?: AttemptImage;
  /** Artifacts the attempt received from the tasks it needs, paths `<task>/<path>`. */
  inputArtifacts?: DigestedFile[];
  /** Set when this attempt ran because the previous one was lost to an engine or worker crash. */
  reattemptOf?: { attempt: number; attemptId: string; interruptedBy: string; reattempt: number };
  /**
   * What the attempt cost: its runner and class's price per hour, the budget guard's estimate, and
   * the actual cost (price × measured duration), in the price table's currency (docs/budgets.md).
   */
  cost?: { currency: string; pricePerHour: number; estimated: number; actual: number };
  /** Where the runner placed the attempt (a Kubernetes cluster and namespace), as recorded. */
  placement?: { cluster: string; namespace?: string };
}

export interface RunEvidence {
  runId: string;
  planDigest: string;
  workflow: { name: string; namespace: string };
  params: Record<string, unknown>;
  status: string;
  startedAt: number;
  finishedAt: number;
  /** Digests of the attempt receipts in this run, by `taskId#attempt`. */
  attemptReceipts: Record<string, string>;
  /** True when policy was turned off on purpose for this run. */
  policyOff?: true;
  approvalDigest?: string;
  source?: RunSource;
}

export interface SignedReceipt {
  /** sha256 of the in-toto statement. */
  digest: string;
  /** The standard Sigstore bundle (JSON), with a DSSE envelope over the statement. */
  bundle: unknown;
}

export interface Attestor {
  attestAttempt(evidence: AttemptEvidence): Promise<SignedReceipt>;
  attestRun(evidence: RunEvidence): Promise<SignedReceipt>;
}
