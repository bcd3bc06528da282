import type { ProvenanceSigner } from '../../provenance/index.ts';
import type { AppStore } from '../app-store.ts';
import type { GitHubClient } from '../github/github-client.ts';
import type { CompiledManifest } from '../source/compile-snapshot.ts';
import type { RepositorySnapshot } from '../source/read-repository.ts';
import type { GateRule, SensitivityCheck } from './approval-rules.ts';
import type { ApprovalResult } from '../../policy/index.ts';

export interface PullRequestRef {
  number: number;
  author: string;
  headSha: string;
  baseSha: string;
}

export interface GateContext {
  client: GitHubClient;
  store: AppStore;
  signer: ProvenanceSigner;
  sensitive: SensitivityCheck;
  now: () => number;
  /** Compiles the manifests at another commit (for carrying approvals across a digest-equal push). */
  digestsAt: (sha: string) => Promise<Record<string, string>>;
  /** Approvals a head-only workflow with secrets or privileged runners needs (default 1). */
  defaultRequired: number;
  /** How long an approval, and so an attestation, stays valid. */
  approvalTtlMs: number;
}

export interface Commit {
  snapshot: RepositorySnapshot;
  compiled: readonly CompiledManifest[];
}

export interface WorkflowGate {
  workflow: string;
  file: string;
  digest: string;
  rules: { rule: GateRule; result: ApprovalResult }[];
  satisfied: boolean;
  attestationDigest?: string;
}
