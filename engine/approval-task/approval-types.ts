/** What the surfaces hand the engine for approval tasks (EngineOptions.approvals, Engine.approveTask). */
import type { ProvenanceSigner } from '../../provenance/index.ts';
import type { DecisionRecord } from '../../policy/index.ts';

export interface ApprovalKeys {
  /** The approval key (MAESTRO_APPROVAL_SIGNING_KEY), with its public key to verify what it signed. */
  signer: ProvenanceSigner;
  /** The decision log every approval, escalation and timeout is appended to. */
  log?: { append(record: DecisionRecord): Promise<unknown> };
}

export interface TaskApprovalRequest {
  /** The person approving, as the surface authenticated them (token user, GitHub reviewer). */
  approver: string;
  /** `api` (REST API, console) or `github` (a pull-request review through the App). */
  via: 'api' | 'github';
  /** Teams the surface found the approver in (the API's teams file, GitHub's team membership). */
  teams?: readonly string[];
  /** The pull-request review it came from. */
  review?: { id: number; pullRequest: number; commit: string };
}
